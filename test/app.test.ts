import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleConfig, ROOT } from './util';

const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Run bin/app.ts the way the CDK CLI does, with no AWS credentials at all. */
function runApp(context: Record<string, string>) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlscale-out-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmpdir(), CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) };
  const result = spawnSync(TSX, [path.join(ROOT, 'bin', 'app.ts')], { cwd: ROOT, env, encoding: 'utf8' });
  return { ...result, outdir, templates: existsSync(outdir) ? readdirSync(outdir).filter((f) => f.endsWith('.template.json')) : [] };
}

describe('bin/app.ts', () => {
  it('synthesises one stack per environment with no credentials', () => {
    const run = runApp({});
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.templates.sort()).toEqual(['MlscalePipestreamProduction.template.json', 'MlscalePipestreamStaging.template.json']);
  });

  it('synthesises only the environment given with -c env=', () => {
    const run = runApp({ env: 'staging' });
    expect(run.status).toBe(0);
    expect(run.templates).toEqual(['MlscalePipestreamStaging.template.json']);
  });

  it('fails on a bad config with one line naming the field, and writes no template', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-bad-'));
    const config = exampleConfig();
    config.pools[0]!.minCapacity = 11;
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(config));
    const run = runApp({ config: file });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^Error: Invalid .*bad\.json: /);
    expect(run.stderr).toContain('pools[0].minCapacity: must be <= maxCapacity, got 11 > 10');
    // Staging caps the engine at 4 tasks: that override is named too.
    expect(run.stderr).toContain('environments[0].pools.engine.maxCapacity: must be >= minCapacity, got 4 < 11');
    expect(run.templates).toEqual([]);
  });
});
