/**
 * Faster scale-in for an always-on pool (`scaleInMinutes` under 15): target
 * tracking keeps scaling out, with `DisableScaleIn`, and an Application Auto
 * Scaling step policy removes tasks instead, after `scaleInMinutes` one-minute
 * datapoints below 90 % of the CPU target rather than target tracking's fixed
 * 15 of 15 (docs/aws-facts.md; not configurable on target tracking).
 *
 * Why: on bursty load that 15-minute wait, not the scale-out, is what keeps
 * target tracking (and mlscale on top of it) far above what the load needs
 * (docs/benchmarks.md). The step is sized as target tracking sizes its own
 * scale-in — down to ceil(tasks × cpu / target), so the tasks left run at
 * most at the target, and at most a quarter of the tasks (at least one) per
 * step — so the only change is how soon it acts.
 *
 * The sizing is CloudWatch metric math over the pool's CPU and running tasks
 * (`scaleInExpressions`); the alarm fires when scaleInMinutes of scaleInMinutes
 * datapoints are low, and the step adjustments remove what the newest says
 * (ChangeInCapacity, one step per task, up to 19).
 * This file holds the numbers and the same arithmetic in TypeScript, so the
 * construct that deploys the policy and the simulator that models it agree.
 * Pure, no AWS SDK.
 */

/** Target tracking's own scale-in wait: 15 of 15 datapoints (docs/aws-facts.md). At 15 no step policy is added. */
export const TARGET_TRACKING_SCALE_IN_MINUTES = 15;
/** Below this share of the target a datapoint counts as low, as target tracking's low alarm counts it. */
export const SCALE_IN_LOW_FRACTION = 0.9;
/** At most this share of the tasks per step (at least one), as the simulator's target tracking scales in. */
export const SCALE_IN_MAX_SHARE = 0.25;
/**
 * Step adjustments per policy are at most 20 (Application Auto Scaling); one is the "low, nothing to
 * remove" step, so one step removes at most 19 tasks.
 */
export const SCALE_IN_MAX_STEPS = 20;
export const SCALE_IN_MAX_REMOVAL = SCALE_IN_MAX_STEPS - 1;
export const SCALE_IN_PERIOD_SECONDS = 60;
/** Alarm: the datapoint is low (its value is 1 + the tasks removable; 0 when not low). */
export const SCALE_IN_THRESHOLD = 1;
export const SCALE_IN_COMPARISON = 'GreaterThanOrEqualToThreshold';
/** A missing datapoint is not low: as target tracking, never scale in on missing data. */
export const SCALE_IN_TREAT_MISSING_DATA = 'notBreaching';
export const SCALE_IN_ADJUSTMENT_TYPE = 'ChangeInCapacity';

/**
 * A step needs RunningTaskCount to show the tasks the step before it left:
 * a stopped task counts until it has exited (up to the task's stop timeout
 * after SIGTERM), the minute the step lands in is a mix, and a datapoint
 * reaches the alarm about two minutes after its minute (docs/simulator.md,
 * "CloudWatch and the alarms"). So the cooldown is at least the stop timeout
 * plus these three minutes.
 */
export const STALE_TASK_COUNT_SECONDS = 180;

/**
 * The step policy's cooldown: the pool's scale-in cooldown, but never so
 * short that the next step sees the task count from before the last one.
 * Why: the step removes (tasks counted − tasks wanted) from the *current*
 * desired capacity; on a stale count it would take the last step's tasks a
 * second time, below the CPU target, and target tracking would add them
 * back (a flap).
 */
export function stepScaleInCooldownSeconds(cooldownSeconds: number, stopTimeoutSeconds: number): number {
  return Math.max(cooldownSeconds, stopTimeoutSeconds + STALE_TASK_COUNT_SECONDS);
}

export interface ScaleInPolicy {
  /** CPU target tracking's target, percent. */
  readonly cpuTarget: number;
  /** Datapoints (one a minute) that must all be low: the alarm's evaluation periods and datapoints to alarm. */
  readonly minutes: number;
  /** The scale-in cooldown: a step blocks the next for this long (at least stepScaleInCooldownSeconds' floor). */
  readonly cooldownSeconds: number;
  /** With target tracking on the lag too: the lag must also be below 90 % of this (every tracked metric agrees). */
  readonly lagTarget?: number;
}

/** The step policy replaces target tracking's scale-in (scaleInMinutes under 15). */
export function usesStepScaleIn(minutes: number): boolean {
  return minutes < TARGET_TRACKING_SCALE_IN_MINUTES;
}

