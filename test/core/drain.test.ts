import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrivalRate, backlogGrowth, drainCapacity, drainHold, emergencyNeed, growthAdjustment, growthPolicy, type DrainSpec } from '../../lambdas/core/drain';
import { openingRaise, resizedIncident, watchIncident } from '../../lambdas/core/emergency-raise';
import type { Hold } from '../../lambdas/core/holds';

const SPEC: DrainSpec = { capacityPerTask: 50, targetUtilization: 0.7, drainSeconds: 120, startupSeconds: 60, backlogThreshold: 1000 };
const NOW = Date.parse('2026-12-02T10:00:30Z');

describe('Function: arrivalRate / backlogGrowth', () => {
  it('is what was processed plus how fast the backlog grew, never negative', () => {
    expect(arrivalRate({ backlog: 12_000, previousBacklog: 6_000, processedPerSecond: 500 })).toBe(600);
    expect(arrivalRate({ backlog: 0, previousBacklog: 60_000, processedPerSecond: 500 })).toBe(0);
    expect(arrivalRate({ backlog: 5_000, processedPerSecond: 300 })).toBe(300);
    expect(backlogGrowth({ backlog: 3_000, previousBacklog: 6_000, processedPerSecond: 500 })).toBe(-50);
  });
});

describe('Function: drainCapacity', () => {
  it('carries the arrivals and clears the backlog (grown through start-up) in drainSeconds', () => {
    // 600/s arrive, 10 tasks serve 500/s: 6,000 + 100 x 60 = 12,000 to clear in 120 s -> (600 + 100) / 35 = 20.
    expect(drainCapacity({ backlog: 6_000, previousBacklog: 0, processedPerSecond: 500 }, 10, SPEC)).toBe(Math.ceil((600 + 12_000 / 120) / 35));
  });

  it('adds nothing for a backlog the running tasks already drain', () => {
    // Draining: 300/s arrive, 10 tasks serve 500/s; 1,200 left clears in 120 s at 10/s more.
    const need = drainCapacity({ backlog: 1_200, previousBacklog: 13_200, processedPerSecond: 500 }, 10, { ...SPEC, targetUtilization: 1 });
    expect(need).toBeLessThanOrEqual(10);
  });

  it('rejects settings that cannot size anything', () => {
    expect(() => drainCapacity({ backlog: 1, processedPerSecond: 1 }, 1, { ...SPEC, drainSeconds: 0 })).toThrow(/must be > 0/);
  });

  it('grows with the backlog and the arrivals, and a longer drain time never asks for more (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 30, max: 600 }), (backlog, processed, ready, drain) => {
        const o = { backlog, processedPerSecond: processed };
        const s = { ...SPEC, drainSeconds: drain };
        expect(drainCapacity({ ...o, backlog: backlog + 1000 }, ready, s)).toBeGreaterThanOrEqual(drainCapacity(o, ready, s));
        expect(drainCapacity(o, ready, { ...s, drainSeconds: drain * 2 })).toBeLessThanOrEqual(drainCapacity(o, ready, s));
      }),
    );
  });
});

describe('Function: drainHold', () => {
  const signal = (backlog: number, previous: number, processed: number, ready: number) => ({ observation: { backlog, previousBacklog: previous, processedPerSecond: processed }, ready });

  it('writes a short floor of what clears a growing backlog, within max', () => {
    const h = drainHold('engine', SPEC, signal(6_000, 0, 200, 4), 4, 10, NOW);
    expect(h).toMatchObject({ target: 'engine', holder: 'drain', floor: 10, expiresAt: Math.floor(NOW / 1000) + 120 });
    expect(h!.reason).toMatch(/^backlog 6000 at 300\.0\/s needs 10 tasks to clear in 120 s/);
  });

  it('writes nothing at or under the backlog threshold, when desired already covers it, or with no signal', () => {
    expect(drainHold('engine', SPEC, signal(900, 0, 200, 4), 4, 10, NOW)).toBeUndefined();
    expect(drainHold('engine', SPEC, signal(1_500, 1_500, 200, 8), 8, 10, NOW)).toBeUndefined();
    expect(drainHold('engine', SPEC, undefined, 4, 10, NOW)).toBeUndefined();
  });
});

