import { describe, expect, it } from 'vitest';
import { PUBLISH_DELAY_MINUTES } from '../../lambdas/core/work';
import { compare, comparisonTable, type Comparison } from '../../src/sim/compare';
import { ForecastCache, POLICIES, simulate, type PolicyName } from '../../src/sim/simulate';
import { METRIC_DELAY_MINUTES } from '../../src/sim/target-tracking';
import { rescaleToPeak } from '../../src/sim/trace';
import { at, bundledTrace, minuteTrace, PRODUCTION, simPool, sum, violationFlags } from './helpers';

describe('oracle', () => {
  const engine = simPool('engine');

  it('is ready with ceil(need / capacityPerTask) each minute, within [min, emergency ceiling], and never misses the SLO', () => {
    // Engine: 50 req/s per task, min 2, max 10, emergency ceiling 20.
    expect([engine.pool.capacityPerTask, engine.pool.minCapacity, engine.pool.maxCapacity, engine.emergency.ceiling]).toEqual([50, 2, 10, 20]);
    const loads = [0, 10, 100, 101, 500, 999, 1000, 120, 0];
    const run = simulate(minuteTrace(loads), engine, 'oracle');
    expect(Array.from(run.timeline.ready)).toEqual([2, 2, 2, 3, 10, 20, 20, 3, 2]);
    expect(Array.from(run.timeline.tasks)).toEqual([2, 2, 2, 3, 10, 20, 20, 3, 2]);
    expect(Array.from(run.timeline.backlog)).toEqual(Array(loads.length).fill(0));
    expect(run.result).toMatchObject({ violationMinutes: 0, peakBacklog: 0, taskMinutes: 64, emergencies: 0 });
  });

  it('beyond the ceiling misses the SLO, and serves the backlog the next minute', () => {
    const run = simulate(minuteTrace([1100, 0, 0]), engine, 'oracle');
    // 22 tasks' worth against the ceiling of 20: 6,000 requests wait, two tasks' minute of work.
    expect(Array.from(run.timeline.ready)).toEqual([20, 2, 2]);
    expect(Array.from(run.timeline.backlog)).toEqual([6000, 0, 0]);
    expect(run.result.violationMinutes).toBe(1);
  });

  it('stays within max capacity when the pool has no emergency, and starts from zero for a scale-to-zero pool', () => {
    const gpu = simPool('gpu-modules');
    expect(gpu.emergency.enabled).toBe(false);
    expect([gpu.pool.minCapacity, gpu.pool.maxCapacity, gpu.pool.capacityPerTask]).toEqual([0, 5, 8]);
    const run = simulate(minuteTrace([0, 0.5, 8, 8.1, 60, 0]), gpu, 'oracle');
    expect(Array.from(run.timeline.ready)).toEqual([0, 1, 1, 2, 5, 3]);
    expect(run.result.coldStarts).toBe(1);
    expect(run.result.violationMinutes).toBe(1);
  });
});

/** The example config's production engine on the bundled day: computed once for the tests below. */
let day: Comparison | undefined;
const engineDay = () => (day ??= compare(bundledTrace(), simPool('engine')));

