/**
 * The lag-growth step policy (`scaleOnLagGrowth`) in the simulator: the
 * alarm on RATE(ConsumerLag) and Application Auto Scaling's step scaling
 * (src/sim/lag-growth.ts), and what it changes for the engine on a burst.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lagGrowthPolicy } from '../../lambdas/core/lag-growth';
import { compare } from '../../src/sim/compare';
import { LagGrowthScaling } from '../../src/sim/lag-growth';
import { lagGrowthOf, type SimPool } from '../../src/sim/sim-config';
import { asSeries } from '../../src/sim/target-tracking';
import { batchConfig, minuteTrace, runCli, simPool } from './helpers';

/** Engine sizing: 50 req/s a task at 70 %: the alarm at 17.5/s of growth, one more task per 35/s; cooldown 180 s. */
const POLICY = lagGrowthPolicy({ capacityPerTask: 50, targetUtilization: 0.7, startupSeconds: 60, scaleOutCooldownSeconds: 60 });

describe('LagGrowthScaling: step scaling as Application Auto Scaling runs it', () => {
  /** Growth per second by minute; decide(minute) sees datapoints up to minute − 2. */
  const scaling = (growth: (number | undefined)[]) => new LagGrowthScaling(POLICY, asSeries(growth));

  it('asks for growthAdjustment more tasks once two datapoints are at or above the threshold, seen two minutes late', () => {
    const s = scaling([0, 20, 20, 20]);
    expect(s.decide(3, 4)).toBeUndefined();
    expect(s.decide(4, 4)).toMatchObject({ desired: 5 });
    // Growth of 17.5 + 2 × 35 a second: three tasks.
    expect(scaling([90, 90]).decide(3, 4)?.desired).toBe(7);
  });

  it('asking changes nothing: an ask not carried out starts no cooldown', () => {
    const s = scaling([20, 20, 20, 20, 20, 20]);
    expect(s.decide(3, 4)?.desired).toBe(5);
    expect(s.decide(4, 4)?.desired).toBe(5);
    expect(s.actions).toBe(0);
  });

  it('in the cooldown the capacity the last step added counts: the same step adds nothing, a larger one the difference', () => {
    const same = scaling([20, 20, 20, 20]);
    expect(same.decide(3, 4)?.desired).toBe(5);
    same.applied(3, 4);
    // Minute 4: still +1 on the base 4 — what is already asked for.
    expect(same.decide(4, 5)).toBeUndefined();

    const s = scaling([20, 20, 90, 90, 20, 20]);
    expect(s.decide(3, 4)?.desired).toBe(5);
    s.applied(3, 4);
    // Minute 4 sees growth 90 (three tasks' step): +3 on the base 4, not on the 5 asked for.
    expect(s.decide(4, 5)?.desired).toBe(7);
    s.applied(4, 5);
    expect(s.decide(5, 7)).toBeUndefined();
    // The cooldown (180 s) ran from minute 3, not restarted at 4: at 6 a step starts from what is asked for.
    expect(s.decide(6, 7)).toMatchObject({ desired: 8 });
    expect(s.actions).toBe(2);
  });

  it('never on missing data, never while the lag drains', () => {
    expect(scaling([undefined, 50, 50]).decide(3, 4)).toBeUndefined();
    expect(scaling([50, undefined, 50]).decide(3, 4)).toBeUndefined();
    expect(scaling([-500, -500, -500]).decide(4, 4)).toBeUndefined();
  });
});

describe('lagGrowthOf: which pools get the policy', () => {
  it('an always-on pool with scaleOnLagGrowth, sized on the CPU target and the pool, as the drain floor is', () => {
    const engine = simPool('engine');
    expect(engine.pool.kind === 'always-on' && engine.pool.scaleOnLagGrowth).toBe(false);
    expect(lagGrowthOf(engine)).toBeUndefined();
    const on = withGrowth(engine, true);
    expect(lagGrowthOf(on)).toEqual(POLICY);
    expect(lagGrowthOf({ ...on, tunables: { ...on.tunables, cpuPercent: 50 } })?.threshold).toBeCloseTo(12.5);
    expect(lagGrowthOf(simPool('cpu-modules'))).toBeUndefined();
  });
});

function withGrowth(sim: SimPool, on: boolean, patch: Record<string, unknown> = {}): SimPool {
  return { ...sim, pool: { ...sim.pool, ...patch, scaleOnLagGrowth: on } as SimPool['pool'] };
}

