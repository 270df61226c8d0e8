import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare } from '../../src/sim/compare';
import { POLICIES } from '../../src/sim/simulate';
import { bundledTrace, runCli, simPool, type CliRun } from './helpers';

const DIR = mkdtempSync(path.join(tmpdir(), 'mlscale-sim-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const f = path.join(DIR, name);
  writeFileSync(f, content);
  return f;
}

const SMALL = file(
  'small.csv',
  ['timestamp,rps', ...Array.from({ length: 30 }, (_, m) => `2026-06-02T10:${String(m).padStart(2, '0')}:00Z,${m < 15 ? 80 : 300}`)].join('\n'),
);

const DESIGN_FIELDS = ['taskMinutes', 'violationMinutes', 'peakBacklog', 'scaleActions', 'coldStarts', 'costUsd'];

/** stdout is one JSON object and nothing else; stderr is empty. */
function onlyJson(run: CliRun): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const doc = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(typeof doc).toBe('object');
  expect(run.stdout.trimStart().startsWith('{')).toBe(true);
  expect(run.stdout.trimEnd().endsWith('}')).toBe(true);
  return doc;
}

function expectPolicyFields(policy: unknown, label: string): void {
  for (const f of DESIGN_FIELDS) {
    const v = (policy as Record<string, unknown>)[f];
    expect(typeof v, `${label}.${f}`).toBe('number');
    expect(Number.isFinite(v) && (v as number) >= 0, `${label}.${f} = ${String(v)}`).toBe(true);
  }
}

/** A failure: one `Error:` line on stderr, nothing on stdout, a non-zero exit code. */
function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.code).not.toBe(0);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^Error: [^\n]+\n$/);
  expect(run.stderr).toMatch(pattern);
}

type Doc = { minutes: number; pool: Record<string, unknown>; policies: Record<string, Record<string, number>>; trace: Record<string, unknown>; tuned?: unknown };

describe('mlscale simulate --json', () => {
  it('prints the DESIGN.md document for the bundled day on the engine, and nothing else', async () => {
    const doc = onlyJson(await runCli('simulate', '--json')) as Doc;
    expect(doc.minutes).toBe(1440);
    expect(doc.pool).toMatchObject({ name: 'engine', minCapacity: 2, maxCapacity: 10, capacityPerTask: 50, startupSeconds: 60 });
    expect(Object.keys(doc.policies)).toEqual([...POLICIES]);
    for (const p of POLICIES) expectPolicyFields(doc.policies[p], p);
    expect(doc).not.toHaveProperty('tuned');
    // The same numbers as the library on the same input.
    const c = compare(bundledTrace(), simPool('engine'));
    for (const p of POLICIES) {
      for (const f of DESIGN_FIELDS) expect(doc.policies[p]![f], `${p}.${f}`).toBe(c.policies[p][f as keyof (typeof c.policies)[typeof p]]);
    }
  });

  it('--tune adds tuned: the held-out minutes, the recommended config and the held-out mlscale and oracle', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--tune')) as Doc & {
      tuned: { minutes: number; config: Record<string, number>; changes: { path: string; from: number; to: number }[]; policies: Record<string, unknown> };
    };
    expect(doc.tuned.minutes).toBe(720);
    expect(Object.keys(doc.tuned.config).sort()).toEqual(
      ['cpuPercent', 'drainSeconds', 'headroom', 'idleMinutes', 'leadMinutes', 'scaleInCooldownSeconds', 'scaleOutCooldownSeconds'].sort(),
    );
    expectPolicyFields(doc.tuned.policies.mlscale, 'tuned.mlscale');
    expectPolicyFields(doc.tuned.policies.oracle, 'tuned.oracle');
    const defaults = simPool('engine').tunables;
    for (const ch of doc.tuned.changes) {
      expect(ch.path).toMatch(/^(thresholds\.cpuPercent|pools\[0\]\.[A-Za-z.]+)$/);
      expect(ch.from).not.toBe(ch.to);
    }
    const changed = Object.keys(defaults).filter((k) => doc.tuned.config[k] !== defaults[k as keyof typeof defaults]);
    expect(doc.tuned.changes).toHaveLength(changed.length);
  });

  it('--policy lists only the policies asked for', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--policy', 'oracle,mlscale')) as Doc;
    expect(Object.keys(doc.policies)).toEqual(['oracle', 'mlscale']);
  });

  it('--pool gpu-modules --peak-utilization 0.8 replays the trace on the GPU pool, its peak at 0.8 × full capacity', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--pool', 'gpu-modules', '--peak-utilization', '0.8')) as Doc;
    expect(doc.pool).toMatchObject({ name: 'gpu-modules', minCapacity: 0, maxCapacity: 5, capacityPerTask: 8, startupSeconds: 300 });
    expect(doc.trace.peakRps).toBe(32);
    expect(doc.policies.mlscale!.coldStarts).toBeGreaterThanOrEqual(1);
  });

  it('reads a user trace given with --trace', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--trace', SMALL)) as Doc;
    expect(doc.minutes).toBe(30);
    expect(doc.trace).toMatchObject({ name: 'small.csv', start: '2026-06-02T10:00:00.000Z', peakRps: 300 });
  });
});