describe('the bundled day on the production engine', () => {
  const sim = simPool('engine');
  const spike = [at(11, 30), at(12, 0)] as const;
  const tasksIn = (p: PolicyName, from: number, to: number) => Array.from(engineDay().timelines[p].tasks.slice(from, to));

  it('replays the whole day under every policy', () => {
    const c = engineDay();
    expect(c.minutes).toBe(1440);
    expect(c.pool).toMatchObject({ name: 'engine', minCapacity: 2, maxCapacity: 10, capacityPerTask: 50, startupSeconds: 60 });
    expect(Object.keys(c.policies).sort()).toEqual([...POLICIES].sort());
    expect(c.trace).toMatchObject({ name: 'synthetic-day.csv', start: '2026-06-02T00:00:00.000Z', shape: 'rate series', intervalSeconds: 60 });
    expect(c.trace.peakRps).toBeGreaterThan(550);
  });

  it('mlscale declares an emergency during the 11:30 spike and goes past max capacity', () => {
    const c = engineDay();
    expect(c.policies.mlscale.emergencies).toBe(1);
    const from = (m: number) => simulate(bundledTrace(), sim, 'mlscale', { measureFrom: m, timeline: false }).result.emergencies;
    expect(from(spike[0]) - from(spike[1])).toBe(1);
    expect(Math.max(...tasksIn('mlscale', ...spike))).toBeGreaterThan(sim.pool.maxCapacity);
    expect(Math.max(...tasksIn('mlscale', 0, spike[0]))).toBeLessThanOrEqual(sim.pool.maxCapacity);
  });

  it('target tracking alone stays within max capacity and declares no emergency', () => {
    const c = engineDay();
    expect(c.policies['target-tracking'].emergencies).toBe(0);
    expect(Math.max(...tasksIn('target-tracking', 0, 1440))).toBeLessThanOrEqual(sim.pool.maxCapacity);
  });

  it('mlscale has fewer violation minutes than target tracking, over the day and during the spike', () => {
    const c = engineDay();
    expect(c.policies.mlscale.violationMinutes).toBeLessThan(c.policies['target-tracking'].violationMinutes);
    const inSpike = (p: PolicyName) => violationFlags(c.timelines[p], 50).slice(...spike).filter(Boolean).length;
    expect(inSpike('mlscale')).toBeLessThan(inSpike('target-tracking'));
    expect(c.policies.oracle.violationMinutes).toBe(0);
  });

  it('the planned event raises the engine before 18:00 under mlscale and, as scheduled actions, under both baselines', () => {
    const c = engineDay();
    const event = PRODUCTION.plannedEvents.find((e) => e.pool === 'engine')!;
    expect(event).toMatchObject({ start: '2026-06-02T18:00:00Z', replicas: 9, leadMinutes: 30 });
    const replicas = event.replicas!;
    const m = at(17, 35);
    for (const p of ['mlscale', 'target-tracking', 'target-tracking-cpu'] as const) {
      expect(c.timelines[p].tasks[m], p).toBeGreaterThanOrEqual(replicas);
      expect(c.timelines[p].ready[at(18, 0)], p).toBeGreaterThanOrEqual(replicas);
    }
    // Without the event the baseline has no floor there: the load alone asks for fewer tasks.
    const none = compare(bundledTrace(), { ...simPool('engine'), plannedEvents: [] }, ['target-tracking']);
    expect(none.timelines['target-tracking'].tasks[m]).toBeLessThan(replicas);
    // Before the lead time the floor is not there yet.
    expect(c.timelines['target-tracking'].tasks[at(17, 25)]).toBeLessThan(replicas);
  });

  it('task-minutes are the sum of timeline.tasks, violation minutes the minutes that break the SLO rule', () => {
    const c = engineDay();
    for (const p of POLICIES) {
      const r = c.policies[p];
      expect(r.taskMinutes, p).toBe(sum(c.timelines[p].tasks));
      expect(r.violationMinutes, p).toBe(violationFlags(c.timelines[p], 50).filter(Boolean).length);
      expect(r.peakBacklog, p).toBe(Math.round(Math.max(...c.timelines[p].backlog)));
      expect(r.costUsd, p).toBeCloseTo((r.taskMinutes / 60) * sim.usdPerTaskHour, 2);
      expect(r.violationPercent, p).toBeCloseTo((100 * r.violationMinutes) / 1440, 9);
      expect(r.vsOracle.taskMinutes, p).toBeCloseTo(r.taskMinutes / c.policies.oracle.taskMinutes, 3);
      for (let m = 0; m < 1440; m++) expect(c.timelines[p].ready[m]!, `${p} minute ${m}`).toBeLessThanOrEqual(c.timelines[p].tasks[m]!);
    }
  });

  it('measureFrom counts only the later minutes, after running the earlier ones', () => {
    const c = engineDay();
    const from = at(12, 0);
    for (const p of POLICIES) {
      const full = c.timelines[p];
      const later = simulate(bundledTrace(), sim, p, { measureFrom: from });
      expect(Array.from(later.timeline.tasks), p).toEqual(Array.from(full.tasks));
      expect(later.result.taskMinutes, p).toBe(sum(full.tasks.slice(from)));
      const v = violationFlags(full, 50).slice(from).filter(Boolean).length;
      expect(later.result.violationMinutes, p).toBe(v);
      expect(later.result.violationPercent, p).toBeCloseTo((100 * v) / (1440 - from), 9);
      expect(later.result.peakBacklog, p).toBe(Math.round(Math.max(...full.backlog.slice(from))));
    }
    // The spike is before 12:00: its emergency is not counted from there.
    expect(simulate(bundledTrace(), sim, 'mlscale', { measureFrom: from }).result.emergencies).toBe(0);
  });

  it('is deterministic: same input, same result, with or without a warm forecast cache', () => {
    const forecasts = new ForecastCache();
    const a = compare(bundledTrace(), simPool('engine'), POLICIES, forecasts);
    const b = compare(bundledTrace(), simPool('engine'), POLICIES, forecasts);
    expect(b.policies).toEqual(engineDay().policies);
    expect(a.policies).toEqual(engineDay().policies);
    for (const p of POLICIES) expect(Array.from(b.timelines[p].tasks)).toEqual(Array.from(engineDay().timelines[p].tasks));
  });

  it('prints one table row per policy asked for', () => {
    const table = comparisonTable(engineDay(), ['mlscale', 'oracle']).split('\n');
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^POLICY\s+TASK-MIN\s+x ORACLE\s+COST \$\s+VIOLATION-MIN/);
    expect(table[1]).toMatch(new RegExp(`^mlscale\\s+${engineDay().policies.mlscale.taskMinutes}\\s`));
    expect(table[2]).toMatch(/^oracle\s+\d+\s+1\.00\s/);
  });
});

