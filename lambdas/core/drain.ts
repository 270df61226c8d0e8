/**
 * Sizing capacity to what clears a backlog, not to how big the backlog is.
 * Target tracking on Kafka lag asks for capacity in proportion to total lag
 * (lag 20,000 at target 1,000: twenty times what runs), whether the lag is
 * growing or already draining. What a backlog needs is
 *
 *   capacity = ceil((arrival rate + backlog ÷ drain seconds) ÷ capacity per task ÷ target utilisation)
 *
 * so a growing backlog adds what clears it in `drainSeconds`, and one that
 * the running tasks already drain adds nothing. The backlog counted is the
 * one there will be when new tasks can start serving (it keeps growing
 * through their start-up). Pure: the reconciler, the emergency Lambda and
 * the simulator share it (and the lag-growth policy of the playbook).
 */

export interface BacklogObservation {
  /** Work waiting now (Kafka lag, queue depth). */
  readonly backlog: number;
  /** Work waiting one interval earlier; undefined when unknown. */
  readonly previousBacklog?: number;
  /** Work processed per second over the last interval (the pool's request count ÷ seconds). */
  readonly processedPerSecond: number;
  /** Seconds between the two backlog readings. @default 60 */
  readonly intervalSeconds?: number;
}

/** Work arriving per second: what was processed plus how fast the backlog grew (never below zero). */
export function arrivalRate(o: BacklogObservation): number {
  const growth = o.previousBacklog === undefined ? 0 : (o.backlog - o.previousBacklog) / (o.intervalSeconds ?? 60);
  return Math.max(0, o.processedPerSecond + growth);
}

/** Backlog growth per second (negative while draining); 0 when the previous reading is unknown. */
export function backlogGrowth(o: BacklogObservation): number {
  return o.previousBacklog === undefined ? 0 : (o.backlog - o.previousBacklog) / (o.intervalSeconds ?? 60);
}

export interface DrainSizing {
  /** Requests (messages) per second one task serves while latency holds. */
  readonly capacityPerTask: number;
  /** Share of a task's capacity to plan for (e.g. the CPU target, 0.7); 1 for an emergency. */
  readonly targetUtilization: number;
  /** Seconds the backlog should take to clear. */
  readonly drainSeconds: number;
  /** Seconds from "one more task" to it serving. */
  readonly startupSeconds: number;
}

/**
 * Tasks that carry the arrivals and clear the backlog within `drainSeconds`,
 * counting the backlog that builds up while new tasks start (arrivals above
 * what `ready` tasks serve, for `startupSeconds`).
 */
export function drainCapacity(o: BacklogObservation, ready: number, s: DrainSizing): number {
  if (!(s.capacityPerTask > 0) || !(s.targetUtilization > 0) || !(s.drainSeconds > 0)) {
    throw new Error(`capacityPerTask, targetUtilization and drainSeconds must be > 0, got ${s.capacityPerTask}, ${s.targetUtilization}, ${s.drainSeconds}`);
  }
  const arrival = arrivalRate(o);
  const servedNow = ready * s.capacityPerTask;
  const backlogWhenReady = Math.max(0, o.backlog) + Math.max(0, arrival - servedNow) * s.startupSeconds;
  const need = (arrival + backlogWhenReady / s.drainSeconds) / (s.capacityPerTask * s.targetUtilization);
  // Round away float noise before the ceiling (100 × 1.1 must stay 110).
  return need > 0 ? Math.ceil(Number(need.toFixed(9))) : 0;
}

export interface EmergencyNeed {
  /** The capacity the backlog needs now, at full per-task capacity. */
  readonly need: number;
  /** Capacity already asked for (running and starting) does not clear the backlog in time: raise. */
  readonly fire: boolean;
  readonly reason: string;
}

/**
 * Does an emergency earn its cost? Only when the capacity already asked for
 * (`desired`: running and starting) cannot clear the backlog within the
 * drain time even at full per-task capacity; then the raise is what does.
 */
export function emergencyNeed(o: BacklogObservation, ready: number, desired: number, s: Omit<DrainSizing, 'targetUtilization'>): EmergencyNeed {
  const need = drainCapacity(o, ready, { ...s, targetUtilization: 1 });
  const arrival = arrivalRate(o).toFixed(1);
  if (need <= desired) {
    return { need, fire: false, reason: `the ${desired} tasks asked for clear backlog ${Math.round(o.backlog)} at ${arrival}/s within ${s.drainSeconds} s` };
  }
  return { need, fire: true, reason: `backlog ${Math.round(o.backlog)} at ${arrival}/s needs ${need} tasks to clear in ${s.drainSeconds} s; ${desired} asked for` };
}

