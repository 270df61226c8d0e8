import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SCALE_IN_MAX_REMOVAL,
  SCALE_IN_MAX_STEPS,
  scaleInCap,
  scaleInDatapoint,
  scaleInExpressions,
  scaleInStep,
  scaleInSteps,
  STALE_TASK_COUNT_SECONDS,
  stepScaleInCooldownSeconds,
  usesStepScaleIn,
  type ScaleInPolicy,
} from '../../lambdas/core/scale-in';

const ENGINE: ScaleInPolicy = { cpuTarget: 70, minutes: 12, cooldownSeconds: 300 };
const WITH_LAG: ScaleInPolicy = { ...ENGINE, lagTarget: 1000 };

/**
 * The metric math subset the expressions use, evaluated point by point as
 * CloudWatch does: IF(c, a, b), AND, comparisons, CEIL, FLOOR, + - * /.
 */
function evaluate(expression: string, vars: Record<string, number>): number {
  const js = expression.replace(/\bAND\b/g, '&&').replace(/\bCEIL\(/g, 'Math.ceil(').replace(/\bFLOOR\(/g, 'Math.floor(');
  const names = Object.keys(vars);
  const fn = new Function('IF', ...names, `return (${js});`) as (...a: unknown[]) => number | boolean;
  const v = fn((c: unknown, a: number, b: number) => (c ? a : b), ...names.map((n) => vars[n]));
  return Number(v);
}

function metricMath(policy: ScaleInPolicy, cpu: number, tasks: number, lag?: number): number {
  const e = scaleInExpressions(policy);
  const base = { cpu, tasks, ...(lag !== undefined ? { lag } : {}) };
  const wanted = evaluate(e.wanted, base);
  const cap = evaluate(e.cap, { tasks });
  return evaluate(e.removable, { ...base, wanted, cap });
}

describe('step scale-in: the datapoint', () => {
  it('is 0 (not low) at or above 90 % of the CPU target, or with no tasks', () => {
    expect(scaleInDatapoint(ENGINE, 63, 10)).toBe(0);
    expect(scaleInDatapoint(ENGINE, 80, 10)).toBe(0);
    expect(scaleInDatapoint(ENGINE, 10, 0)).toBe(0);
  });

  it('is 1 + the tasks that leave the rest at the target, as target tracking sizes its scale-in', () => {
    // 10 tasks at 35 %: ceil(10 × 35 / 70) = 5 would do, but at most a quarter (2) go per step.
    expect(scaleInDatapoint(ENGINE, 35, 10)).toBe(1 + 2);
    // 10 tasks at 60 %: ceil(8.57) = 9 stay, 1 goes.
    expect(scaleInDatapoint(ENGINE, 60, 10)).toBe(1 + 1);
    // 3 tasks at 60 %: ceil(2.57) = 3 stay: low, but nothing to remove (1 task less would run at 90 %).
    expect(scaleInDatapoint(ENGINE, 60, 3)).toBe(1);
    // 2 tasks at 10 %: one goes (at least one per step); of 1 task at 0 %, none (CPU cannot wake a pool at zero).
    expect(scaleInDatapoint(ENGINE, 10, 2)).toBe(2);
    expect(scaleInDatapoint(ENGINE, 0, 1)).toBe(1);
  });

  it('with a tracked lag, is low only while the lag is below 90 % of its target too (missing lag is not low)', () => {
    expect(scaleInDatapoint(WITH_LAG, 20, 10, 100)).toBe(3);
    expect(scaleInDatapoint(WITH_LAG, 20, 10, 900)).toBe(0);
    expect(scaleInDatapoint(WITH_LAG, 20, 10, undefined)).toBe(0);
  });

  it('caps a step at a quarter of the tasks, at least one, at most 19', () => {
    expect([1, 3, 4, 7, 8, 40, 76, 500].map(scaleInCap)).toEqual([1, 1, 1, 1, 2, 10, SCALE_IN_MAX_REMOVAL, SCALE_IN_MAX_REMOVAL]);
  });

  it('equals the deployed metric math at the edges: CPU exactly at 90 % of target, every task count where the cap changes', () => {
    for (let tasks = 0; tasks <= 100; tasks++) {
      for (const cpu of [0, 10, 35, 62.99, 63, 63.01, 70]) {
        expect(metricMath(ENGINE, cpu, tasks), `${tasks} tasks at ${cpu} %`).toBe(scaleInDatapoint(ENGINE, cpu, tasks));
        expect(metricMath(WITH_LAG, cpu, tasks, 899.99), `${tasks} tasks at ${cpu} %, lag 899.99`).toBe(scaleInDatapoint(WITH_LAG, cpu, tasks, 899.99));
        expect(metricMath(WITH_LAG, cpu, tasks, 900)).toBe(0);
      }
    }
    expect(metricMath(ENGINE, 63, 10)).toBe(0);
    expect(metricMath(ENGINE, 10, 8)).toBe(1 + 2);
  });

  it('equals the deployed metric math on every CPU, task count and lag', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 0, max: 500 }), fc.double({ min: 0, max: 5_000, noNaN: true }), (cpu, tasks, lag) => {
        expect(metricMath(ENGINE, cpu, tasks)).toBe(scaleInDatapoint(ENGINE, cpu, tasks));
        expect(metricMath(WITH_LAG, cpu, tasks, lag)).toBe(scaleInDatapoint(WITH_LAG, cpu, tasks, lag));
      }),
    );
  });

  it('never leaves the remaining tasks above the CPU target (no scale-in that target tracking would undo at once)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 1, max: 500 }), (cpu, tasks) => {
        const d = scaleInDatapoint(ENGINE, cpu, tasks);
        if (d === 0) return;
        const left = tasks - (d - 1);
        expect(left).toBeGreaterThanOrEqual(1);
        expect((cpu * tasks) / left).toBeLessThanOrEqual(ENGINE.cpuTarget + 1e-9);
      }),
    );
  });
});