describe('Function: emergencyNeed / openingRaise', () => {
  it('does not fire when the capacity asked for clears the backlog in time', () => {
    const need = emergencyNeed({ backlog: 3_000, previousBacklog: 3_000, processedPerSecond: 300 }, 6, 10, SPEC);
    expect(need).toMatchObject({ fire: false });
    expect(openingRaise(10, { observation: { backlog: 3_000, previousBacklog: 3_000, processedPerSecond: 300 }, ready: 6 }, SPEC, 10, 20)).toEqual({ reason: expect.stringMatching(/^not needed: the 10 tasks asked for clear backlog 3000/) });
  });

  it('sizes the raise to the backlog when it must fire, capped at the ceiling, max only as far as the raise', () => {
    const { raise } = openingRaise(10, { observation: { backlog: 54_000, previousBacklog: 36_000, processedPerSecond: 500 }, ready: 10 }, SPEC, 10, 20);
    expect(raise).toMatchObject({ from: 10, floor: 20, ceiling: 20, atCeiling: true });
    const small = openingRaise(6, { observation: { backlog: 6_000, previousBacklog: 3_000, processedPerSecond: 300 }, ready: 6 }, SPEC, 10, 20).raise!;
    expect(small.floor).toBe(Math.ceil((350 + (6_000 + 50 * 60) / 120) / 50));
    expect(small.ceiling).toBe(10);
  });

  it('doubles when there is no backlog to size from, and says why', () => {
    expect(openingRaise(3, undefined, SPEC, 10, 20)).toEqual({ raise: expect.objectContaining({ floor: 6 }), reason: 'doubled 3 -> 6 (no backlog reading to size the raise from)' });
    expect(openingRaise(3, undefined, undefined, 10, 20).reason).toBe('doubled 3 -> 6');
  });
});

describe('Function: watchIncident / resizedIncident', () => {
  const hold: Hold = { target: 'engine', holder: 'emergency:e1', floor: 19, ceiling: 19, suspendScaleIn: true, reason: 'r', createdAt: 0, expiresAt: 1e10 };

  it('ends early once the alarms are OK, the backlog is back and the configured max carries the arrivals', () => {
    const drained = watchIncident(hold, { observation: { backlog: 200, previousBacklog: 900, processedPerSecond: 300 }, ready: 19 }, SPEC, 10, 20, true);
    expect(drained).toMatchObject({ drained: true });
    // Arrivals above what the configured max serves: not over yet, even with the alarms OK.
    expect(watchIncident(hold, { observation: { backlog: 200, previousBacklog: 200, processedPerSecond: 600 }, ready: 19 }, SPEC, 10, 20, true).drained).toBe(false);
    expect(watchIncident(hold, { observation: { backlog: 200, previousBacklog: 900, processedPerSecond: 300 }, ready: 19 }, SPEC, 10, 20, false).drained).toBe(false);
  });

  it('keeps the raise sized to the backlog: down (with max) only by a clear margin, up at once', () => {
    const w = watchIncident(hold, { observation: { backlog: 1_500, previousBacklog: 1_500, processedPerSecond: 600 }, ready: 19 }, SPEC, 10, 20, false);
    expect(w.resized).toMatchObject({ floor: 14, ceiling: 14 });
    expect(resizedIncident(hold, 18, 10, 20)).toBeUndefined();
    expect(resizedIncident(hold, 17, 10, 20)).toMatchObject({ floor: 17 });
    expect(resizedIncident(hold, 25, 10, 20)).toMatchObject({ floor: 20, ceiling: 20 });
  });

  it('leaves the decision to the alarms without a backlog signal', () => {
    expect(watchIncident(hold, undefined, SPEC, 10, 20, true)).toEqual({ drained: false, reason: 'no backlog signal: the alarms alone decide' });
  });
});

describe('growthPolicy (scale on lag growth)', () => {
  const policy = growthPolicy({ capacityPerTask: 10, targetUtilization: 0.7 });

  it('acts at half a task of growth and adds one task per task of growth', () => {
    expect(policy.threshold).toBeCloseTo(3.5);
    expect(policy.steps[0]).toEqual({ lower: 0, upper: 7, change: 1 });
    expect(policy.steps.at(-1)).toEqual({ lower: 28, change: 5 });
  });

  it('adds nothing while the backlog drains or grows slowly', () => {
    expect(growthAdjustment(policy, -50)).toBe(0);
    expect(growthAdjustment(policy, 0)).toBe(0);
    expect(growthAdjustment(policy, 3.4)).toBe(0);
  });

  it('adds what the growth needs, up to the largest step', () => {
    expect(growthAdjustment(policy, 3.5)).toBe(1);
    expect(growthAdjustment(policy, 3.5 + 7)).toBe(2);
    expect(growthAdjustment(policy, 1_000)).toBe(5);
  });

  it('never adds fewer tasks for faster growth', () => {
    fc.assert(
      fc.property(fc.double({ min: -100, max: 500, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (g, more) => {
        expect(growthAdjustment(policy, g + more)).toBeGreaterThanOrEqual(growthAdjustment(policy, g));
      }),
    );
  });

  it('refuses sizes that cannot size anything', () => {
    expect(() => growthPolicy({ capacityPerTask: 0, targetUtilization: 0.7 })).toThrow(/capacityPerTask/);
    expect(() => growthPolicy({ capacityPerTask: 10, targetUtilization: 0.7 }, 21)).toThrow(/maxStep/);
  });
});