/**
 * The alarm's datapoint, from one datapoint of CPU (percent), running tasks
 * and (when tracked) lag: 0 unless every tracked metric is below 90 % of its
 * target (not low: no scale-in); else 1 + the tasks a step would remove,
 * tasks − ceil(tasks × cpu / target) (one task always stays), at most a quarter of the tasks (at
 * least one) and at most 19. Target tracking's rule: scale in when every
 * datapoint of the window is low, sized on the newest. The metric math of
 * `scaleInExpressions` computes the same.
 */
export function scaleInDatapoint(policy: ScaleInPolicy, cpu: number, tasks: number, lag?: number): number {
  if (!(tasks > 0) || !(cpu < SCALE_IN_LOW_FRACTION * policy.cpuTarget)) return 0;
  if (policy.lagTarget !== undefined && !(lag !== undefined && lag < SCALE_IN_LOW_FRACTION * policy.lagTarget)) return 0;
  // At least one task stays: CPU cannot wake a pool at zero.
  const wanted = tasks - Math.max(1, Math.ceil((tasks * cpu) / policy.cpuTarget));
  return 1 + Math.min(wanted, scaleInCap(tasks));
}

/** At most a quarter of the tasks per step, at least one, at most SCALE_IN_MAX_REMOVAL. */
export function scaleInCap(tasks: number): number {
  return Math.min(SCALE_IN_MAX_REMOVAL, Math.max(1, Math.floor(tasks * SCALE_IN_MAX_SHARE)));
}

/**
 * The same in CloudWatch metric math, over `cpu` (CPUUtilization, Average),
 * `tasks` (RunningTaskCount) and, with lagTarget, `lag` (the lag metric), as
 * three expressions, each using the ones before by id: `wanted` (tasks that
 * would leave the rest at the target, one at least; never negative while
 * CPU is below it), `cap` (scaleInCap) and `removable`, 1 + the smaller of the two while
 * every tracked metric is low, 0 otherwise. IF and the comparisons work point
 * by point; CEIL and FLOOR round each value.
 */
export function scaleInExpressions(policy: ScaleInPolicy): { readonly wanted: string; readonly cap: string; readonly removable: string } {
  const low = trim(SCALE_IN_LOW_FRACTION * policy.cpuTarget);
  // Every comparison in parentheses: CloudWatch does not document how AND binds against < and >.
  const lagLow = policy.lagTarget !== undefined ? ` AND (lag < ${trim(SCALE_IN_LOW_FRACTION * policy.lagTarget)})` : '';
  // floor(tasks / 4) is at least 2 from 8 tasks on and reaches the removal limit from 4 × 19 = 76.
  const capFrom = Math.ceil(2 / SCALE_IN_MAX_SHARE);
  const capAt = Math.ceil(SCALE_IN_MAX_REMOVAL / SCALE_IN_MAX_SHARE);
  const target = trim(policy.cpuTarget);
  return {
    wanted: `tasks - IF((CEIL(tasks * cpu / ${target}) > 1), CEIL(tasks * cpu / ${target}), 1)`,
    cap: `IF((tasks >= ${capAt}), ${SCALE_IN_MAX_REMOVAL}, IF((tasks >= ${capFrom}), FLOOR(tasks * ${SCALE_IN_MAX_SHARE}), 1))`,
    removable: `IF((tasks > 0) AND (cpu < ${low})${lagLow}, 1 + IF((wanted < cap), wanted, cap), 0)`,
  };
}

/**
 * The step adjustments, as offsets from the threshold: a datapoint of 1 + k
 * (offset k) removes k tasks; the first step, low with nothing to remove,
 * changes nothing; the last takes everything from 19 up.
 */
export function scaleInSteps(): { readonly lower: number; readonly upper?: number; readonly change: number }[] {
  return Array.from({ length: SCALE_IN_MAX_STEPS }, (_, i) => ({
    lower: i,
    ...(i < SCALE_IN_MAX_STEPS - 1 ? { upper: i + 1 } : {}),
    change: i === 0 ? 0 : -i,
  }));
}

/**
 * The alarm over the newest `policy.minutes` datapoints (oldest first;
 * undefined = missing, which never breaches): tasks the step removes, sized
 * on the newest datapoint, or 0 when it is not in ALARM.
 */
export function scaleInStep(policy: ScaleInPolicy, datapoints: readonly (number | undefined)[]): number {
  const window = datapoints.slice(-policy.minutes);
  if (window.length < policy.minutes || window.some((d) => d === undefined || d < SCALE_IN_THRESHOLD)) return 0;
  return window[window.length - 1]! - SCALE_IN_THRESHOLD;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