describe('step scale-in: the alarm and the steps', () => {
  it('fires only when all `minutes` datapoints are low, and removes what the newest says', () => {
    const low = Array<number>(12).fill(3);
    expect(scaleInStep(ENGINE, low)).toBe(2);
    expect(scaleInStep(ENGINE, [...low.slice(1), 1])).toBe(0);
    expect(scaleInStep(ENGINE, [...low.slice(0, 11), 0])).toBe(0);
    expect(scaleInStep(ENGINE, [0, ...low.slice(1)])).toBe(0);
    expect(scaleInStep(ENGINE, [undefined, ...low.slice(1)])).toBe(0);
    expect(scaleInStep(ENGINE, low.slice(1))).toBe(0);
  });

  it('has one step per task removed, 0 to 19, within the 20 adjustments a policy may have, bounds as offsets from 1', () => {
    const steps = scaleInSteps();
    expect(steps).toHaveLength(SCALE_IN_MAX_STEPS);
    expect(steps[0]).toEqual({ lower: 0, upper: 1, change: 0 });
    expect(steps[5]).toEqual({ lower: 5, upper: 6, change: -5 });
    expect(steps[19]).toEqual({ lower: 19, change: -19 });
    // A datapoint d falls in the step with lower <= d - 1 < upper and removes d - 1.
    for (let d = 1; d <= 1 + SCALE_IN_MAX_REMOVAL; d++) {
      const s = steps.find((x) => x.lower <= d - 1 && (x.upper === undefined || d - 1 < x.upper))!;
      expect(Math.abs(s.change)).toBe(d - 1);
    }
  });

  it('waits at least the stop timeout + 180 s between steps, so a step never sees the task count from before the last one', () => {
    expect(STALE_TASK_COUNT_SECONDS).toBe(180);
    // The engine's defaults: 300 s cooldown, 120 s stop timeout: the floor is 300, nothing changes.
    expect(stepScaleInCooldownSeconds(300, 120)).toBe(300);
    // The tuner's short cooldowns are raised to the floor ...
    expect(stepScaleInCooldownSeconds(60, 120)).toBe(300);
    expect(stepScaleInCooldownSeconds(120, 30)).toBe(210);
    // ... and a longer one stays.
    expect(stepScaleInCooldownSeconds(600, 120)).toBe(600);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3600 }), fc.integer({ min: 2, max: 120 }), (cooldown, stop) => {
        const c = stepScaleInCooldownSeconds(cooldown, stop);
        return c >= cooldown && c >= stop + STALE_TASK_COUNT_SECONDS && (c === cooldown || c === stop + STALE_TASK_COUNT_SECONDS);
      }),
    );
  });

  it('replaces target tracking\'s scale-in below 15 minutes only', () => {
    expect([1, 12, 14, 15].map(usesStepScaleIn)).toEqual([true, true, true, false]);
  });
});
