import { describe, expect, it } from 'vitest';
import {
  HIGH_DATAPOINTS,
  LOW_DATAPOINTS,
  LOW_FRACTION,
  MAX_SCALE_IN_SHARE,
  METRIC_DELAY_MINUTES,
  TargetTracking,
  type StepPolicy,
  type TargetTrackingOptions,
  type TrackedMetric,
} from '../../src/sim/target-tracking';

const N = 60;
const OPTIONS: TargetTrackingOptions = { scaleOutCooldownMinutes: 3, scaleInCooldownMinutes: 5 };

/** A datapoint series of N minutes at `base`, with `overrides` by minute. */
function series(base: number | undefined, overrides: Record<number, number | undefined> = {}): (number | undefined)[] {
  const s = Array.from({ length: N }, () => base);
  for (const [m, v] of Object.entries(overrides)) s[Number(m)] = v;
  return s;
}

const capacity = (n: number, overrides: Record<number, number> = {}) => series(n, overrides) as number[];
const cpu = (s: (number | undefined)[], extra: Partial<TrackedMetric> = {}): TrackedMetric => ({ name: 'CPU', target: 70, series: s, ...extra });
const tracker = (metrics: TrackedMetric[], cap: number[] = capacity(4), step?: StepPolicy, options = OPTIONS) => new TargetTracking(metrics, options, cap, step);

describe('target tracking: the documented constants', () => {
  it('3 of 3 out, 15 of 15 below 90 % in, datapoints seen 2 minutes later, a quarter per scale-in', () => {
    expect([HIGH_DATAPOINTS, LOW_DATAPOINTS, LOW_FRACTION, METRIC_DELAY_MINUTES, MAX_SCALE_IN_SHARE]).toEqual([3, 15, 0.9, 2, 0.25]);
  });
});

describe('target tracking: scale-out', () => {
  it('scales out after 3 of 3 datapoints above target, in proportion to metric / target', () => {
    const t = tracker([cpu(series(50, { 10: 140, 11: 140, 12: 140 }))]);
    expect(t.decide(14, 4, false)).toMatchObject({ desired: 8, reason: expect.stringContaining('CPU') as string });
  });

  it('at zero capacity acts on one datapoint above target (AWS waits for one datapoint, then adds capacity)', () => {
    const queue: TrackedMetric = { name: 'queue per task', target: 10, series: series(0, { 12: 35 }) };
    const t = tracker([queue], capacity(0));
    // Minute 12's datapoint is seen at 14: one breaching datapoint, from 0 tasks, ceil(1 x 35 / 10).
    expect(t.decide(13, 0, false)).toBeUndefined();
    expect(t.decide(14, 0, false)).toMatchObject({ desired: 4 });
  });

  it('with capacity, still needs 3 of 3', () => {
    const queue: TrackedMetric = { name: 'queue per task', target: 10, series: series(0, { 12: 35 }) };
    expect(tracker([queue], capacity(1)).decide(14, 1, false)).toBeUndefined();
  });

  it('does not scale out on 2 of 3', () => {
    expect(tracker([cpu(series(50, { 11: 140, 12: 140 }))]).decide(14, 4, false)).toBeUndefined();
    expect(tracker([cpu(series(50, { 10: 140, 12: 140 }))]).decide(14, 4, false)).toBeUndefined();
    expect(tracker([cpu(series(50, { 10: 140, 11: 140 }))]).decide(14, 4, false)).toBeUndefined();
  });

  it('does not scale out at the target itself (above, not at)', () => {
    expect(tracker([cpu(series(50, { 10: 70, 11: 70, 12: 70 }))]).decide(14, 4, false)).toBeUndefined();
  });

  it('sees the datapoint of minute m at minute m + 2', () => {
    const t = tracker([cpu(series(50, { 10: 140, 11: 140, 12: 140 }))]);
    expect(t.decide(13, 4, false)).toBeUndefined();
    expect(t.decide(14, 4, false)?.desired).toBe(8);
  });

  it('uses the newest datapoint and the capacity that produced it, not the capacity asked for since', () => {
    // 3 tasks were ready at minute 12; 10 are ready now.
    const t = tracker([cpu(series(50, { 10: 100, 11: 120, 12: 140 }))], capacity(10, { 12: 3 }));
    expect(t.decide(14, 4, false)?.desired).toBe(6);
    // Asked for more than that already: no change.
    const u = tracker([cpu(series(50, { 10: 100, 11: 120, 12: 140 }))], capacity(10, { 12: 3 }));
    expect(u.decide(14, 7, false)).toBeUndefined();
  });

  it('from zero capacity, uses the ratio of the metric alone (capacity taken as 1)', () => {
    const queue: TrackedMetric = { name: 'queue per task', target: 10, series: series(0, { 10: 20, 11: 28, 12: 35 }) };
    expect(tracker([queue], capacity(0)).decide(14, 0, false)?.desired).toBe(4);
  });

  it('scales out when any policy asks, to the largest capacity asked for', () => {
    const lag: TrackedMetric = { name: 'ConsumerLag', target: 1000, series: series(100, { 10: 3000, 11: 3000, 12: 3000 }) };
    const t = tracker([cpu(series(50, { 10: 140, 11: 140, 12: 140 })), lag]);
    expect(t.decide(14, 4, false)).toMatchObject({ desired: 12, reason: expect.stringContaining('ConsumerLag') as string });
  });

  it('takes no action with a missing datapoint in the window', () => {
    expect(tracker([cpu(series(50, { 10: 140, 11: undefined, 12: 140 }))]).decide(14, 4, false)).toBeUndefined();
    expect(tracker([cpu(series(undefined))], capacity(0)).decide(30, 0, false)).toBeUndefined();
  });

  it('scales out while scale-in is suspended', () => {
    expect(tracker([cpu(series(50, { 10: 140, 11: 140, 12: 140 }))]).decide(14, 4, true)?.desired).toBe(8);
  });

  it('during the scale-out cooldown still scales out to more than is already asked for, never back', () => {
    const t = tracker([cpu(series(50, { 10: 140, 11: 140, 12: 140, 13: 210 }))]);
    expect(t.decide(14, 4, false)?.desired).toBe(8);
    expect(t.decide(15, 8, false)?.desired).toBe(12);
    expect(t.decide(16, 12, false)).toBeUndefined();
  });
});

