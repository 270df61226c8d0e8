/**
 * What a scale-to-zero target's metrics say (the Pipestream model: to zero
 * after `idleMinutes` with no work, back as soon as work appears), and the
 * `wake` hold that keeps it up while there is work. Pure: the reconciler,
 * the simulator and the tests call it with observed values.
 *
 * The rules that keep work from being lost:
 * - pending work in a fresh datapoint wakes the target (hold `wake`);
 * - idle means every minute of the `idleMinutes` ending now has a datapoint
 *   of 0 (the last `PUBLISH_DELAY_MINUTES`, which CloudWatch may not have yet,
 *   may be missing); a gap is unknown, not idle, unless the target opts in;
 * - work in flight (a GPU job that lags nothing) and GPU utilisation above
 *   the idle threshold count as work: never to zero while either shows some;
 * - a work metric that is unreadable, or that has no datapoints at all (a
 *   Kafka consumer group that never committed has no lag metric), is
 *   `unknown`: at zero that is an error the reconciler counts and alarms on,
 *   with an optional timed probe to one task.
 */
import { WAKE_HOLDER, epochSeconds, isActive, type Hold } from './holds';

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

export interface WorkSignals {
  /** Pending work (Kafka lag, queue depth). */
  readonly work: Observation;
  /** Work being processed, when the target publishes it. */
  readonly inFlight?: Observation;
  /** GPU utilisation %, for GPU targets. */
  readonly gpu?: Observation;
}

export interface IdlePolicy {
  readonly idleMinutes: number;
  /** A minute with no datapoint counts as 0. Off: a gap is unknown and blocks scale-down. */
  readonly missingDataIsIdle: boolean;
  /** GPU utilisation at or below this is idle. */
  readonly gpuIdlePercent: number;
}

export type WorkState =
  /** Pending work in a fresh datapoint: wake. */
  | { readonly state: 'work'; readonly pending: number; readonly reason: string }
  /** Not provably idle: recent work, work in flight, a busy GPU, or a gap. */
  | { readonly state: 'busy'; readonly reason: string }
  /** The idle rule is met: the target may go to zero. */
  | { readonly state: 'idle'; readonly reason: string }
  /** The work metric cannot be read or has no datapoints: nobody can tell. */
  | { readonly state: 'unknown'; readonly reason: string };

const MINUTE = 60_000;

/**
 * Minutes CloudWatch may take to publish a datapoint: the newest minutes of
 * the idle window may be missing without making it unknown.
 */
export const PUBLISH_DELAY_MINUTES = 1;

/** Pending work in a datapoint older than this does not wake a target: the metric has stopped. */
export const MAX_STALENESS_MINUTES = 3;

/** Minutes of history the decision reads. */
export function lookbackMinutes(policy: Pick<IdlePolicy, 'idleMinutes'>): number {
  return Math.max(policy.idleMinutes, MAX_STALENESS_MINUTES) + 1;
}

const minuteOf = (t: number) => Math.floor(t / MINUTE);

function newest(points: readonly Point[]): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (!best || p.t > best.t) best = p;
  return best;
}

const at = (minute: number) => new Date(minute * MINUTE).toISOString().slice(11, 16) + 'Z';

/**
 * Why `obs` does not show `idleMinutes` of nothing ending now (values at or
 * below `threshold` count as nothing), or undefined when it does.
 */
function notIdleBecause(obs: Observation, policy: IdlePolicy, now: number, what: string, threshold = 0): string | undefined {
  if (obs.error) return `${what} unreadable (${obs.error}): an unreadable metric never scales down`;
  const byMinute = new Map<number, number>();
  for (const p of obs.points) byMinute.set(minuteOf(p.t), Math.max(byMinute.get(minuteOf(p.t)) ?? -Infinity, p.v));
  const end = minuteOf(now) - 1;
  for (let m = end - policy.idleMinutes + 1; m <= end; m++) {
    const v = byMinute.get(m);
    if (v === undefined) {
      if (policy.missingDataIsIdle || m > end - PUBLISH_DELAY_MINUTES) continue;
      return `${what} has no datapoint at ${at(m)}: unknown, not idle`;
    }
    if (v > threshold) return `${what} ${round(v)} at ${at(m)}, within the last ${policy.idleMinutes} minutes`;
  }
  return undefined;
}

