/**
 * Lambda cold start: each handler bundled as the CDK bundles it (esbuild,
 * node22, minified, AWS SDK external), its size, and the time a fresh Node
 * process takes to load it (median of several runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

export interface ColdStartResult {
  readonly handler: string;
  readonly bytes: number;
  readonly importMs: number;
}

const ROOT = path.join(__dirname, '..');

function importMs(file: string, runs: number): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_REGION: 'eu-west-1', NODE_NO_WARNINGS: '1' },
    });
    if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function measureColdStarts(handlers = ['reconcile', 'emergency', 'predictive', 'runbook'], runs = 7): ColdStartResult[] {
  const out = mkdtempSync(path.join(tmpdir(), 'mlscale-cold-'));
  return handlers.map((handler) => {
    const outfile = path.join(out, handler, 'index.js');
    buildSync({
      entryPoints: [path.join(ROOT, 'lambdas', handler, 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node22',
      minify: true,
      external: ['@aws-sdk/*'],
      outfile,
      logLevel: 'silent',
    });
    return { handler, bytes: statSync(outfile).size, importMs: importMs(outfile, runs) };
  });
}