describe('target tracking: scale-in', () => {
  /** CPU at 30 % (target 70, low alarm below 63) from minute 0, 8 tasks. */
  const low = () => cpu(series(30));

  it('scales in after 15 of 15 datapoints below 90 % of target, not after 14', () => {
    const t = tracker([low()], capacity(8));
    expect(t.decide(15, 8, false)).toBeUndefined();
    expect(t.decide(16, 8, false)?.desired).toBe(6);
  });

  it('does not scale in when one datapoint of the 15 is not below 90 % of target', () => {
    const t = tracker([cpu(series(30, { 7: 63.5 }))], capacity(8));
    expect(t.decide(16, 8, false)).toBeUndefined();
    expect(t.decide(23, 8, false)).toBeUndefined();
    expect(t.decide(24, 8, false)?.desired).toBeLessThan(8);
  });

  it('takes no action with a missing datapoint in the 15', () => {
    expect(tracker([cpu(series(30, { 5: undefined }))], capacity(8)).decide(16, 8, false)).toBeUndefined();
  });

  it('never removes more than a quarter of capacity in one step (at least one task)', () => {
    for (let desired = 1; desired <= 40; desired++) {
      const t = tracker([cpu(series(0))], capacity(desired));
      const to = t.decide(16, desired, false)?.desired;
      expect(to, `from ${desired}`).toBeDefined();
      expect(desired - to!, `from ${desired} to ${to}`).toBeLessThanOrEqual(Math.max(1, desired * MAX_SCALE_IN_SHARE));
      expect(to!, `from ${desired}`).toBeLessThan(desired);
    }
  });

  it('scales in to metric / target of the capacity behind the datapoint when that is the smaller step', () => {
    // 55 % of 70 on 8 tasks: ceil(8 × 55 / 70) = 7.
    expect(tracker([cpu(series(55))], capacity(8)).decide(16, 8, false)?.desired).toBe(7);
  });

  it('scales in only when every policy that may scale in agrees', () => {
    const busyLag: TrackedMetric = { name: 'ConsumerLag', target: 1000, series: series(950) };
    expect(tracker([low(), busyLag], capacity(8)).decide(16, 8, false)).toBeUndefined();
    const quietLag: TrackedMetric = { ...busyLag, series: series(100) };
    expect(tracker([low(), quietLag], capacity(8)).decide(16, 8, false)?.desired).toBe(6);
  });

  it('ignores out-only policies for scale-in, and never scales in with only out-only policies', () => {
    const busyOutOnly: TrackedMetric = { name: 'ConsumerLag', target: 1000, series: series(950), scaleOutOnly: true };
    expect(tracker([low(), busyOutOnly], capacity(8)).decide(16, 8, false)?.desired).toBe(6);
    expect(tracker([cpu(series(30), { scaleOutOnly: true })], capacity(8)).decide(16, 8, false)).toBeUndefined();
  });

  it('waits out the scale-in cooldown between scale-ins', () => {
    const t = tracker([low()], capacity(8));
    expect(t.decide(16, 8, false)?.desired).toBe(6);
    for (let m = 17; m < 16 + OPTIONS.scaleInCooldownMinutes; m++) expect(t.decide(m, 6, false), `minute ${m}`).toBeUndefined();
    expect(t.decide(16 + OPTIONS.scaleInCooldownMinutes, 6, false)?.desired).toBeLessThan(6);
  });

  it('a scale-out ends a running scale-in cooldown ("the scale-in cooldown period stops and doesn\'t complete")', () => {
    const long = { ...OPTIONS, scaleInCooldownMinutes: 30 };
    // Low until minute 20, high at 20-22 (seen at 24), low again from 23 on: the low alarm has 15 of 15 again at 39.
    const s = series(30, { 20: 140, 21: 140, 22: 140 });
    const t = tracker([cpu(s)], capacity(8), undefined, long);
    expect(t.decide(16, 8, false)?.desired).toBe(6);
    expect(t.decide(24, 6, false)?.desired).toBeGreaterThan(6);
    // Without the scale-out the cooldown would block scale-in until minute 46; it ended at 24, so the low alarm decides.
    expect(t.decide(39, 12, false)?.desired).toBeLessThan(12);
    const noOut = tracker([cpu(series(30))], capacity(8), undefined, long);
    expect(noOut.decide(16, 8, false)?.desired).toBe(6);
    expect(noOut.decide(39, 6, false)).toBeUndefined();
  });

  it('does not scale in while scale-in is suspended', () => {
    const t = tracker([low()], capacity(8));
    expect(t.decide(16, 8, true)).toBeUndefined();
    // ... and a suspension does not start a cooldown.
    expect(t.decide(17, 8, false)?.desired).toBe(6);
  });
});

