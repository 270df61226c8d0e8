/**
 * How well can any reactive policy do on a trace? An idealised follower in
 * the simulator's world (src/sim/world.ts): it knows each minute's load and
 * backlog exactly, but only `lagMinutes` late — CloudWatch's delay plus the
 * start-up of the tasks it asks for — and it sizes ready capacity to
 * (1 + headroom) × the largest need of the last `holdMinutes` minutes it
 * has seen, scaling in at once. Perfect foresight is lag 0, hold 1,
 * headroom 0: the oracle.
 *
 * It is a yardstick, not a policy: no alarm windows, no cooldowns, no
 * datapoints missing, exact load instead of CPU. What it cannot reach within
 * a violation budget, no policy fed by the same metrics can reach by
 * following the load (the only way past it is to know the load before it
 * arrives). `npm run bench` reports the cheapest follower within the budget
 * (docs/benchmarks.md, "Reactive bound").
 */
import { clamp } from '../../lambdas/core/capacity';
import type { SimPool } from './sim-config';
import { baseP95, minuteNeed, oracleCeiling } from './simulate';
import { PoolWorld } from './world';

export interface Follower {
  /** Minutes between a minute's load and the ready capacity sized to it (0: perfect foresight). */
  readonly lagMinutes: number;
  /** The need followed is the largest of this many minutes seen (1: the newest alone). */
  readonly holdMinutes: number;
  /** Capacity above the need, as a share of it. */
  readonly headroom: number;
}

export interface FollowerPool {
  readonly capacityPerTask: number;
  readonly minCapacity: number;
  /** The most it may run: the emergency ceiling, as the oracle. */
  readonly ceiling: number;
  readonly baseP95Ms: number;
}

export interface FollowerResult {
  readonly taskMinutes: number;
  readonly violationMinutes: number;
  readonly minutes: number;
}

/** Replay `rps` (req/s per minute) through the follower; count task-minutes and violations from minute `from` on. */
export function follow(rps: ArrayLike<number>, pool: FollowerPool, f: Follower, from = 0): FollowerResult {
  if (!(Number.isInteger(f.lagMinutes) && f.lagMinutes >= 0)) throw new Error(`lagMinutes must be a whole number of at least 0, got ${f.lagMinutes}`);
  if (!(Number.isInteger(f.holdMinutes) && f.holdMinutes >= 1)) throw new Error(`holdMinutes must be a whole number of at least 1, got ${f.holdMinutes}`);
  if (!(f.headroom >= 0)) throw new Error(`headroom must be at least 0, got ${f.headroom}`);
  // A lag of L is a one-minute start-up plus L − 1 minutes of metric delay (0: tasks are ready at once).
  const startupMinutes = f.lagMinutes === 0 ? 0 : 1;
  const size = (need: number) => clamp(Math.ceil(need * (1 + f.headroom) - 1e-9), pool.minCapacity, pool.ceiling);
  const first = rps.length > 0 ? rps[0]! : 0;
  const world = new PoolWorld({ capacityPerTask: pool.capacityPerTask, startupMinutes, baseP95Ms: pool.baseP95Ms }, size(first / pool.capacityPerTask));
  /** The tasks each minute needed: its arrivals and the backlog it started with, served within the minute. */
  const needs: number[] = [];
  let backlog = 0;
  let taskMinutes = 0;
  let violationMinutes = 0;
  for (let m = 0; m < rps.length; m++) {
    needs.push(minuteNeed(rps[m]!, backlog, pool.capacityPerTask));
    // Asked for at m, ready at m + startup: sized on what was seen by then, minute m + startup − lag and before.
    const newest = m + startupMinutes - f.lagMinutes;
    if (newest >= 0) {
      let need = 0;
      for (let k = Math.max(0, newest - f.holdMinutes + 1); k <= newest; k++) need = Math.max(need, needs[k]!);
      const target = size(need);
      if (target !== world.desired) world.setDesired(target, m);
    }
    const state = world.step(m, rps[m]!);
    backlog = state.backlog;
    if (m >= from) {
      taskMinutes += state.tasks;
      if (state.violation) violationMinutes++;
    }
  }
  return { taskMinutes, violationMinutes, minutes: Math.max(0, rps.length - from) };
}

export interface Bound {
  readonly follower: Follower;
  readonly result: FollowerResult;
  readonly ratioToOracle: number;
  readonly violationPercent: number;
}

export const BOUND_HOLDS = [1, 2, 3, 5, 10, 15, 30] as const;
export const BOUND_HEADROOMS = Array.from({ length: 41 }, (_, i) => i * 0.05);

/**
 * The cheapest follower with `lagMinutes` over the grid of holds and
 * headrooms whose violation minutes from `from` on stay within
 * `maxViolationPercent`, with its ratio to perfect foresight over the same
 * minutes; undefined when none does.
 */
export function cheapestFollower(rps: ArrayLike<number>, pool: FollowerPool, lagMinutes: number, maxViolationPercent: number, from = 0): Bound | undefined {
  const oracle = follow(rps, pool, { lagMinutes: 0, holdMinutes: 1, headroom: 0 }, from);
  let best: Bound | undefined;
  for (const holdMinutes of BOUND_HOLDS) {
    for (const headroom of BOUND_HEADROOMS) {
      const result = follow(rps, pool, { lagMinutes, holdMinutes, headroom }, from);
      const violationPercent = (100 * result.violationMinutes) / Math.max(1, result.minutes);
      if (violationPercent > maxViolationPercent) continue;
      if (!best || result.taskMinutes < best.result.taskMinutes) {
        best = { follower: { lagMinutes, holdMinutes, headroom }, result, ratioToOracle: result.taskMinutes / Math.max(1, oracle.taskMinutes), violationPercent };
      }
      // More headroom only costs more once the budget is met.
      break;
    }
  }
  return best;
}

/** A simulated pool as the follower sees it: its capacity per task, min, and the oracle's ceiling. */
export function followerPool(sim: SimPool): FollowerPool {
  const { pool } = sim;
  return {
    capacityPerTask: pool.capacityPerTask,
    minCapacity: pool.minCapacity,
    ceiling: oracleCeiling(sim),
    baseP95Ms: baseP95(sim),
  };
}