describe('the bundled day on the gpu-modules pool, rescaled to a peak of 0.8', () => {
  const idleStart = at(1, 30);
  const idleEnd = at(5, 0);
  const gpuDay = (idleMinutes: number) => {
    const sim = simPool('gpu-modules', { idleMinutes });
    const trace = rescaleToPeak(bundledTrace(), 0.8, sim.pool.maxCapacity * sim.pool.capacityPerTask);
    return { sim, trace, run: simulate(trace, sim, 'mlscale') };
  };

  it('the trace is idle from 01:30 to 05:00', () => {
    const { trace } = gpuDay(5);
    expect(trace.rps.slice(idleStart, idleEnd).every((x) => x === 0)).toBe(true);
    expect(trace.rps[idleStart - 1]).toBeGreaterThan(0);
    expect(trace.rps[idleEnd]).toBeGreaterThan(0);
  });

  for (const idleMinutes of [5, 10]) {
    it(`mlscale goes to zero tasks after idleMinutes (${idleMinutes}) and stays there until work appears`, () => {
      const { run } = gpuDay(idleMinutes);
      const tasks = Array.from(run.timeline.tasks);
      // The datapoints of the idle minutes are seen METRIC_DELAY_MINUTES later; the window ends at now, and its
      // newest PUBLISH_DELAY_MINUTES may still be on their way (lambdas/core/work.ts).
      const firstZero = idleStart + idleMinutes + METRIC_DELAY_MINUTES - 1 - PUBLISH_DELAY_MINUTES;
      expect(tasks[firstZero - 1]).toBeGreaterThan(0);
      expect(tasks.slice(firstZero, idleEnd).every((x) => x === 0)).toBe(true);
    });
  }

  it('scales back from zero when work appears: asked for as soon as the datapoint is seen, ready after start-up', () => {
    const { sim, run } = gpuDay(5);
    const startup = Math.ceil(sim.pool.startupSeconds / 60);
    const tasks = Array.from(run.timeline.tasks);
    const ready = Array.from(run.timeline.ready);
    const asked = tasks.findIndex((x, m) => m >= idleEnd && x > 0);
    expect(asked).toBe(idleEnd + METRIC_DELAY_MINUTES);
    expect(ready.findIndex((x, m) => m >= idleEnd && x > 0)).toBe(asked + startup);
    expect(run.result.coldStarts).toBeGreaterThanOrEqual(1);
    expect(run.result.violationMinutes).toBeGreaterThan(0);
  });

  it('target tracking with min 0 also goes to zero, and every policy but CPU tracking scales from zero at least once', () => {
    const { sim, trace } = gpuDay(5);
    const c = compare(trace, sim);
    expect(c.timelines['target-tracking'].tasks.slice(at(2, 30), idleEnd).every((x) => x === 0)).toBe(true);
    for (const p of POLICIES.filter((x) => x !== 'target-tracking-cpu')) expect(c.policies[p].coldStarts, p).toBeGreaterThanOrEqual(1);
    expect(c.policies.oracle.violationMinutes).toBe(0);
  });

  it('CPU target tracking alone reaches zero in the idle stretch and never comes back: no task, no CPU datapoint (AWS-FACTS)', () => {
    const { sim, trace } = gpuDay(5);
    const cpu = compare(trace, sim, ['target-tracking-cpu']).timelines['target-tracking-cpu'];
    const firstZero = Array.from(cpu.tasks).indexOf(0);
    expect(firstZero).toBeGreaterThan(idleStart);
    expect(firstZero).toBeLessThan(idleEnd);
    expect(cpu.tasks.slice(firstZero).every((x) => x === 0)).toBe(true);
    expect(trace.rps.slice(idleEnd).some((x) => x > 0)).toBe(true);
  });
});
