/**
 * The lockstep engine: every policy over one pass of the trace gives what
 * each gives alone; the two target-tracking baselines; bounded buffers; the
 * forecast's trust counted; timelines bucketed on the fly.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../../src/sim/compare';
import { bucketMax } from '../../src/sim/report/downsample';
import { violationRanges } from '../../src/sim/report/markers';
import { Ring } from '../../src/sim/ring';
import { ForecastCache, HourlyPeaks, POLICIES, runLockstep, simulate, type PolicyName } from '../../src/sim/simulate';
import { LOW_DATAPOINTS, METRIC_DELAY_MINUTES } from '../../src/sim/target-tracking';
import { streamOf } from '../../src/sim/trace';
import { bundledTrace, DAY, MINUTE_MS, minuteTrace, simPool, violationFlags } from './helpers';

/** `days` of a noisy diurnal load (deterministic), peaking near `peak` req/s. */
function diurnal(days: number, peak = 400, start = DAY): ReturnType<typeof minuteTrace> {
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.3;
  return minuteTrace(
    Array.from({ length: days * 1440 }, (_, m) => Math.max(0, peak * (0.55 + 0.4 * Math.sin((2 * Math.PI * (m - 360)) / 1440)) * (1 + noise()))),
    start,
  );
}

describe('the policies and their order', () => {
  it('compares two target-tracking baselines, mlscale and the oracle, in that order', () => {
    expect([...POLICIES]).toEqual(['target-tracking', 'target-tracking-cpu', 'mlscale', 'oracle']);
    const c = compare(bundledTrace(), simPool('engine'));
    expect(Object.keys(c.policies)).toEqual([...POLICIES]);
  });

  it('target-tracking-cpu is target tracking without the lag policy: the same on a pool that does not track lag', () => {
    const engine = simPool('engine');
    const noLag = { ...engine, pool: { ...engine.pool, trackConsumerLag: false } } as typeof engine;
    const c = compare(bundledTrace(), noLag, ['target-tracking', 'target-tracking-cpu']);
    expect(c.policies['target-tracking-cpu']).toEqual(c.policies['target-tracking']);
    // With the lag policy the surge at 11:30 is met sooner: the lag says how much, CPU tops out at 100 %.
    const withLag = compare(bundledTrace(), engine, ['target-tracking', 'target-tracking-cpu']);
    expect(withLag.policies['target-tracking'].violationMinutes).toBeLessThanOrEqual(withLag.policies['target-tracking-cpu'].violationMinutes);
    expect(withLag.policies['target-tracking'].peakBacklog).toBeLessThan(withLag.policies['target-tracking-cpu'].peakBacklog);
  });

  it('on a demand pool target-tracking-cpu tracks CPU, not the queue', () => {
    const demand = simPool('cpu-modules');
    const trace = minuteTrace([...Array(60).fill(40), ...Array(60).fill(300), ...Array(60).fill(40)]);
    const c = compare(trace, demand, ['target-tracking', 'target-tracking-cpu']);
    expect(c.policies['target-tracking-cpu']).not.toEqual(c.policies['target-tracking']);
    expect(c.policies['target-tracking-cpu'].emergencies).toBe(0);
  });
});

describe('lockstep: every policy over one pass gives what it gives alone', () => {
  for (const pool of ['engine', 'cpu-modules', 'gpu-modules'] as const) {
    it(`${pool}: results and per-minute timelines`, () => {
      const sim = simPool(pool);
      const trace = pool === 'engine' ? bundledTrace() : { ...bundledTrace(), rps: bundledTrace().rps.map((x) => (x * sim.pool.maxCapacity * sim.pool.capacityPerTask) / 700) };
      const together = compare(trace, sim, POLICIES, new ForecastCache());
      for (const p of POLICIES) {
        const alone = simulate(trace, sim, p, { forecasts: new ForecastCache() });
        expect(together.policies[p], p).toMatchObject(alone.result);
        expect(Array.from(together.timelines[p].tasks), p).toEqual(Array.from(alone.timeline.tasks));
        expect(Array.from(together.timelines[p].backlog), p).toEqual(Array.from(alone.timeline.backlog));
      }
    });
  }

  it('lanes with different tunables side by side are each what they are alone (how --tune judges)', () => {
    const sim = simPool('engine');
    const lean = { ...sim, tunables: { ...sim.tunables, cpuPercent: 85, scaleInCooldownSeconds: 60 } };
    const trace = diurnal(2);
    const run = runLockstep(streamOf(trace), [
      { policy: 'mlscale', sim: lean },
      { policy: 'mlscale', sim },
    ], { measureFrom: 1440 });
    expect(run.runs[0]!.result).toEqual(simulate(trace, lean, 'mlscale', { measureFrom: 1440, timeline: false }).result);
    expect(run.runs[1]!.result).toEqual(simulate(trace, sim, 'mlscale', { measureFrom: 1440, timeline: false }).result);
    expect(run.runs[0]!.result.taskMinutes).not.toBe(run.runs[1]!.result.taskMinutes);
  });
});

