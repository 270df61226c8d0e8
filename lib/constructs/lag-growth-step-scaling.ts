import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { ADJUSTMENT, COMPARISON, MISSING } from './step-policy-enums';
import {
  LAG_GROWTH_ADJUSTMENT_TYPE,
  LAG_GROWTH_COMPARISON,
  LAG_GROWTH_EXPRESSION,
  LAG_GROWTH_PERIOD_SECONDS,
  LAG_GROWTH_TREAT_MISSING_DATA,
  type LagGrowthPolicy,
} from '../../lambdas/core/lag-growth';

export interface LagGrowthStepScalingProps {
  /** The scalable target the steps change. */
  readonly scalingTarget: appscaling.IScalableTarget;
  /** The consumer group's lag, a plain metric; the alarm reads it at statistic Maximum, one-minute period. */
  readonly lagMetric: cloudwatch.IMetric;
  /** Threshold, steps, cooldown and alarm window: `lagGrowthPolicy()` (lambdas/core/lag-growth.ts). */
  readonly policy: LagGrowthPolicy;
  /**
   * Name of the scaling policy, unique per scalable target.
   * @default - a name CDK derives from the construct path
   */
  readonly policyName?: string;
  /**
   * Who the alarm is about, at the start of its description.
   * @default - the construct path
   */
  readonly subject?: string;
}


/**
 * Step scale-out on the growth rate of a Kafka lag: a CloudWatch alarm on
 * `RATE(lag)` (per second, negative while the backlog drains) invoking an
 * Application Auto Scaling step policy that adds tasks, never removes them.
 * Every number is `props.policy`'s, deployed as it is: the simulator models
 * the same numbers (lambdas/core/lag-growth.ts).
 *
 * Not `scalableTarget.scaleOnMetric` (StepScalingPolicy): it offers no
 * treatMissingData, names its own alarm, and derives each step's bounds by
 * subtracting the threshold from absolute intervals, which in floating point
 * need not give back the offsets the policy was sized with. Here the alarm is
 * our own and the step bounds are the policy's offsets, verbatim.
 */
export class LagGrowthStepScaling extends Construct {
  /** The step scaling policy. */
  public readonly action: appscaling.StepScalingAction;
  /** The alarm that invokes it. */
  public readonly alarm: cloudwatch.Alarm;
  /** The numbers deployed. */
  public readonly policy: LagGrowthPolicy;

  constructor(scope: Construct, id: string, props: LagGrowthStepScalingProps) {
    super(scope, id);
    const stat = props.lagMetric.toMetricConfig().metricStat;
    if (!stat) throw new Error(`LagGrowthStepScaling ${id}: lagMetric must be a plain metric, not metric math`);
    const p = props.policy;
    const errors: string[] = [];
    if (p.steps.length === 0) errors.push('policy.steps must name at least one step, got none');
    if (p.steps.length > 20) errors.push(`policy.steps can have at most 20 steps (Application Auto Scaling), got ${p.steps.length}`);
    if (p.steps.some((s) => s.change <= 0)) errors.push('policy.steps must all add capacity: the policy scales out only');
    if (errors.length > 0) throw new Error(`LagGrowthStepScaling ${id}: ${errors.join('; ')}`);
    this.policy = p;

    const period = Duration.seconds(LAG_GROWTH_PERIOD_SECONDS);
    const lag = new cloudwatch.Metric({
      namespace: stat.namespace,
      metricName: stat.metricName,
      dimensionsMap: Object.fromEntries((stat.dimensions ?? []).map((d) => [d.name, String(d.value)])),
      statistic: 'Maximum',
      period,
      ...(stat.account !== undefined ? { account: stat.account } : {}),
      ...(stat.region !== undefined ? { region: stat.region } : {}),
    });

    this.action = new appscaling.StepScalingAction(this, 'Policy', {
      scalingTarget: props.scalingTarget,
      ...(props.policyName !== undefined ? { policyName: props.policyName } : {}),
      adjustmentType: ADJUSTMENT[LAG_GROWTH_ADJUSTMENT_TYPE],
      cooldown: Duration.seconds(p.cooldownSeconds),
      // One value per one-minute datapoint: Average, Minimum and Maximum agree; Maximum matches the statistic.
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
    // Offsets from the alarm threshold, as MetricIntervalLowerBound/UpperBound take them: above the threshold
    // the lower bound is inclusive and the upper exclusive, as growthAdjustment counts them.
    for (const step of p.steps) {
      this.action.addAdjustment({ adjustment: step.change, lowerBound: step.lower, ...(step.upper !== undefined ? { upperBound: step.upper } : {}) });
    }

    const subject = props.subject ?? this.node.path;
    const threshold = trim(p.threshold);
    // Lag growing >= threshold messages/s for datapoints of evaluation one-minute periods: add tasks (missing lag = no growth).
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `${subject}: Kafka lag growing >= ${threshold} messages/s for ${p.datapointsToAlarm} of ${p.evaluationPeriods} one-minute periods: step scale-out (a draining backlog adds nothing).`,
      metric: new cloudwatch.MathExpression({ expression: LAG_GROWTH_EXPRESSION, usingMetrics: { lag }, period, label: 'Lag growth per second' }),
      threshold: p.threshold,
      comparisonOperator: COMPARISON[LAG_GROWTH_COMPARISON],
      evaluationPeriods: p.evaluationPeriods,
      datapointsToAlarm: p.datapointsToAlarm,
      treatMissingData: MISSING[LAG_GROWTH_TREAT_MISSING_DATA],
    });
    this.alarm.addAlarmAction(new actions.ApplicationScalingAction(this.action));
  }
}

/** A threshold for people: at most three decimals. */
function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
