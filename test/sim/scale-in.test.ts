/**
 * The step scale-in (`scaleInMinutes` under 15) in the simulator: the alarm
 * on the metric math datapoint and Application Auto Scaling's step scaling
 * (src/sim/scale-in.ts), and what it changes for the engine after a burst.
 */
import { describe, expect, it } from 'vitest';
import type { ScaleInPolicy } from '../../lambdas/core/scale-in';
import { compare } from '../../src/sim/compare';
import { StepScaleIn } from '../../src/sim/scale-in';
import { asSeries } from '../../src/sim/target-tracking';
import { minuteTrace, runCli, simPool, sum } from './helpers';

const POLICY: ScaleInPolicy = { cpuTarget: 70, minutes: 3, cooldownSeconds: 300 };

describe('StepScaleIn: step scale-in as Application Auto Scaling runs it', () => {
  /** CPU % and running tasks by minute; decide(minute) sees datapoints up to minute − 2. */
  const stepIn = (cpu: (number | undefined)[], tasks: (number | undefined)[], policy = POLICY) => new StepScaleIn(policy, asSeries(cpu), asSeries(tasks), asSeries([]));

  it('removes what the newest datapoint says once `minutes` datapoints are all low, seen two minutes late', () => {
    const s = stepIn([20, 20, 20, 20], [10, 10, 10, 10]);
    expect(s.decide(3, 10, 2)).toBeUndefined();
    // 10 tasks at 20 %: 3 would do, a quarter (2) goes.
    expect(s.decide(4, 10, 2)).toMatchObject({ desired: 8 });
    expect(s.actions).toBe(1);
  });

  it('one datapoint at 90 % of target or missing, and nothing is removed', () => {
    expect(stepIn([20, 63, 20], [10, 10, 10]).decide(4, 10, 2)).toBeUndefined();
    expect(stepIn([20, undefined, 20], [10, 10, 10]).decide(4, 10, 2)).toBeUndefined();
    expect(stepIn([20, 20, 20], [10, undefined, 10]).decide(4, 10, 2)).toBeUndefined();
  });

  it('with tracked lag, a step only while the lag is below 90 % of its target too; missing lag is not low', () => {
    const withLag = (lag: (number | undefined)[]) =>
      new StepScaleIn({ ...POLICY, lagTarget: 1000 }, asSeries([20, 20, 20]), asSeries([10, 10, 10]), asSeries(lag)).decide(4, 10, 2)?.desired;
    expect(withLag([100, 100, 100])).toBe(8);
    expect(withLag([100, 900, 100])).toBeUndefined();
    expect(withLag([100, undefined, 100])).toBeUndefined();
  });

  it('not while dynamic scale-in is suspended (a runbook\'s pause), and the pause starts no cooldown', () => {
    const s = stepIn(Array(20).fill(20), Array(20).fill(10));
    expect(s.decide(4, 10, 2, true)).toBeUndefined();
    expect(s.actions).toBe(0);
    expect(s.decide(5, 10, 2, false)?.desired).toBe(8);
  });

  it('a scale-out by another policy ends the step\'s cooldown', () => {
    const s = stepIn(Array(20).fill(20), Array(20).fill(10));
    expect(s.decide(4, 10, 2)?.desired).toBe(8);
    expect(s.decide(5, 8, 2)).toBeUndefined();
    s.scaleOutHappened();
    expect(s.decide(6, 8, 2)?.desired).toBe(6);
  });

  it('a step blocks the next for the cooldown (300 s); at the minimum nothing happens and no cooldown starts', () => {
    const s = stepIn(Array(20).fill(20), Array(20).fill(10));
    expect(s.decide(4, 10, 2)?.desired).toBe(8);
    for (let m = 5; m < 9; m++) expect(s.decide(m, 8, 2), `minute ${m}`).toBeUndefined();
    expect(s.decide(9, 8, 2)?.desired).toBe(6);
    const atMin = stepIn(Array(20).fill(20), Array(20).fill(10));
    expect(atMin.decide(4, 2, 2)).toBeUndefined();
    expect(atMin.decide(5, 10, 2)?.desired).toBe(8);
    // Never below the minimum.
    expect(stepIn(Array(20).fill(1), Array(20).fill(10)).decide(4, 9, 8)?.desired).toBe(8);
  });
});