describe('memory: bounded buffers, whatever the trace length', () => {
  const sim = simPool('engine');
  const lanes = POLICIES.map((policy) => ({ policy, sim }));

  it('the controllers keep rings of the longest lookback, 14 days + a refit of hourly peaks, one forecast, no timeline', () => {
    const short = runLockstep(streamOf(diurnal(2)), lanes, { forecasts: new ForecastCache('latest') });
    const long = runLockstep(streamOf(diurnal(8)), lanes, { forecasts: new ForecastCache('latest') });
    // Target tracking's 15 datapoints seen 2 minutes late (the engine's emergency alarm looks back 3).
    expect(short.buffers.seriesMinutes).toBe(METRIC_DELAY_MINUTES + LOW_DATAPOINTS);
    expect(long.buffers).toEqual({ ...short.buffers, maxHolds: long.buffers.maxHolds });
    expect(long.buffers.hourlyPeaks).toBe(14 * 24 + 6 + 1);
    expect(long.buffers.forecasts).toBe(1);
    expect(long.buffers.timelinePoints).toBe(0);
    expect(long.buffers.maxHolds).toBeLessThanOrEqual(6);
    for (const r of long.runs) expect(r.timeline.tasks.length).toBe(0);
    // The long run did forecast (so the bounded cache was used), and kept only the fit in force.
    expect(long.runs[2]!.forecast.runs).toBe(8 * 24);
    expect(long.runs[2]!.forecast.noForecast).toBeLessThan(8 * 24);
  });

  it('a scale-to-zero controller keeps its idle window too', () => {
    const gpu = simPool('gpu-modules', { idleMinutes: 30 });
    const run = runLockstep(streamOf(minuteTrace(Array(300).fill(1))), [{ policy: 'mlscale', sim: gpu }]);
    // lookbackMinutes(30) = 31, + 1 for the window's start, + the delay.
    expect(run.buffers.seriesMinutes).toBe(METRIC_DELAY_MINUTES + 32);
  });

  it('a ring refuses a read further back than it keeps (a sizing bug, never a missing datapoint)', () => {
    const ring = new Ring(3);
    for (let m = 0; m < 5; m++) ring.set(m, m === 3 ? undefined : m * 10);
    expect([ring.get(2), ring.get(3), ring.get(4), ring.get(5), ring.get(-1)]).toEqual([20, undefined, 40, undefined, undefined]);
    expect(() => ring.get(1)).toThrow(/older than the 3 minutes kept/);
    expect(() => ring.set(7, 1)).toThrow(/written after minute 4/);
  });

  it('hourly peaks keep the window the forecast reads, and refuse older hours', () => {
    const peaks = new HourlyPeaks(DAY + 30 * MINUTE_MS, 2);
    // The first whole hour starts at minute 30.
    for (let m = 0; m < 30 + 15 * 60; m++) peaks.push(m, m < 30 ? 1e6 : m);
    expect(peaks.start).toBe(DAY + 60 * MINUTE_MS);
    expect(peaks.window(15, 2)).toEqual([30 + 13 * 60 + 59, 30 + 14 * 60 + 59]);
    // Two hours of history plus the six a refit origin can lag behind now, plus the hour under way.
    expect(peaks.capacity).toBe(2 + 6 + 1);
    expect(peaks.window(15, 9)[0]).toBe(30 + 6 * 60 + 59);
    expect(() => peaks.window(15, 10)).toThrow(/not all kept/);
    expect(() => peaks.window(16, 1)).toThrow(/not all kept/);
  });
});

