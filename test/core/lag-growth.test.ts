import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { growthAdjustment, growthPolicy } from '../../lambdas/core/drain';
import {
  LAG_GROWTH_DATAPOINTS,
  LAG_GROWTH_EVALUATION_PERIODS,
  LAG_GROWTH_PERIOD_SECONDS,
  lagGrowthCooldownSeconds,
  lagGrowthPolicy,
  lagGrowthStep,
} from '../../lambdas/core/lag-growth';

/** The engine: 50 req/s per task, CPU target 70 %, Fargate start-up 60 s, scale-out cooldown 60 s. */
const ENGINE = { capacityPerTask: 50, targetUtilization: 0.7, startupSeconds: 60, scaleOutCooldownSeconds: 60 };

describe('lag-growth policy: the alarm', () => {
  it('is 2 of 2 one-minute datapoints', () => {
    expect([LAG_GROWTH_PERIOD_SECONDS, LAG_GROWTH_EVALUATION_PERIODS, LAG_GROWTH_DATAPOINTS]).toEqual([60, 2, 2]);
    expect(lagGrowthPolicy(ENGINE)).toMatchObject({ evaluationPeriods: 2, datapointsToAlarm: 2 });
  });

  it('has the threshold and steps of growthPolicy (drain arithmetic: half a task of growth, one task per task of growth)', () => {
    const p = lagGrowthPolicy(ENGINE);
    const g = growthPolicy(ENGINE);
    expect(p.threshold).toBe(g.threshold);
    expect(p.steps).toEqual(g.steps);
    // 50 × 0.7 = 35 req/s a task: the alarm at 17.5/s.
    expect(p.threshold).toBeCloseTo(17.5);
  });

  it('fires only when both datapoints are at or above the threshold, and adds growthAdjustment of the newest', () => {
    const p = lagGrowthPolicy(ENGINE);
    expect(lagGrowthStep(p, [17.5, 17.5])).toBe(1);
    expect(lagGrowthStep(p, [17.4, 100])).toBe(0);
    expect(lagGrowthStep(p, [100, 17.4])).toBe(0);
    // Sized on the newest: 17.5 + 2 × 35 = 87.5/s is the third step.
    expect(lagGrowthStep(p, [20, 87.5])).toBe(growthAdjustment(p, 87.5));
    expect(lagGrowthStep(p, [20, 87.5])).toBe(3);
    // The open last step: five tasks at most.
    expect(lagGrowthStep(p, [1e6, 1e6])).toBe(5);
  });

  it('a missing datapoint never breaches; fewer datapoints than the window never fire', () => {
    const p = lagGrowthPolicy(ENGINE);
    expect(lagGrowthStep(p, [undefined, 100])).toBe(0);
    expect(lagGrowthStep(p, [100, undefined])).toBe(0);
    expect(lagGrowthStep(p, [100])).toBe(0);
    expect(lagGrowthStep(p, [])).toBe(0);
  });

  it('a draining backlog (negative growth) never adds capacity', () => {
    const p = lagGrowthPolicy(ENGINE);
    fc.assert(fc.property(fc.double({ min: -1e6, max: 0, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (a, b) => lagGrowthStep(p, [b, a]) === 0 && lagGrowthStep(p, [a, b]) === 0));
  });

  it('reads only the newest evaluation window of a longer series', () => {
    const p = lagGrowthPolicy(ENGINE);
    expect(lagGrowthStep(p, [0, 0, 0, 40, 40])).toBe(growthAdjustment(p, 40));
    expect(lagGrowthStep(p, [40, 40, 0])).toBe(0);
  });
});

describe('lag-growth policy: the cooldown', () => {
  it('is the start-up time plus the alarm window, never less than the scale-out cooldown', () => {
    expect(lagGrowthCooldownSeconds(ENGINE)).toBe(60 + 2 * 60);
    expect(lagGrowthCooldownSeconds({ startupSeconds: 300, scaleOutCooldownSeconds: 60 })).toBe(420);
    expect(lagGrowthCooldownSeconds({ startupSeconds: 60, scaleOutCooldownSeconds: 600 })).toBe(600);
    expect(lagGrowthPolicy(ENGINE).cooldownSeconds).toBe(180);
  });

  it('rejects a sizing the drain arithmetic rejects', () => {
    expect(() => lagGrowthPolicy({ ...ENGINE, capacityPerTask: 0 })).toThrow(/capacityPerTask and targetUtilization must be > 0/);
  });
});
