/**
 * Scale out on the growth rate of the Kafka lag (`scaleOnLagGrowth`, the
 * Pipestream playbook's "scale on lag growth rate, not absolute lag"): an
 * Application Auto Scaling step scaling policy on a CloudWatch alarm over
 * the metric math `RATE(lag)` of ConsumerLag (Maximum, 1-minute period):
 * the lag's change per second between consecutive datapoints, negative while
 * the backlog drains. The sizes come from `growthPolicy` (lambdas/core/drain.ts,
 * the drain arithmetic applied to the growth alone); this file fixes the
 * alarm and the cooldown, so the construct that deploys the policy and the
 * simulator that models it use the same numbers. Pure, no AWS SDK.
 */
import { growthAdjustment, growthPolicy, type GrowthPolicy } from './drain';

/** One datapoint a minute: ConsumerLag is published per minute, and RATE needs two readings to say anything. */
export const LAG_GROWTH_PERIOD_SECONDS = 60;
/**
 * Two one-minute growth datapoints, both at or above the threshold: growth
 * sustained over two minutes (three lag readings), not one noisy reading —
 * a lag that jumps once and stays is a one-off, one that keeps climbing is
 * load the pool does not carry. One minute sooner than target tracking's
 * 3 of 3, which is the point of the policy.
 */
export const LAG_GROWTH_EVALUATION_PERIODS = 2;
export const LAG_GROWTH_DATAPOINTS = 2;
/** The alarm fires at growth >= threshold (growthAdjustment counts the threshold itself as growth). */
export const LAG_GROWTH_COMPARISON = 'GreaterThanOrEqualToThreshold';
/** A missing lag datapoint has no rate: it is no growth (and the alarm goes back to OK rather than INSUFFICIENT_DATA). */
export const LAG_GROWTH_TREAT_MISSING_DATA = 'notBreaching';
/** Tasks are added, not a percentage: the steps are sized in tasks' worth of growth. */
export const LAG_GROWTH_ADJUSTMENT_TYPE = 'ChangeInCapacity';
/** The metric math, per second (`lag` is the ConsumerLag query's id). */
export const LAG_GROWTH_EXPRESSION = 'RATE(lag)';

export interface LagGrowthSpec {
  /** Messages per second one task serves while latency holds. */
  readonly capacityPerTask: number;
  /** Share of a task's capacity to plan for: thresholds.cpuPercent / 100, as the drain floor. */
  readonly targetUtilization: number;
  /** Seconds from "desired + 1" to the task serving. */
  readonly startupSeconds: number;
  /** The pool's scale-out cooldown. */
  readonly scaleOutCooldownSeconds: number;
}

/**
 * The step policy's cooldown: the pool's start-up time plus the alarm's
 * evaluation window (engine: 60 + 2 × 60 = 180 s), never less than the
 * pool's scale-out cooldown. A task the step adds slows the growth only once
 * it serves, and the alarm keeps seeing the growth that asked for it until
 * every datapoint it evaluates was measured with that task serving; before
 * then the same growth would buy the same tasks again. Application Auto
 * Scaling counts the capacity the previous step added as part of the next
 * one while the cooldown runs ("capacity added by the initiating scale-out
 * activity is calculated as part of the desired capacity for the next
 * scale-out activity", API reference, StepScalingPolicyConfiguration), so a
 * larger step (faster growth) still adds the difference at once: the
 * cooldown stops repeats, not escalation. (Simulated, docs/simulator.md: the
 * start-up time alone cost 1.6 % more task-minutes on ELB and 4 more
 * violation minutes; longer than this changed nothing.)
 */
export function lagGrowthCooldownSeconds(s: Pick<LagGrowthSpec, 'startupSeconds' | 'scaleOutCooldownSeconds'>): number {
  return Math.max(s.startupSeconds + LAG_GROWTH_EVALUATION_PERIODS * LAG_GROWTH_PERIOD_SECONDS, s.scaleOutCooldownSeconds);
}

/** The policy a pool gets: the threshold and steps of `growthPolicy`, the alarm and the cooldown above. */
export interface LagGrowthPolicy extends GrowthPolicy {
  readonly cooldownSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

export function lagGrowthPolicy(s: LagGrowthSpec): LagGrowthPolicy {
  return {
    ...growthPolicy(s),
    cooldownSeconds: lagGrowthCooldownSeconds(s),
    evaluationPeriods: LAG_GROWTH_EVALUATION_PERIODS,
    datapointsToAlarm: LAG_GROWTH_DATAPOINTS,
  };
}

/**
 * The alarm over the newest `LAG_GROWTH_EVALUATION_PERIODS` growth datapoints
 * (oldest first; undefined = missing, which never breaches): the tasks the
 * step policy adds, sized on the newest datapoint, or 0 when it is not in
 * ALARM. (With a 60-second period each datapoint is one value, so the
 * policy's MetricAggregationType — Average, Minimum or Maximum — gives the
 * same number.)
 */
export function lagGrowthStep(policy: LagGrowthPolicy, growth: readonly (number | undefined)[]): number {
  const window = growth.slice(-policy.evaluationPeriods);
  const breaching = window.filter((g) => g !== undefined && g >= policy.threshold).length;
  if (window.length < policy.evaluationPeriods || breaching < policy.datapointsToAlarm) return 0;
  const newest = window[window.length - 1];
  return newest === undefined ? 0 : growthAdjustment(policy, newest);
}