/** Two hours of engine load: 150 req/s, and a 20-minute burst of 420 req/s at 00:30 (more than 10 tasks × 35 req/s at 70 %). */
const BURST = Array.from({ length: 120 }, (_, m) => (m >= 30 && m < 50 ? 420 : 150));
/** The engine without the emergency, so the scale-out policies alone are compared. */
const ENGINE = (() => {
  const e = simPool('engine');
  return { ...e, emergency: { ...e.emergency, enabled: false, alarms: [] } };
})();
const firstRaise = (tasks: ArrayLike<number>) => Array.from(tasks).findIndex((x, m) => m >= 30 && x > tasks[29]!);

describe('lag growth on a burst', () => {
  it('with target tracking on total lag (lagScaling: target-tracking): scales out a minute earlier, with fewer violation minutes', () => {
    const [off, on] = [false, true].map((g) => compare(minuteTrace(BURST), withGrowth(ENGINE, g, { lagScaling: 'target-tracking' }), ['mlscale', 'oracle']));
    // Off: ConsumerLag target tracking needs 3 of 3 datapoints above 1,000; on: 2 of 2 of growth ≥ 17.5/s.
    expect(firstRaise(off!.timelines.mlscale.tasks)).toBe(34);
    expect(firstRaise(on!.timelines.mlscale.tasks)).toBe(33);
    expect(on!.policies.mlscale.violationMinutes).toBeLessThan(off!.policies.mlscale.violationMinutes);
    expect(on!.policies.mlscale.lagGrowthScaleOuts).toBeGreaterThanOrEqual(1);
    expect(off!.policies.mlscale.lagGrowthScaleOuts).toBeUndefined();
  });

  it('with the drain floor (the default): nothing earlier — the floor acts on the first datapoint above the lag threshold, before two of growth', () => {
    const [off, on] = [false, true].map((g) => compare(minuteTrace(BURST), withGrowth(ENGINE, g), ['mlscale', 'oracle']));
    expect(firstRaise(off!.timelines.mlscale.tasks)).toBe(32);
    expect(firstRaise(on!.timelines.mlscale.tasks)).toBe(32);
    expect(on!.policies.mlscale.lagGrowthScaleOuts).toBe(0);
    expect(on!.policies.mlscale).toMatchObject({ taskMinutes: off!.policies.mlscale.taskMinutes, violationMinutes: off!.policies.mlscale.violationMinutes });
  });

  it('changes neither baseline: target tracking does not deploy the step policy', () => {
    const [off, on] = [false, true].map((g) => compare(minuteTrace(BURST), withGrowth(ENGINE, g, { lagScaling: 'target-tracking' }), ['target-tracking', 'target-tracking-cpu', 'oracle']));
    for (const p of ['target-tracking', 'target-tracking-cpu', 'oracle'] as const) expect(on!.policies[p], p).toEqual(off!.policies[p]);
  });
});

describe('mlscale simulate --lag-growth', () => {
  const DIR = mkdtempSync(path.join(tmpdir(), 'mlscale-growth-'));
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));
  const json = async (...argv: string[]) => {
    const r = await runCli('simulate', '--json', '--policy', 'mlscale,oracle', ...argv);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { policies: Record<string, Record<string, number>>; notes: string[] };
  };

  it('on: the config with scaleOnLagGrowth true; off (or absent): the config as it is', async () => {
    const config = path.join(DIR, 'growth.json');
    writeFileSync(config, JSON.stringify(batchConfig({}, { scaleOnLagGrowth: true })));
    const [flag, file, off, plain] = [await json('--lag-growth', 'on'), await json('--config', config), await json('--lag-growth', 'off'), await json()];
    expect(flag.policies).toEqual(file.policies);
    expect(flag.policies.mlscale).toHaveProperty('lagGrowthScaleOuts');
    expect(flag.notes.some((n) => n.startsWith('mlscale includes the lag-growth step policy (scaleOnLagGrowth)'))).toBe(true);
    expect(off.policies).toEqual(plain.policies);
    expect(plain.policies.mlscale).not.toHaveProperty('lagGrowthScaleOuts');
  });

  it('a value other than on or off: one Error: line', async () => {
    const r = await runCli('simulate', '--lag-growth', 'yes');
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', "Error: --lag-growth must be on or off, got 'yes'\n"]);
    const pool = await runCli('simulate', '--pool', 'gpu-modules', '--lag-growth', 'on');
    expect(pool.stderr).toBe("Error: --lag-growth: pool 'gpu-modules' is a scale-to-zero pool; lag growth scales an always-on pool on its Kafka lag\n");
  });
});