const round = (v: number) => Math.round(v * 100) / 100;

/** The state of a scale-to-zero target's work at `now` (epoch ms). */
export function workState(signals: WorkSignals, policy: IdlePolicy, now: number): WorkState {
  const { work } = signals;
  if (work.error) return { state: 'unknown', reason: `work metric unreadable (${work.error})` };
  const latest = newest(work.points);
  if (latest && latest.v > 0 && minuteOf(now) - minuteOf(latest.t) <= MAX_STALENESS_MINUTES) {
    return { state: 'work', pending: latest.v, reason: `${round(latest.v)} pending at ${at(minuteOf(latest.t))}` };
  }
  if (!latest && !policy.missingDataIsIdle) {
    return { state: 'unknown', reason: 'work metric has no datapoints (a consumer group that never committed has no lag metric)' };
  }
  const busy =
    notIdleBecause(work, policy, now, 'work') ??
    (signals.inFlight ? notIdleBecause(signals.inFlight, policy, now, 'in-flight work') : undefined) ??
    // The GPU signal only counts while tasks run (none at zero): a gap in it then is unknown, not idle, like the
    // work metric's, so a GPU job whose pool never publishes utilisation is not taken to zero unseen.
    (signals.gpu ? notIdleBecause(signals.gpu, policy, now, 'GPU utilisation', policy.gpuIdlePercent) : undefined);
  if (busy) return { state: 'busy', reason: busy };
  return { state: 'idle', reason: `no work for ${policy.idleMinutes} minutes` };
}

export interface WakeSpec {
  readonly name: string;
  readonly idleMinutes: number;
  /** Capacity to wake to. */
  readonly scaleFromZeroTo: number;
  /** Probe a target whose work is unknown at zero: one task for `forMinutes`, every `everyMinutes`. */
  readonly probe?: { readonly everyMinutes: number; readonly forMinutes: number };
}

/**
 * The `wake` hold to write now, or undefined to write nothing (an existing
 * one is still good, or it is time to let it lapse). While a target works,
 * its wake hold is renewed before half of it has run out, so ticks may be
 * missed; when the work stops, renewals stop and the hold lapses by itself.
 */
export function wakeHold(spec: WakeSpec, state: WorkState, desired: number, existing: Hold | undefined, now: number): Hold | undefined {
  const nowS = epochSeconds(now);
  const lifetime = (spec.idleMinutes + 1) * 60;
  const keep = existing && isActive(existing, now) && existing.floor === spec.scaleFromZeroTo && existing.expiresAt - nowS > lifetime / 2;
  // At zero only pending work wakes; above zero, anything short of provably idle keeps the target up
  // (target tracking on an empty queue would otherwise take a GPU job in flight to zero).
  const wanted = state.state === 'work' || (state.state === 'busy' && desired > 0);
  if (wanted) {
    if (keep) return undefined;
    return {
      target: spec.name,
      holder: WAKE_HOLDER,
      floor: spec.scaleFromZeroTo,
      reason: state.state === 'work' ? `work pending (${state.reason})` : `not idle yet (${state.reason})`,
      createdAt: nowS,
      expiresAt: nowS + lifetime,
    };
  }
  if (state.state === 'unknown' && desired === 0 && spec.probe && !(existing && isActive(existing, now))) {
    // Clock-aligned, so the probe needs no memory of the last one.
    if (minuteOf(now) % spec.probe.everyMinutes === 0) {
      return {
        target: spec.name,
        holder: WAKE_HOLDER,
        floor: 1,
        reason: `probe: ${state.reason}; one task for ${spec.probe.forMinutes} minutes so the work can show itself`,
        createdAt: nowS,
        expiresAt: nowS + spec.probe.forMinutes * 60,
      };
    }
  }
  return undefined;
}

/**
 * May the target go to zero? Idle, or — for a target that opted into probes —
 * its work still unknown once the probe's hold has lapsed (the probe found
 * nothing to do; the error keeps counting).
 */
export function idleVerdict(spec: { readonly probe?: WakeSpec['probe'] | undefined }, state: WorkState): { idle: boolean; reason: string } {
  if (state.state === 'idle') return { idle: true, reason: state.reason };
  if (state.state === 'unknown' && spec.probe) return { idle: true, reason: `probe over and ${state.reason}` };
  return { idle: false, reason: state.reason };
}
