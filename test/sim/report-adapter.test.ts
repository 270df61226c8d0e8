import { describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../../src/sim/compare';
import { derivedViolations, htmlReport, reportInput, tuningVerdict } from '../../src/sim/html';
import { chartData } from '../../src/sim/report/render';
import { POLICIES, type PolicyResult } from '../../src/sim/simulate';
import type { ConfigChange, TuneResult } from '../../src/sim/tune';
import { bundledTrace, DAY, minuteTrace, simPool } from './helpers';

let bundled: Comparison | undefined;
const day = () => (bundled ??= compare(bundledTrace(), simPool('engine')));

const result = (taskMinutes: number, violationPercent: number): PolicyResult => ({
  taskMinutes,
  violationMinutes: Math.round(violationPercent * 7.2),
  peakBacklog: 0,
  scaleActions: 0,
  coldStarts: 0,
  costUsd: 0,
  tasksLaunched: 0,
  emergencies: 0,
  violationPercent,
  predictiveRuns: 0,
  forecastUntrustedRuns: 0,
  flaps: 0,
  flappingHours: 0,
});

function tuneResult(tuned: PolicyResult, defaults: PolicyResult, changes: ConfigChange[] = [{ key: 'cpuPercent', path: 'thresholds.cpuPercent', from: 70, to: 55 }]): TuneResult {
  return {
    pool: 'engine',
    tunables: { cpuPercent: 55, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 300, leadMinutes: 10, headroom: 0.1, idleMinutes: 5, drainSeconds: 120, scaleInMinutes: 15 },
    changes,
    fit: tuned,
    heldOut: { minutes: 720, mlscale: tuned, oracle: result(3000, 0), defaults, targetTracking: defaults },
    evaluations: 10,
    feasible: true,
  };
}

describe('htmlReport: the adapter from a Comparison', () => {
  it('marks exactly the minutes the simulator counted as violations', () => {
    const c = day();
    for (const p of POLICIES) {
      const flags = derivedViolations(c.timelines[p], c.pool.capacityPerTask);
      expect(flags.reduce((a, b) => a + b, 0), p).toBe(c.policies[p].violationMinutes);
    }
    const input = reportInput(c, POLICIES, 'day');
    const marked = (p: string) => input.markers.filter((m) => m.kind === 'violation' && m.policy === p).reduce((a, m) => a + m.to - m.from, 0);
    for (const p of POLICIES) expect(marked(p), p).toBe(c.policies[p].violationMinutes);
    expect(c.policies['target-tracking'].violationMinutes).toBeGreaterThan(0); // the check above is not vacuous
  });

  it('gives the table the CLI numbers, ready/tasks/backlog per policy, and tasks in req/s per task', () => {
    const c = day();
    const input = reportInput(c, ['mlscale', 'oracle'], 'day');
    expect(input.table.rows.map((r) => r[0])).toEqual(['mlscale', 'oracle']);
    const r = c.policies.mlscale;
    expect(input.table.rows[0]).toEqual([
      'mlscale',
      r.taskMinutes.toLocaleString('en-US'),
      r.vsOracle.taskMinutes.toFixed(2),
      r.costUsd.toFixed(2),
      String(r.violationMinutes),
      `${r.violationPercent.toFixed(2)} %`,
      r.peakBacklog.toLocaleString('en-US'),
      String(r.scaleActions),
      String(r.coldStarts),
      String(r.emergencies),
      String(r.flaps),
    ]);
    expect(input.series[0]!.ready).toBe(c.timelines.mlscale.ready);
    expect(input.series[0]!.tasks).toBe(c.timelines.mlscale.tasks);
    expect(input.series[0]!.backlog).toBe(c.timelines.mlscale.backlog);
    expect(input.capacityPerTask).toBe(c.pool.capacityPerTask);
    expect(input.startMs).toBe(DAY);
    const html = htmlReport(c, ['mlscale', 'oracle'], 'day');
    expect(html).toContain('>mlscale</td>');
    expect(html).not.toContain('>target-tracking</td>');
  });

  it('lists the notes it is given, and the emergencies it cannot place', () => {
    const c = day();
    const input = reportInput(c, POLICIES, 'day', undefined, { notes: ['trace rescaled ×2'] });
    expect(input.notes).toEqual(['trace rescaled ×2']);
    expect(c.policies.mlscale.emergencies).toBeGreaterThan(0);
    // A timeline without emergency minutes (one built by hand): counted in the table, said in a note.
    const stripped: Comparison = { ...c, timelines: { ...c.timelines, mlscale: { ready: c.timelines.mlscale.ready, tasks: c.timelines.mlscale.tasks, backlog: c.timelines.mlscale.backlog } } };
    expect(reportInput(stripped, POLICIES, 'day').notes.some((n) => n.includes(`mlscale: ${c.policies.mlscale.emergencies}`))).toBe(true);
    // The simulator records them: they are marked, and no note is needed.
    const marked = reportInput(c, POLICIES, 'day');
    expect(marked.notes).toEqual([]);
    expect(marked.markers.filter((m) => m.kind === 'emergency').map((m) => m.policy)).toEqual(['mlscale']);

    const calm = compare(minuteTrace(Array.from({ length: 120 }, () => 100)), simPool('engine'), ['oracle']);
    expect(reportInput(calm, ['oracle'], 'calm').notes).toEqual([]);
  });

  it('draws a bucketed comparison as it is, its markers at their exact minutes', () => {
    const trace = { ...bundledTrace(), rps: Array.from({ length: 30 }, () => bundledTrace().rps).flat() };
    const perMinute = compare(trace, simPool('engine'), ['target-tracking', 'oracle']);
    const chart = compare(trace, simPool('engine'), ['target-tracking', 'oracle'], undefined, { timeline: 'chart' });
    expect(chart.bucketMinutes).toBe(3);
    const a = chartData(reportInput(perMinute, ['target-tracking', 'oracle'], 't'));
    const b = chartData(reportInput(chart, ['target-tracking', 'oracle'], 't'));
    expect(b).toEqual(a);
    expect(b.minutes).toBe(43_200);
    expect(b.markers.violations.length).toBeGreaterThan(0);
  });

  it('uses per-minute violation flags and emergency minutes when the timelines carry them', () => {
    const c = compare(minuteTrace(Array.from({ length: 60 }, () => 100)), simPool('engine'), ['mlscale', 'oracle']);
    const violation = new Uint8Array(60);
    violation.fill(1, 10, 13);
    const widened: Comparison = {
      ...c,
      timelines: { ...c.timelines, mlscale: Object.assign({}, c.timelines.mlscale, { violation, emergencies: [11, 40] }) },
    };
    const input = reportInput(widened, ['mlscale', 'oracle'], 'w', undefined, {
      events: [{ name: 'launch', start: '2026-06-02T00:30:00Z', end: '2026-06-02T00:45:00Z' }],
    });
    const d = chartData(input).markers;
    expect(d.violations).toEqual([{ policy: 'mlscale', from: 10, to: 13 }]);
    expect(d.emergencies.map((e) => [e.policy, e.at])).toEqual([
      ['mlscale', 11],
      ['mlscale', 40],
    ]);
    expect(d.events).toEqual([{ from: 30, to: 45, label: 'launch' }]);
  });
});

describe('tuningVerdict', () => {
  it('keeps the defaults when the held-out half used more task-minutes (and the page says so)', () => {
    const t = tuneResult(result(4927, 0), result(4217, 0));
    const v = tuningVerdict(t);
    expect(v.recommend).toBe(false);
    expect(v.reason).toMatch(/used 4,927 task-minutes and 0\.00 % violation minutes \(0\) against 4,217 and 0\.00 % \(0\) with the defaults: no saving/);
    const html = htmlReport(day(), ['mlscale'], 'day', t);
    expect(html).toContain('Keep the defaults');
    expect(html).not.toContain('Recommended changes');
  });

  it('keeps the defaults when violations got worse, even with fewer task-minutes', () => {
    const v = tuningVerdict(tuneResult(result(3500, 1.5), result(4217, 0.5)));
    expect(v.recommend).toBe(false);
    expect(v.reason).toMatch(/raised violation minutes from 4 \(0\.50 %\) to 11 \(1\.50 %\)/);
  });

  it('keeps the defaults when nothing changed', () => {
    const v = tuningVerdict(tuneResult(result(4217, 0), result(4217, 0), []));
    expect(v.recommend).toBe(false);
    expect(v.reason).toMatch(/nothing to change/);
  });

  it('recommends the changes, as a config fragment keyed by pool name, when the held-out half is cheaper and no worse', () => {
    const t = tuneResult(result(3800, 0.2), result(4217, 0.2), [
      { key: 'cpuPercent', path: 'thresholds.cpuPercent', from: 70, to: 55 },
      { key: 'scaleInCooldownSeconds', path: 'pools[0].scaleInCooldownSeconds', from: 300, to: 60 },
    ]);
    const v = tuningVerdict({ ...t, alarmMoves: [{ path: 'thresholds.cpuPercent', alarm: 'cpu', from: 70, to: 55 }] });
    expect(v.recommend).toBe(true);
    expect(v.fragment).toEqual({ pools: { engine: { scaleInCooldownSeconds: 60 } }, thresholds: { cpuPercent: 55 } });
    expect(v.heldOut).toContain('Held-out half (720 minutes)');
    expect(v.apply).toMatch(/thresholds are global/);
    const html = htmlReport(day(), ['mlscale'], 'day', { ...t, alarmMoves: [{ path: 'thresholds.cpuPercent', alarm: 'cpu', from: 70, to: 55 }] });
    expect(html).toContain('Recommended changes');
    expect(html).toContain('&quot;scaleInCooldownSeconds&quot;: 60');
    expect(html).toContain('thresholds.cpuPercent also moves the cpu alarm from 70 to 55 %');
    expect(html).not.toContain('Keep the defaults');
  });
});