describe('the forecast: runs counted, and why it was not trusted', () => {
  it('counts every predictive run, those without a forecast (first day) and those not trusted; untrusted = not backtested + above the error', () => {
    const c = compare(diurnal(7), simPool('engine'), ['mlscale'], new ForecastCache(), { timeline: 'none' });
    const f = c.forecast!;
    const r = c.policies.mlscale;
    expect(f.runs).toBe(7 * 24);
    expect(r.predictiveRuns).toBe(f.runs);
    // The Lambda runs on the hour from 01:00; it needs 24 hours of history, which it has from the run at 24:00.
    expect(f.noForecast).toBe(23);
    expect(f.untrusted).toBe(f.notBacktested + f.aboveMaxError);
    expect(r.forecastUntrustedRuns).toBe(f.untrusted);
    // Under five days of history (5 × 24 h, counted from the first whole hour) nothing is backtested yet.
    expect(f.notBacktested).toBeGreaterThanOrEqual(4 * 24 - 1);
    expect(f.runs - f.noForecast - f.untrusted).toBeGreaterThan(0);
    for (const p of ['target-tracking', 'oracle'] as const) expect(compare(diurnal(1), simPool('engine'), [p]).policies[p].predictiveRuns).toBe(0);
  });
});

describe('timelines bucketed as the run goes', () => {
  it('are the per-minute series bucketed by maximum, with the exact violation ranges and emergency minutes', () => {
    const sim = simPool('engine');
    const trace = bundledTrace();
    const perMinute = compare(trace, sim, POLICIES, new ForecastCache(), { timeline: 'minute' });
    const bucket = 7;
    const run = runLockstep(streamOf(trace), POLICIES.map((policy) => ({ policy, sim })), { timeline: { bucketMinutes: bucket } });
    POLICIES.forEach((p: PolicyName, i) => {
      const t = run.runs[i]!.timeline;
      const m = perMinute.timelines[p];
      expect(t.bucketMinutes).toBe(bucket);
      expect(Array.from(t.tasks), p).toEqual(bucketMax(m.tasks, bucket));
      expect(Array.from(t.ready), p).toEqual(bucketMax(m.ready, bucket));
      expect(Array.from(t.backlog), p).toEqual(bucketMax(m.backlog, bucket));
      expect(t.violations, p).toEqual(violationRanges(violationFlags(m, sim.pool.capacityPerTask)));
    });
    expect(Array.from(run.load.timeline)).toEqual(bucketMax(trace.rps, bucket));
    expect(run.buffers.timelinePoints).toBe(Math.ceil(1440 / bucket));
    // The 11:30 spike's emergency, at the minute its raise took effect.
    const emergencies = run.runs[2]!.timeline.emergencies!;
    expect(emergencies).toHaveLength(perMinute.policies.mlscale.emergencies);
    expect(emergencies[0]).toBeGreaterThan(11 * 60 + 30);
    expect(emergencies[0]).toBeLessThan(12 * 60);
    expect(perMinute.timelines.mlscale.tasks[emergencies[0]!]).toBeGreaterThan(sim.pool.maxCapacity);
  });

  it("'chart' buckets to the report's resolution, 'none' keeps nothing", () => {
    const trace = minuteTrace(Array.from({ length: 50_000 }, (_, m) => 100 + (m % 90)));
    const chart = compare(trace, simPool('engine'), ['oracle'], new ForecastCache(), { timeline: 'chart' });
    expect(chart.bucketMinutes).toBe(3);
    expect(chart.timelines.oracle.tasks.length).toBe(Math.ceil(50_000 / 3));
    expect(chart.loadRps.length).toBe(Math.ceil(50_000 / 3));
    const none = compare(trace, simPool('engine'), ['oracle'], new ForecastCache(), { timeline: 'none' });
    expect([none.timelines.oracle.tasks.length, none.loadRps.length, none.bucketMinutes]).toEqual([0, 0, 0]);
    expect(none.policies).toEqual(chart.policies);
  });
});
