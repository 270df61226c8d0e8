/**
 * Scale-to-zero decision (the Pipestream model): a GPU module or GPU node
 * group goes to its floor (usually 0) after `idleMinutes` with no work, and
 * back up as soon as work appears. Pure: the handler, the simulator and the
 * tests call it with observed values.
 */

/** One datapoint: minute timestamp (epoch ms) and value. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

/** What CloudWatch returned for one metric: its points (any order), or why it could not be read. */
export interface Observation {
  readonly points: readonly Point[];
  readonly error?: string;
}

export interface ScaleToZeroPolicy {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly idleMinutes: number;
  readonly scaleFromZeroTo: number;
  /** Treat a minute with no datapoint as "no work". Off: a gap is unknown and blocks scale-down. */
  readonly missingDataIsIdle: boolean;
}

export interface ScaleToZeroInput {
  readonly policy: ScaleToZeroPolicy;
  /** Desired capacity now (ECS desiredCount / node group desiredSize). */
  readonly desired: number;
  /** Pending work. */
  readonly work: Observation;
  /** Work being processed, when the target publishes it. */
  readonly inFlight?: Observation;
  /** An operator paused automatic scaling of this target. */
  readonly paused?: boolean;
  /** Evaluation time, epoch ms. */
  readonly now: number;
}

export interface ScaleDecision {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

const MINUTE = 60_000;

/**
 * How old the newest datapoint may be and still speak for "now". CloudWatch
 * custom metrics usually land within 1-2 minutes; older than this, the metric
 * has stopped and its silence is unknown.
 */
export const MAX_STALENESS_MINUTES = 3;

/** Minutes of history the decision needs to look at. */
export function lookbackMinutes(policy: Pick<ScaleToZeroPolicy, 'idleMinutes'>): number {
  return policy.idleMinutes + MAX_STALENESS_MINUTES + 1;
}

const minuteOf = (t: number) => Math.floor(t / MINUTE);

function latest(points: readonly Point[]): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (!best || p.t > best.t) best = p;
  return best;
}

/**
 * Why the series does not show `idleMinutes` of no work, or undefined when it does.
 * Without the opt-in, every minute of the window must have a datapoint of 0,
 * and the window ends at the newest datapoint, which must be fresh.
 */
function notIdleBecause(obs: Observation, policy: ScaleToZeroPolicy, now: number, what: string): string | undefined {
  if (obs.error) return `${what} unreadable (${obs.error}); an unreadable metric never scales down`;
  const newest = latest(obs.points);
  const busy = obs.points.find((p) => p.v > 0 && p.t > now - policy.idleMinutes * MINUTE);
  if (busy) return `${what} ${busy.v} within the last ${policy.idleMinutes} minutes`;

  if (policy.missingDataIsIdle) {
    // Opted in: a missing minute counts as 0, so the last idleMinutes ending now decide.
    return undefined;
  }
  if (!newest) return `no ${what} datapoints: missing data is unknown, not idle`;
  const ageMinutes = minuteOf(now) - minuteOf(newest.t);
  if (ageMinutes > MAX_STALENESS_MINUTES) return `newest ${what} datapoint is ${ageMinutes} minutes old: unknown, not idle`;
  const byMinute = new Map<number, number>();
  for (const p of obs.points) byMinute.set(minuteOf(p.t), Math.max(byMinute.get(minuteOf(p.t)) ?? -Infinity, p.v));
  const end = minuteOf(newest.t);
  for (let m = end - policy.idleMinutes + 1; m <= end; m++) {
    const at = new Date(m * MINUTE).toISOString();
    const v = byMinute.get(m);
    if (v === undefined) return `${what} has a gap at ${at}: unknown, not idle`;
    if (v > 0) return `${what} ${v} at ${at}, within the last ${policy.idleMinutes} datapoints`;
  }
  return undefined;
}

/** Decide the capacity of one scale-to-zero target. */
export function decideScaleToZero(input: ScaleToZeroInput): ScaleDecision {
  const { policy, desired, work, now } = input;
  const hold = (reason: string): ScaleDecision => ({ from: desired, to: desired, reason });
  const floor = Math.min(policy.minCapacity, policy.maxCapacity);

  if (input.paused) return hold('paused by an operator');

  const newest = work.error ? undefined : latest(work.points);
  if (newest && newest.v > 0) {
    if (desired === 0) {
      const to = Math.min(policy.maxCapacity, Math.max(policy.scaleFromZeroTo, policy.minCapacity, 1));
      return { from: desired, to, reason: `work appeared (${newest.v} pending) at zero capacity` };
    }
    return hold(`work pending (${newest.v}); capacity ${desired} is serving it`);
  }
  if (desired < floor) return { from: desired, to: floor, reason: `below the minimum capacity ${floor}` };
  if (desired === floor) return hold(floor === 0 ? 'idle at zero' : `at the minimum capacity ${floor}`);

  const workBusy = notIdleBecause(work, policy, now, 'work');
  if (workBusy) return hold(workBusy);
  if (input.inFlight) {
    const inFlightBusy = notIdleBecause(input.inFlight, policy, now, 'in-flight work');
    if (inFlightBusy) return hold(inFlightBusy);
  }
  return { from: desired, to: floor, reason: `no work for ${policy.idleMinutes} minutes` };
}
