import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import { CDK_CONTEXT, exampleConfig, ROOT } from './util';

/** Synthesise with real esbuild bundling and return the asset folder of the stack's predictive function. */
function bundledPredictive(config: ReturnType<typeof exampleConfig>): string {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlscale-bundle-'));
  const { app, stacks } = buildApp({
    config: parseConfig(config),
    environment: 'production',
    // No CloudFormation schema check: ~5 s to load, and `npm run synth` runs it over these templates anyway.
    appProps: { context: { ...CDK_CONTEXT, 'aws:cdk:enable-asset-metadata': true }, outdir, builtinCloudFormationValidation: false },
    nag: false,
  });
  app.synth();
  const template = JSON.parse(readFileSync(path.join(outdir, `${stacks[0]!.stackName}.template.json`), 'utf8'));
  const [, fn] = Object.entries(template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('PredictiveFunction'),
  )!;
  return path.join(outdir, fn.Metadata!['aws:asset:path']!);
}

describe('Lambda bundles', () => {
  it('run the handler from the bundle alone, with a large targets document compiled in', () => {
    const config = exampleConfig();
    config.plannedEvents = Array.from({ length: 40 }, (_, i) => ({
      name: `event-${String(i).padStart(2, '0')}`,
      pool: 'engine',
      start: '2030-01-01T10:00:00Z',
      end: '2030-01-01T12:00:00Z',
      replicas: 6,
    }));
    const asset = bundledPredictive(config);
    expect(existsSync(path.join(asset, 'index.js'))).toBe(true);
    expect(readdirSync(asset)).toContain('index.js.map');
    // About 110 KiB of handler, zod/mini and Powertools, 125 KiB of the X-Ray SDK the Tracer brings, and the
    // compiled-in document. Bundling the AWS SDK (the runtime has it) or classic zod would break this bound.
    expect(statSync(path.join(asset, 'index.js')).size).toBeLessThan(400 * 1024);

    // A fresh Node process, no MLSCALE_CONFIG, every AWS call refused: the handler must still know its targets.
    const script = `
      require(${JSON.stringify(path.join(asset, 'index.js'))}).handler({}).then(
        (r) => console.log(JSON.stringify(r)),
        (e) => { console.log(e.message); process.exit(3); });`;
    const run = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        NODE_PATH: path.join(ROOT, 'node_modules'),
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    // (The SDK may warn on stderr that it will need Node 22 from 2027; that is not a failure.)
    // Both predictive pools are there (from the compiled-in document); both failed to reach "AWS",
    // so the invocation fails and says which targets it tried.
    expect(run.status, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^every target failed: engine: .*; cpu-modules: /);
  });
});