describe('step scaling (demand pools)', () => {
  const p99 = (overrides: Record<number, number>) => series(500, overrides);
  const step = (s: (number | undefined)[]): StepPolicy => ({ series: s, threshold: 2000, steps: [20, 50] });
  const quietQueue: TrackedMetric = { name: 'queue per task', target: 10, series: series(5), scaleOutOnly: true };

  it('adds 20 % after 3 of 3 minutes above the threshold', () => {
    const t = tracker([quietQueue], capacity(10), step(p99({ 10: 2500, 11: 2500, 12: 2500 })));
    expect(t.decide(14, 10, false)).toMatchObject({ desired: 12, reason: expect.stringContaining('+20 %') as string });
  });

  it('adds 50 % above twice the threshold', () => {
    const t = tracker([quietQueue], capacity(10), step(p99({ 10: 2500, 11: 2500, 12: 4500 })));
    expect(t.decide(14, 10, false)).toMatchObject({ desired: 15, reason: expect.stringContaining('+50 %') as string });
  });

  it('adds at least one task', () => {
    expect(tracker([quietQueue], capacity(2), step(p99({ 10: 2500, 11: 2500, 12: 2500 }))).decide(14, 2, false)?.desired).toBe(3);
    expect(tracker([quietQueue], capacity(0), step(p99({ 10: 2500, 11: 2500, 12: 2500 }))).decide(14, 0, false)?.desired).toBe(1);
  });

  it('does not step on 2 of 3, nor with a missing datapoint', () => {
    expect(tracker([quietQueue], capacity(10), step(p99({ 11: 2500, 12: 2500 }))).decide(14, 10, false)).toBeUndefined();
    const gap = series(2500, { 11: undefined });
    expect(tracker([quietQueue], capacity(10), step(gap)).decide(14, 10, false)).toBeUndefined();
  });

  it('waits out the scale-out cooldown between steps', () => {
    const t = tracker([quietQueue], capacity(10), step(series(2500)));
    expect(t.decide(14, 10, false)?.desired).toBe(12);
    expect(t.decide(15, 12, false)).toBeUndefined();
    expect(t.decide(16, 12, false)).toBeUndefined();
    expect(t.decide(17, 12, false)?.desired).toBe(15);
  });
});