describe('the engine after a burst: scaleInMinutes', () => {
  // 30 minutes at 450 req/s (the engine's 10 tasks), then 90 minutes at 100 req/s (3 tasks at 70 %).
  const trace = minuteTrace([...Array<number>(30).fill(450), ...Array<number>(90).fill(100)]);
  const run = (minutes: number) => compare(trace, simPool('engine', { scaleInMinutes: minutes }), ['target-tracking', 'mlscale']);
  const firstDrop = (tasks: ArrayLike<number>) => Array.from(tasks).findIndex((t, m) => m > 30 && t < tasks[30]!);

  it('at 15, mlscale scales in when target tracking does (15 of 15 datapoints); at 12, three minutes sooner', () => {
    const tt = run(15).timelines['target-tracking'].tasks;
    const at15 = run(15).timelines.mlscale.tasks;
    const at12 = run(12).timelines.mlscale.tasks;
    expect(firstDrop(at15)).toBe(firstDrop(tt));
    expect(firstDrop(at12)).toBe(firstDrop(tt) - 3);
  });

  it('sooner scale-in is fewer task-minutes for the same violation minutes, each step at most a quarter of the tasks', () => {
    const [slow, fast] = [run(15), run(5)];
    expect(sum(fast.timelines.mlscale.tasks)).toBeLessThan(sum(slow.timelines.mlscale.tasks));
    expect(fast.policies.mlscale.violationMinutes).toBe(slow.policies.mlscale.violationMinutes);
    const tasks = Array.from(fast.timelines.mlscale.tasks);
    for (let m = 31; m < tasks.length; m++) if (tasks[m]! < tasks[m - 1]!) expect(tasks[m - 1]! - tasks[m]!, `minute ${m}`).toBeLessThanOrEqual(Math.max(1, Math.floor(tasks[m - 1]! / 4)));
    // It settles where target tracking would: the tasks left run at most at the CPU target.
    expect(tasks[tasks.length - 1]).toBe(3);
  });

  it('a scale-in cooldown under the stop timeout + 180 s is raised to it: steps stay 5 minutes apart, as deployed', () => {
    const at = (cooldown: number) => compare(trace, simPool('engine', { scaleInMinutes: 5, scaleInCooldownSeconds: cooldown }), ['mlscale']).timelines.mlscale.tasks;
    const tasks = Array.from(at(60));
    const steps = tasks.flatMap((t, m) => (m > 30 && t < tasks[m - 1]! ? [m] : []));
    expect(steps.length).toBeGreaterThan(1);
    for (let i = 1; i < steps.length; i++) expect(steps[i]! - steps[i - 1]!, `step at minute ${steps[i]}`).toBeGreaterThanOrEqual(5);
    expect(tasks).toEqual(Array.from(at(300)));
  });

  it('a target tracking scale-out ends the step\'s cooldown: with 30 minutes of it, the next step need not wait for them', () => {
    // Busy, quiet, a five-minute burst, quiet again.
    const burst = minuteTrace([...Array<number>(30).fill(450), ...Array<number>(20).fill(100), ...Array<number>(5).fill(450), ...Array<number>(60).fill(100)]);
    const tasks = Array.from(compare(burst, simPool('engine', { scaleInMinutes: 3, scaleInCooldownSeconds: 1800 }), ['mlscale']).timelines.mlscale.tasks);
    const first = tasks.findIndex((t, m) => m > 30 && t < tasks[m - 1]!);
    // The burst scales out; the step after it comes within 30 minutes of the first one.
    expect(Math.max(...tasks.slice(50, 58))).toBeGreaterThan(tasks[first]!);
    const after = tasks.findIndex((t, m) => m > 58 && t < tasks[m - 1]!);
    expect(after).toBeGreaterThan(58);
    expect(after).toBeLessThan(first + 30);
  });

  it('target tracking, the baseline, is the same whatever mlscale\'s scaleInMinutes', () => {
    expect(run(5).policies['target-tracking']).toEqual(run(15).policies['target-tracking']);
  });
});

describe('mlscale simulate --scale-in-minutes', () => {
  const json = async (...argv: string[]) => {
    const r = await runCli('simulate', '--json', '--policy', 'target-tracking,mlscale', ...argv);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { policies: Record<string, Record<string, number>>; notes: string[] };
  };

  it('overrides the config for the run: 15 is target tracking\'s own scale-in, and the note goes', async () => {
    const [plain, twelve, fifteen] = [await json(), await json('--scale-in-minutes', '12'), await json('--scale-in-minutes', '15')];
    expect(twelve.policies).toEqual(plain.policies);
    expect(fifteen.policies['target-tracking']).toEqual(plain.policies['target-tracking']);
    expect(fifteen.policies.mlscale!.taskMinutes).not.toBe(plain.policies.mlscale!.taskMinutes);
    expect(plain.notes.some((n) => n.startsWith('mlscale scales in with its step policy after 12 minutes'))).toBe(true);
    expect(fifteen.notes.some((n) => n.startsWith('mlscale scales in with its step policy'))).toBe(false);
  });

  it('a value outside 1-15, or a pool that is not always-on: one Error: line', async () => {
    for (const bad of ['0', '16', '2.5', 'soon']) {
      const r = await runCli('simulate', '--scale-in-minutes', bad);
      expect([r.code, r.stdout, r.stderr], bad).toEqual([1, '', `Error: --scale-in-minutes must be a whole number from 1 to 15 (15: target tracking's own scale-in), got '${bad}'\n`]);
    }
    const pool = await runCli('simulate', '--pool', 'gpu-modules', '--scale-in-minutes', '5');
    expect(pool.stderr).toBe("Error: --scale-in-minutes: pool 'gpu-modules' is a scale-to-zero pool; the step scale-in is an always-on pool's (CPU)\n");
  });
});
