import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compare } from '../../src/sim/compare';
import { POLICIES } from '../../src/sim/simulate';
import { bundledTrace, runCli, simPool, type CliRun } from './helpers';

const DIR = mkdtempSync(path.join(tmpdir(), 'mlscale-sim-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const f = path.join(DIR, name);
  writeFileSync(f, content);
  return f;
}

const SMALL = file(
  'small.csv',
  ['timestamp,rps', ...Array.from({ length: 30 }, (_, m) => `2026-06-02T10:${String(m).padStart(2, '0')}:00Z,${m < 15 ? 80 : 300}`)].join('\n'),
);

/** 30-minute rows (one missing), 0 to 90: interpolated, one gap. */
const COARSE = file('coarse.csv', ['timestamp,value', ...[0, 30, 60, 120, 150].map((m, i) => `${new Date(Date.UTC(2026, 5, 2, 10, m)).toISOString()},${[0, 30, 60, 90, 60][i]}`)].join('\n'));

/** Six hours of engine load: an hour's ramp to a two-hour wave around 200 req/s (test/sim/tune.test.ts's WAVE). */
const WAVE = file(
  'wave.csv',
  [
    'timestamp,rps',
    ...Array.from({ length: 360 }, (_, m) => `${new Date(Date.UTC(2026, 5, 2, 6, m)).toISOString()},${50 + Math.min(1, m / 60) * (150 + 60 * Math.sin((2 * Math.PI * m) / 120))}`),
  ].join('\n'),
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

  it('--tune adds tuned: the held-out minutes, the recommended config, the verdict and the held-out mlscale and oracle', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--tune')) as Doc & {
      notes: string[];
      tuned: {
        minutes: number;
        config: Record<string, number>;
        changes: { path: string; from: number; to: number }[];
        policies: Record<string, unknown>;
        recommend: boolean;
        reason: string;
        fragment: Record<string, unknown> | null;
      };
    };
    // On the bundled day the first half's best does worse on the second half: keep the defaults.
    expect(doc.tuned.recommend).toBe(false);
    expect(doc.tuned.reason).toMatch(/^Keep the defaults: on the held-out half the tuned values \(.+\) used [\d,]+ task-minutes/);
    expect(doc.tuned.fragment).toBeNull();
    expect(doc.notes).toContain(`Tuning: ${doc.tuned.reason}`);
    expect(Object.keys(doc.tuned.policies)).toEqual(['mlscale', 'oracle', 'mlscale-defaults', 'target-tracking', 'target-tracking-cpu']);
    expect(doc.tuned.minutes).toBe(720);
    expect(Object.keys(doc.tuned.config).sort()).toEqual(
      ['cpuPercent', 'drainSeconds', 'headroom', 'idleMinutes', 'leadMinutes', 'scaleInCooldownSeconds', 'scaleInMinutes', 'scaleOutCooldownSeconds'].sort(),
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

  it('--policy lists only the policies asked for (either baseline too)', async () => {
    const doc = onlyJson(await runCli('simulate', '--json', '--policy', 'oracle,mlscale')) as Doc;
    expect(Object.keys(doc.policies)).toEqual(['oracle', 'mlscale']);
    const cpu = onlyJson(await runCli('simulate', '--json', '--policy', 'target-tracking-cpu')) as Doc;
    expect(Object.keys(cpu.policies)).toEqual(['target-tracking-cpu']);
    expectPolicyFields(cpu.policies['target-tracking-cpu'], 'target-tracking-cpu');
  });

  it('carries notes, and the forecast\'s trust with mlscale', async () => {
    const doc = onlyJson(await runCli('simulate', '--json')) as Doc & { notes: string[]; forecast: Record<string, number> };
    expect(doc.notes).toEqual([
      expect.stringMatching(/^The peak load, 622\.14 req\/s, is above max capacity/),
      expect.stringMatching(/^Forecast missing or not trusted in 24 of 24 predictive runs/),
      'mlscale scales in with its step policy after 12 minutes below 90 % of the CPU target (scaleInMinutes; target tracking only scales out); the baselines keep target tracking\'s own scale-in (15 of 15 datapoints).',
      "The baselines carry the config's 1 planned event as a native build would: scheduled actions that raise MinCapacity for the same windows (mlscale holds them as schedule holds).",
    ]);
    expect(doc.forecast).toMatchObject({ runs: 24, noForecast: 23, untrusted: 1 });
    expect(doc.policies.mlscale).toMatchObject({ predictiveRuns: 24, forecastUntrustedRuns: 1 });
    const rescaled = onlyJson(await runCli('simulate', '--json', '--trace', COARSE, '--peak-utilization', '0.8', '--policy', 'oracle')) as Doc & { notes: string[] };
    expect(rescaled.notes).toEqual([
      expect.stringMatching(/^Trace rescaled ×[\d.]+: its busiest minute \(90 in the file's units\) becomes 400 req\/s, 0\.8 × the pool's full capacity/),
      expect.stringMatching(/^The trace's rows are 30 minutes apart: each minute is interpolated linearly/),
      '1 missing row of the 30-minute series (30 minutes without data; the longest gap 30 minutes) interpolated across.',
    ]);
    expect(rescaled.trace).toMatchObject({ interpolated: true, gapsFilled: 1, gapMinutes: 30, intervalSeconds: 1800 });
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
  it('-o wide adds task-minutes against target tracking, tasks launched, flapping hours and forecasts acted on; -o name lists the policies', async () => {
    const wide = await runCli('simulate', '-o', 'wide');
    expect(wide.code).toBe(0);
    const lines = wide.stdout.trimEnd().split('\n');
    expect(lines[2]!.split(/\s+/).slice(-4)).toEqual(['X_TT', 'TASKS_LAUNCHED', 'FLAPPING_HOURS', 'FORECASTS_ACTED']);
    const json = onlyJson(await runCli('simulate', '--json')) as Doc;
    const row = (policy: string) => lines.slice(3).find((l) => l.startsWith(`${policy} `))!.split(/\s+/);
    const tt = json.policies['target-tracking']!.taskMinutes!;
    expect(row('target-tracking').at(-4)).toBe('1.000');
    expect(row('mlscale').at(-4)).toBe((json.policies.mlscale!.taskMinutes! / tt).toFixed(3));
    // The bundled day has under 24 hours of history before each run: no forecast is acted on.
    expect(row('mlscale').at(-1)).toBe('0/24');
    expect(row('oracle').at(-1)).toBe('-');

    const names = await runCli('simulate', '-o', 'name', '--policy', 'mlscale,oracle');
    expect(names.stdout).toBe('policy/mlscale\npolicy/oracle\n');
    expect(names.stderr).toBe('');
  });

  it('prints a title line and one row per policy, with the numbers of --json', async () => {
    const run = await runCli('simulate');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('mlscale simulation: engine (production) on synthetic-day.csv: 1440 minutes, peak 622.14 req/s');
    // One word per header, so awk '{print $2}' reads the task-minutes.
    expect(lines[2]!.split(/\s+/)).toEqual(['POLICY', 'TASK_MIN', 'X_ORACLE', 'COST_USD', 'VIOLATION_MIN', 'VIOLATION_PCT', 'PEAK_BACKLOG', 'SCALE_ACTIONS', 'COLD_STARTS', 'EMERGENCIES', 'FLAPS']);
    const rows = lines.slice(3, 3 + POLICIES.length);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual([...POLICIES]);
    // Under the table, the notes.
    expect(lines.slice(3 + POLICIES.length, 5 + POLICIES.length)).toEqual(['', 'Notes:']);
    expect(lines.slice(5 + POLICIES.length).every((l) => l.startsWith('- '))).toBe(true);
    const c = compare(bundledTrace(), simPool('engine'));
    for (const row of rows) {
      const cells = row.split(/\s+/);
      const [name, taskMinutes, , cost, violations] = cells;
      const r = c.policies[name as (typeof POLICIES)[number]];
      expect([Number(taskMinutes), Number(cost), Number(violations), Number(cells.at(-1))], name).toEqual([r.taskMinutes, r.costUsd, r.violationMinutes, r.flaps]);
    }
  });

  it('--policy prints only those rows; --peak-utilization says the trace was rescaled', async () => {
    const run = await runCli('simulate', '--policy', 'oracle', '--pool', 'gpu-modules', '--peak-utilization', '0.8');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toContain('(rescaled: peak = 0.8 × max capacity)');
    expect(lines.slice(3, 4).map((r) => r.split(/\s+/)[0])).toEqual(['oracle']);
    expect(lines[3 + 2]).toBe('Notes:');
    expect(lines[3 + 3]).toMatch(/^- Trace rescaled ×/);
  });

  it('--tune prints the changes as config paths, the held-out half and the verdict (a pasteable fragment when it recommends)', async () => {
    const run = await runCli('simulate', '--tune');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Tuning \(\d+ runs on the first half, ≤ 1 % violation minutes/m);
    expect(run.stdout).toMatch(/^ {2}(thresholds\.cpuPercent|pools\[0\]\.\S+): \S+ -> \S+$|^ {2}the defaults were best; nothing to change$/m);
    expect(run.stdout).toMatch(/^Held-out half \(720 minutes\): tuned \d+ task-minutes/m);
    expect(run.stdout).toMatch(/^Keep the defaults: on the held-out half/m);
    expect(run.stdout).not.toContain('\n{');
  });

  it('--tune on a trace it helps: the verdict, the fragment to paste (keyed by pool; thresholds global) and the alarm it moves', async () => {
    const run = await runCli('simulate', '--tune', '--trace', WAVE);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Recommended: on the held-out half'));
    expect(at).toBeGreaterThan(0);
    const end = lines.indexOf('}', at);
    const fragment = { pools: { engine: { scaleInMinutes: 3 } }, thresholds: { cpuPercent: 90 } };
    expect(JSON.parse(lines.slice(at + 1, end + 1).join('\n'))).toEqual(fragment);
    expect(lines[end + 1]).toMatch(/^Merge into the config: .*thresholds are global.* thresholds\.cpuPercent also moves the cpu alarm from 70 to 90 %\.$/);
    const doc = onlyJson(await runCli('simulate', '--tune', '--trace', WAVE, '--json')) as Doc & { tuned: { recommend: boolean; fragment: unknown; alarmMoves: unknown[] } };
    expect(doc.tuned).toMatchObject({ recommend: true, fragment, alarmMoves: [{ path: 'thresholds.cpuPercent', alarm: 'cpu', from: 70, to: 90 }] });
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

  it('lists the notes and marks the planned event', async () => {
    const out = path.join(DIR, 'notes.html');
    expect((await runCli('simulate', '--html', out)).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<h2>Notes</h2>');
    expect(html).toContain('is above max capacity (10 tasks × 50 req/s = 500 req/s) but within the emergency ceiling');
    expect(html).toContain('planned event <b>product-launch</b>');
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
    expectOneLineError(await runCli('simulate', '--policy', 'oracle,fastest'), /unknown policy 'fastest' \(choose from target-tracking, target-tracking-cpu, mlscale, oracle\)/);
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

  it('a trace the reader cannot trust: no value column, duplicate times, a gap of hours, binary, empty', async () => {
    const t = (m: number) => new Date(Date.UTC(2026, 5, 2, 0, m)).toISOString();
    const cases: [string, string | Buffer, RegExp][] = [
      ['latency.csv', `timestamp,latency_ms\n${t(0)},12\n${t(1)},14\n`, /^Error: trace latency\.csv: no value column \(one of rps, requests, value, load, count, requests_per_second\) in header 'timestamp,latency_ms'; a request log/],
      ['dup.csv', `timestamp,rps\n${t(0)},1\n${t(1)},1\n${t(1)},2\n`, /^Error: trace dup\.csv: duplicate timestamp 2026-06-02T00:01:00Z on lines 3 and 4/],
      ['hole.csv', `timestamp,rps\n${t(0)},1\n${t(1)},1\n${t(1 + 7 * 60)},1\n${t(2 + 7 * 60)},1\n`, /^Error: trace hole\.csv: a gap of 7\.0 hours with no rows between line 3 \(2026-06-02T00:01:00Z\) and line 4/],
      ['blob.bin', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x03]), /^Error: trace blob\.bin: is not a text CSV: it holds binary data \(a NUL byte at byte 4\)\n$/],
      ['empty.csv', '', /^Error: trace empty\.csv: is empty\n$/],
    ];
    for (const [name, content, pattern] of cases) {
      const run = await runCli('simulate', '--trace', file(name, content as string), '--json');
      expectOneLineError(run, pattern);
      // eslint-disable-next-line no-control-regex
      expect(run.stderr, name).toMatch(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/);
    }
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

describe('mlscale simulate: the progress line', () => {
  /** A long trace (40,320 minutes from 30-minute rows) and a clock that moves 500 ms per reading. */
  const LONG = file(
    'long.csv',
    ['timestamp,value', ...Array.from({ length: 28 * 48 }, (_, i) => `${new Date(Date.UTC(2026, 5, 2) + i * 1_800_000).toISOString()},${100 + (i % 48)}`)].join('\n'),
  );
  async function withTerminal(run: () => Promise<CliRun>, isTTY = true): Promise<CliRun> {
    const was = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: isTTY, configurable: true });
    let t = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (t += 500));
    try {
      return await run();
    } finally {
      clock.mockRestore();
      if (was) Object.defineProperty(process.stderr, 'isTTY', was);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  }

  it('is written to stderr in place for a long run at a terminal, and erased', async () => {
    const run = await withTerminal(() => runCli('simulate', '--trace', LONG, '--policy', 'oracle'));
    expect(run.code).toBe(0);
    const updates = run.stderr.split('\r').filter(Boolean);
    expect(updates.length).toBeGreaterThan(1);
    expect(updates[0]).toMatch(/^simulating long\.csv: \d+ % \([\d,]+ of 40,320 minutes\)$/);
    expect(updates[updates.length - 1]!.trim()).toBe('');
    expect(run.stderr).not.toContain('\n');
    expect(run.stdout.split('\n')[0]).toMatch(/^mlscale simulation: engine \(production\) on long\.csv: 40320 minutes/);
  });

  it('is not written when stdout is JSON, nor when stderr is not a terminal', async () => {
    onlyJson(await withTerminal(() => runCli('simulate', '--trace', LONG, '--policy', 'oracle', '--json')));
    onlyJson(await withTerminal(() => runCli('simulate', '--trace', LONG, '--policy', 'oracle', '-o', 'json')));
    const piped = await withTerminal(() => runCli('simulate', '--trace', LONG, '--policy', 'oracle'), false);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });
});