describe('mlscale simulate (table)', () => {
  it('prints a title line and one row per policy, with the numbers of --json', async () => {
    const run = await runCli('simulate');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('mlscale simulation: engine (production) on synthetic-day.csv: 1440 minutes, peak 622.14 req/s');
    // One word per header, so awk '{print $2}' reads the task-minutes.
    expect(lines[2]!.split(/\s+/)).toEqual(['POLICY', 'TASK_MIN', 'X_ORACLE', 'COST_USD', 'VIOLATION_MIN', 'VIOLATION_PCT', 'PEAK_BACKLOG', 'SCALE_ACTIONS', 'COLD_STARTS', 'EMERGENCIES']);
    const rows = lines.slice(3);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual([...POLICIES]);
    const c = compare(bundledTrace(), simPool('engine'));
    for (const row of rows) {
      const [name, taskMinutes, , cost, violations] = row.split(/\s+/);
      const r = c.policies[name as (typeof POLICIES)[number]];
      expect([Number(taskMinutes), Number(cost), Number(violations)], name).toEqual([r.taskMinutes, r.costUsd, r.violationMinutes]);
    }
  });

  it('--policy prints only those rows; --peak-utilization says the trace was rescaled', async () => {
    const run = await runCli('simulate', '--policy', 'oracle', '--pool', 'gpu-modules', '--peak-utilization', '0.8');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toContain('(rescaled: peak = 0.8 × max capacity)');
    expect(lines.slice(3).map((r) => r.split(/\s+/)[0])).toEqual(['oracle']);
  });

  it('--tune prints the changes as config paths and the held-out half', async () => {
    const run = await runCli('simulate', '--tune');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Tuning \(\d+ runs on the first half, ≤ 1 % violation minutes/m);
    expect(run.stdout).toMatch(/^ {2}(thresholds\.cpuPercent|pools\[0\]\.\S+): \S+ -> \S+$|^ {2}the defaults were best; nothing to change$/m);
    expect(run.stdout).toMatch(/^Held-out half \(720 minutes\): tuned \d+ task-minutes/m);
  });
});

describe('mlscale simulate --html', () => {
  const expectSelfContained = (html: string) => {
    expect(html.toLowerCase().startsWith('<!doctype html>')).toBe(true);
    // Charts inlined (uPlot and the data), nothing fetched when the page opens.
    expect(html).toContain('id="chart-capacity"');
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i);
  };

  it('writes a self-contained page with its charts inlined, no network', async () => {
    const out = path.join(DIR, 'nested', 'dir', 'report.html');
    const run = await runCli('simulate', '--html', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`HTML report: ${out}`);
    const html = readFileSync(out, 'utf8');
    expectSelfContained(html);
    expect(html).toContain('id="chart-backlog"');
    for (const p of POLICIES) expect(html).toContain(`>${p}</td>`);
  });

  it('with --tune and --json: the page shows the tuning, stdout stays one JSON object', async () => {
    const out = path.join(DIR, 'tuned.html');
    const run = await runCli('simulate', '--tune', '--json', '--policy', 'mlscale', '--html', out);
    onlyJson(run);
    const html = readFileSync(out, 'utf8');
    expectSelfContained(html);
    expect(html).toContain('Tuning (fitted on the first half, judged on the second)');
  });
});

describe('mlscale simulate errors: one line, non-zero exit', () => {
  it('an unknown policy', async () => {
    expectOneLineError(await runCli('simulate', '--policy', 'oracle,fastest'), /unknown policy 'fastest' \(choose from target-tracking, mlscale, oracle\)/);
    expectOneLineError(await runCli('simulate', '--policy', ','), /--policy: give at least one/);
  });

  it('an unknown pool', async () => {
    expectOneLineError(await runCli('simulate', '--pool', 'nope'), /^Error: --pool: no pool 'nope' in environment production \(pools: engine, cpu-modules, gpu-modules\)/);
  });

  it('a missing trace file', async () => {
    const missing = path.join(DIR, 'missing.csv');
    expectOneLineError(await runCli('simulate', '--trace', missing), /^Error: cannot read trace .*missing\.csv \(ENOENT\)/);
  });

  it('a malformed trace names the file and the line', async () => {
    const bad = file('bad.csv', 'timestamp,rps\n2026-06-02T00:00:00Z,1\nyesterday,2\n');
    expectOneLineError(await runCli('simulate', '--trace', bad), /^Error: trace bad\.csv: line 3: cannot read time 'yesterday'/);
    const headerOnly = file('header.csv', 'timestamp,rps\n');
    expectOneLineError(await runCli('simulate', '--trace', headerOnly, '--json'), /^Error: trace header\.csv: needs a header row/);
  });

  it('--peak-utilization 0, negative or not a number', async () => {
    for (const v of ['0', '-0.5', 'abc']) {
      expectOneLineError(await runCli('simulate', '--trace', SMALL, '--peak-utilization', v), new RegExp(`--peak-utilization must be a number > 0, got '${v}'`));
    }
    expectOneLineError(await runCli('simulate', '--trace', SMALL, '--peak-utilization=-1'), /--peak-utilization must be a number > 0/);
  });

  it('--peak-utilization on a trace with no load, and --tune on a trace under two hours', async () => {
    const idle = file('idle.csv', 'timestamp,rps\n2026-06-02T00:00:00Z,0\n2026-06-02T00:01:00Z,0\n');
    expectOneLineError(await runCli('simulate', '--trace', idle, '--peak-utilization', '0.5'), /^Error: trace idle\.csv: has no load at all/);
    expectOneLineError(await runCli('simulate', '--trace', SMALL, '--tune'), /tuning needs at least two hours/);
  });

  it('writes no report when it fails', async () => {
    const out = path.join(DIR, 'never.html');
    expectOneLineError(await runCli('simulate', '--pool', 'nope', '--html', out), /--pool/);
    expect(existsSync(out)).toBe(false);
  });
});