/** A target's drain settings, as the targets document carries them. */
export interface DrainSpec {
  readonly capacityPerTask: number;
  /** Share of per-task capacity the drain floor plans for (the CPU target). */
  readonly targetUtilization: number;
  readonly drainSeconds: number;
  readonly startupSeconds: number;
  /** Backlog the pool normally runs with (the lag threshold): only more than this is drained. */
  readonly backlogThreshold: number;
}

/** What the metrics say of a target's backlog: the observation and the tasks that were serving. */
export interface BacklogSignal {
  readonly observation: BacklogObservation;
  readonly ready: number;
}

/** How long a drain floor lasts: two passes of the reconciler; renewed while the backlog needs it. */
export const DRAIN_HOLD_SECONDS = 120;

/**
 * The `drain` hold to write now, or undefined: a backlog above the threshold
 * that the tasks asked for cannot clear in `drainSeconds` gets a short floor
 * of what does (within the configured max: beyond that is an emergency's).
 */
export function drainHold(target: string, spec: DrainSpec, signal: BacklogSignal | undefined, desired: number, max: number, now: number) {
  if (!signal || signal.observation.backlog <= spec.backlogThreshold) return undefined;
  const need = Math.min(max, drainCapacity(signal.observation, signal.ready, spec));
  if (need <= desired) return undefined;
  const createdAt = Math.floor(now / 1000);
  return {
    target,
    holder: 'drain',
    floor: need,
    reason: `backlog ${Math.round(signal.observation.backlog)} at ${arrivalRate(signal.observation).toFixed(1)}/s needs ${need} tasks to clear in ${spec.drainSeconds} s`,
    createdAt,
    expiresAt: createdAt + DRAIN_HOLD_SECONDS,
  };
}

/**
 * The lag-growth policy (Pipestream: "scale on lag growth rate, not absolute
 * lag"): a step scale-out on the rate at which the backlog grows, so a
 * backlog that the running tasks drain adds nothing and one that grows adds
 * capacity before the absolute threshold is reached. Growth of g per second
 * beyond what runs needs g ÷ (capacity per task × target utilisation) more
 * tasks — the same arithmetic as `drainCapacity`, applied to the growth
 * alone. The alarm fires at half a task's worth of growth; each further
 * task's worth adds one more task, up to `maxStep` at once.
 */
export interface GrowthStep {
  /** Growth per second above the alarm threshold where the step starts. */
  readonly lower: number;
  /** Where it ends; undefined for the last, open step. */
  readonly upper?: number;
  /** Tasks to add. */
  readonly change: number;
}

export interface GrowthPolicy {
  /** Backlog growth per second at which the policy acts. */
  readonly threshold: number;
  /** Offsets from the threshold, as Application Auto Scaling step adjustments take them. */
  readonly steps: readonly GrowthStep[];
}

/** Tasks added at once at most (Application Auto Scaling allows 20 steps; five covers a 5-task surge per start-up). */
export const MAX_GROWTH_STEP = 5;

export function growthPolicy(s: Pick<DrainSizing, 'capacityPerTask' | 'targetUtilization'>, maxStep = MAX_GROWTH_STEP): GrowthPolicy {
  if (!(s.capacityPerTask > 0) || !(s.targetUtilization > 0)) {
    throw new Error(`capacityPerTask and targetUtilization must be > 0, got ${s.capacityPerTask}, ${s.targetUtilization}`);
  }
  if (!Number.isInteger(maxStep) || maxStep < 1 || maxStep > 20) throw new Error(`maxStep must be a whole number from 1 to 20, got ${maxStep}`);
  const perTask = s.capacityPerTask * s.targetUtilization;
  const steps: GrowthStep[] = [];
  for (let k = 1; k <= maxStep; k++) {
    const lower = (k - 1) * perTask;
    steps.push(k === maxStep ? { lower, change: k } : { lower, upper: k * perTask, change: k });
  }
  return { threshold: perTask / 2, steps };
}

/** Tasks the policy adds for a backlog growing `growth` per second (0 below the threshold, or while draining). */
export function growthAdjustment(policy: GrowthPolicy, growth: number): number {
  if (!(growth >= policy.threshold)) return 0;
  const over = growth - policy.threshold;
  const step = policy.steps.find((st) => over >= st.lower && (st.upper === undefined || over < st.upper));
  return step?.change ?? 0;
}
