/**
 * Thrash detection in the simulator (#11 item 5): how often each policy's
 * desired capacity turned round, counted with the reconciler's own function
 * (lambdas/core/flaps.ts) on the policy's desired-capacity timeline, and — for
 * a policy that flaps — the scale-in cooldown that stops it, found by
 * replaying the trace with longer ones.
 *
 * The figures themselves (`flaps`, `flappingHours`) are counted as each
 * lane runs (src/sim/flap-counter.ts).
 */
import { withScaleInCooldown, type SimPool } from './sim-config';
import { ForecastCache, runLockstep, type PolicyName, type PolicyResult } from './simulate';
import type { TraceStream } from './trace';

/** The scale-in cooldowns tried on a policy that flaps (seconds; only those longer than its own). */
export const CURE_COOLDOWNS = [300, 600, 900, 1200, 1800] as const;

export interface CureTrial {
  readonly scaleInCooldownSeconds: number;
  readonly flaps: number;
  readonly flappingHours: number;
  readonly taskMinutes: number;
  readonly violationMinutes: number;
}

/** A policy that flaps, and the shortest scale-in cooldown of the grid that stops it (null: none does). */
export interface FlapCure {
  readonly policy: PolicyName;
  readonly flaps: number;
  readonly flappingHours: number;
  readonly taskMinutes: number;
  readonly violationMinutes: number;
  /** The scale-in cooldown it ran with. */
  readonly scaleInCooldownSeconds: number;
  readonly tried: readonly CureTrial[];
  readonly cure: number | null;
}

/** The scale-in cooldown a policy runs with: mlscale's tunable, the baselines' configured value. */
export function scaleInCooldownOf(sim: SimPool, policy: PolicyName): number {
  return policy === 'mlscale' ? sim.tunables.scaleInCooldownSeconds : sim.pool.scaleInCooldownSeconds;
}

/**
 * For each policy of `results` that flaps (more reversals in an hour than
 * `thrash.maxDirectionChangesPerHour`; the oracle has no cooldown and is left
 * out), replay the trace with each longer scale-in cooldown of
 * CURE_COOLDOWNS — all of them in one lockstep pass — and name the shortest
 * that brings its flaps within the maximum.
 */
export function flapCures(
  source: TraceStream,
  sim: SimPool,
  results: Partial<Record<PolicyName, PolicyResult>>,
  forecasts: ForecastCache = new ForecastCache('latest'),
  onProgress?: (done: number, total: number) => void,
): FlapCure[] {
  const max = sim.thrash.maxDirectionChangesPerHour;
  const flapping = (Object.keys(results) as PolicyName[]).filter((p) => p !== 'oracle' && results[p]!.flaps > max);
  if (flapping.length === 0) return [];
  const lanes = flapping.flatMap((policy) =>
    CURE_COOLDOWNS.filter((s) => s > scaleInCooldownOf(sim, policy)).map((seconds) => ({ policy, seconds, lane: { policy, sim: withScaleInCooldown(sim, seconds) } })),
  );
  const runs = lanes.length ? runLockstep(source, lanes.map((l) => l.lane), { forecasts, ...(onProgress ? { onProgress } : {}) }).runs : [];
  return flapping.map((policy) => {
    const tried: CureTrial[] = lanes.flatMap((l, i) => {
      if (l.policy !== policy) return [];
      const r = runs[i]!.result;
      return [{ scaleInCooldownSeconds: l.seconds, flaps: r.flaps, flappingHours: r.flappingHours, taskMinutes: r.taskMinutes, violationMinutes: r.violationMinutes }];
    });
    const r = results[policy]!;
    return {
      policy,
      flaps: r.flaps,
      flappingHours: r.flappingHours,
      taskMinutes: r.taskMinutes,
      violationMinutes: r.violationMinutes,
      scaleInCooldownSeconds: scaleInCooldownOf(sim, policy),
      tried,
      cure: tried.find((t) => t.flaps <= max)?.scaleInCooldownSeconds ?? null,
    };
  });
}
