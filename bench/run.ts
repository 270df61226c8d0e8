/**
 * `npm run bench [-- TRACES_FOLDER]`: every benchmark, results written to
 * docs/benchmarks.md with the machine and the date. Not part of `npm test`.
 * TRACES_FOLDER holds `timestamp,value` CSVs (try ../shared/traces).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configureRetries } from '../lambdas/aws/retry';
import { measureColdStarts } from './cold-start';
import { qualityReport } from './decision-quality';
import { scoreForecasts } from './forecast-accuracy';
import { machineLine } from './machine';
import { measureSynth } from './synth-time';
import { measureTestSuite } from './test-suite';
import { measureTick } from './tick-scale';
import { readTraceFolder } from './trace-io';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'eu-west-1';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

async function forecastSection(folder: string | undefined): Promise<string> {
  if (!folder) return '## Forecast accuracy\n\nNot run: give a traces folder (`npm run bench -- ../shared/traces`).\n';
  const rows = readTraceFolder(folder).flatMap((t) => scoreForecasts(t));
  const lines = [
    '## Forecast accuracy (predictive Lambda)',
    '',
    `Traces from \`${folder}\`, hourly peaks; rolling origin every 6 hours; 14 days of history (half the trace when shorter); 6-hour horizon — what the predictive Lambda does each hour.`,
    'WAPE = Σ|forecast − actual| / Σ actual (lower is better); "under" = share of hours forecast more than 10 % too low (the ones that cost latency).',
    '`linear-regression` is the reference scaler\'s model; `auto` is the default.',
    '',
    '| trace | model | origins | WAPE | under by > 10 % | ms per forecast |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.trace} | ${r.model} | ${r.origins} | ${pct(r.wape)} | ${pct(r.underTenPct)} | ${r.msPerForecast.toFixed(2)} |`),
  ];
  return lines.join('\n') + '\n';
}

function qualitySection(folder: string | undefined): string {
  const files = folder ? readdirSync(folder).filter((f) => f.endsWith('.csv')).sort() : [];
  return qualityReport(path.join(__dirname, '..', 'traces', 'synthetic-day.csv'), folder, files);
}

async function tickSection(): Promise<string> {
  configureRetries({ baseDelayMs: 1 });
  const ops = ['cloudwatch:getMetricData', 'ecs:describeServices', 'applicationautoscaling:describeScalableTargets', 'dynamodb:scan', 'dynamodb:putItem', 'dynamodb:query', 'applicationautoscaling:registerScalableTarget', 'ecs:updateService'];
  const lines = [
    '## Scale of one reconciler pass',
    '',
    'ECS scale-to-zero targets with a holds table, against a fake AWS account where every call takes 20 ms (test/fakes behind aws-sdk-client-mock). *steady*: every target in line (half busy under a live wake hold, half idle at zero): the common minute. *burst*: every target changes: half wake from zero (wake hold written, limits then desired raised, holds re-read once), half go to zero. Goal: 1,000 targets well within the 55 s timeout; reads growing with targets / 500 (metrics), / 10 (services), / 50 (scalable targets).',
    '',
    `| targets | scenario | wall time | ${ops.map((o) => o.split(':')[1]).join(' | ')} |`,
    `|---:|---|---:|${ops.map(() => '---:').join('|')}|`,
  ];
  for (const n of [10, 100, 1_000, 5_000]) {
    for (const scenario of ['steady', 'burst'] as const) {
      const r = await measureTick(n, scenario);
      lines.push(`| ${n.toLocaleString('en-US')} | ${scenario} | ${(r.wallMs / 1000).toFixed(2)} s | ${ops.map((o) => r.calls[o] ?? 0).join(' | ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

function coldStartSection(): string {
  const rows = measureColdStarts();
  return [
    '## Lambda cold start',
    '',
    'Each handler bundled as the CDK bundles it (esbuild, node22, minified, AWS SDK external — the runtime provides it); size of the bundle and median time for a fresh Node process to load it (7 runs, this machine, not Lambda).',
    '',
    '| handler | bundle | load time |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${r.handler} | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.importMs.toFixed(0)} ms |`),
  ].join('\n') + '\n';
}

function synthSection(): string {
  const r = measureSynth();
  return [
    '## Synth time',
    '',
    `\`cdk synth --quiet\` of the default app (two environments, Lambda bundling, cdk-nag): median ${(r.medianMs / 1000).toFixed(1)} s over ${r.runsMs.length} runs (${r.runsMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s).`,
  ].join('\n') + '\n';
}

async function testSuiteSection(): Promise<string> {
  const r = await measureTestSuite();
  return [
    '## `npm test`',
    '',
    'The README\'s test command (type check, lint, every vitest test, a synth of the default app), one run, as CI runs it after `npm ci`. Memory: the peak of the summed resident set of the whole process tree, sampled every 250 ms. Goal: under 3 minutes on this machine.',
    '',
    '| | wall time | peak memory | exit code |',
    '|---|---:|---:|---:|',
    // A record from the issue that asked for the speed-up (issue #12), not a measurement of this tree.
    '| before (issue #12: "about 6 minutes and 2 GB") | about 6 min | about 2 GB | 0 |',
    `| this run | ${Math.floor(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s | ${(r.peakMiB / 1024).toFixed(2)} GiB | ${r.exitCode} |`,
  ].join('\n') + '\n';
}

async function main(): Promise<void> {
  const folder = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  if (folder && !existsSync(folder)) throw new Error(`traces folder ${folder} does not exist`);
  const sections: string[] = [];
  for (const [name, run] of [
    ['decision quality', async () => qualitySection(folder)],
    ['forecast accuracy', () => forecastSection(folder)],
    ['tick scale', tickSection],
    ['cold start', async () => coldStartSection()],
    ['synth time', async () => synthSection()],
    ['npm test', testSuiteSection],
  ] as const) {
    // Progress on stderr (stdout carries the document): each section as it starts and how long it took.
    const started = performance.now();
    console.error(`bench: ${name}...`);
    sections.push(await run());
    console.error(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const doc = ['# Benchmarks', '', `Machine and date: ${machineLine()}.`, '', 'Regenerate with `npm run bench -- ../shared/traces`.', '', ...sections].join('\n');
  const out = path.join(__dirname, '..', 'docs', 'benchmarks.md');
  writeFileSync(out, doc);
  console.log(doc);
}

main().catch((err: unknown) => {
  console.error(`Error: ${(err as Error).message}`);
  process.exit(1);
});
