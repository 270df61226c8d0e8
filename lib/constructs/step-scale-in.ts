import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ADJUSTMENT, COMPARISON, MISSING } from './step-policy-enums';
import {
  SCALE_IN_ADJUSTMENT_TYPE,
  SCALE_IN_COMPARISON,
  SCALE_IN_LOW_FRACTION,
  SCALE_IN_PERIOD_SECONDS,
  SCALE_IN_THRESHOLD,
  SCALE_IN_TREAT_MISSING_DATA,
  scaleInExpressions,
  scaleInSteps,
  TARGET_TRACKING_SCALE_IN_MINUTES,
  type ScaleInPolicy,
} from '../../lambdas/core/scale-in';

export interface StepScaleInProps {
  /** The scalable target the steps change. */
  readonly scalingTarget: appscaling.IScalableTarget;
  /** The tasks' average CPU utilization, one-minute period. */
  readonly cpuMetric: cloudwatch.IMetric;
  /** Running tasks (Container Insights RunningTaskCount), one-minute period (a Metric: the blind alarm counts its samples). */
  readonly runningTasksMetric: cloudwatch.Metric;
  /** With policy.lagTarget: the lag target tracking also tracks (it must be low too). */
  readonly lagMetric?: cloudwatch.IMetric;
  /** CPU target, minutes and cooldown (lambdas/core/scale-in.ts). */
  readonly policy: ScaleInPolicy;
  /** @default - a name CDK derives from the construct path */
  readonly policyName?: string;
  /** Who the alarm is about, at the start of its description. @default - the construct path */
  readonly subject?: string;
  /** The blind alarm's name. @default - a name CloudFormation generates */
  readonly blindAlarmName?: string;
  /** Where the blind alarm pages. @default - nowhere (it shows on a dashboard) */
  readonly alarmTopic?: sns.ITopic;
}


/**
 * Scale-in sooner than target tracking's fixed 15 minutes (`scaleInMinutes`):
 * an alarm on metric math over CPU and running tasks — 1 + the tasks that
 * can go while every tracked metric is below 90 % of its target, 0 otherwise
 * — for `minutes` of `minutes` one-minute periods, invoking a step policy
 * that removes exactly that many tasks (ChangeInCapacity), at most one step
 * per cooldown. Target tracking on the same target must have DisableScaleIn
 * (InferencePool.scaleInOnCpu sets it), so it only scales out and this is the
 * one scale-in. Every number is `props.policy`'s, and the simulator models
 * the same arithmetic (lambdas/core/scale-in.ts).
 *
 * Not `scalableTarget.scaleOnMetric` for the reasons LagGrowthStepScaling
 * gives: our own alarm, the step bounds verbatim.
 */
export class StepScaleIn extends Construct {
  public readonly action: appscaling.StepScalingAction;
  public readonly alarm: cloudwatch.Alarm;
  /**
   * No RunningTaskCount for 15 of 15 minutes: the step alarm cannot see the
   * tasks, treats that as not low (its missing data is notBreaching), and
   * with target tracking's scale-in disabled nothing scales the pool in — it
   * stays at its last size, silently, unless this pages.
   */
  public readonly blindAlarm: cloudwatch.Alarm;
  public readonly policy: ScaleInPolicy;

  constructor(scope: Construct, id: string, props: StepScaleInProps) {
    super(scope, id);
    const p = props.policy;
    const errors: string[] = [];
    if (!Number.isInteger(p.minutes) || p.minutes < 1 || p.minutes >= TARGET_TRACKING_SCALE_IN_MINUTES) {
      errors.push(`policy.minutes must be a whole number from 1 to ${TARGET_TRACKING_SCALE_IN_MINUTES - 1} (at ${TARGET_TRACKING_SCALE_IN_MINUTES}, target tracking scales in by itself), got ${p.minutes}`);
    }
    if (!(p.cpuTarget > 0 && p.cpuTarget <= 100)) errors.push(`policy.cpuTarget must be above 0 and at most 100, got ${p.cpuTarget}`);
    if ((p.lagTarget === undefined) !== (props.lagMetric === undefined)) errors.push('give lagMetric exactly when policy.lagTarget is set');
    if (errors.length > 0) throw new Error(`StepScaleIn ${id}: ${errors.join('; ')}`);
    this.policy = p;

    const period = Duration.seconds(SCALE_IN_PERIOD_SECONDS);
    this.action = new appscaling.StepScalingAction(this, 'Policy', {
      scalingTarget: props.scalingTarget,
      ...(props.policyName !== undefined ? { policyName: props.policyName } : {}),
      adjustmentType: ADJUSTMENT[SCALE_IN_ADJUSTMENT_TYPE],
      cooldown: Duration.seconds(p.cooldownSeconds),
      // One value per one-minute datapoint, so Average, Minimum and Maximum agree; should Application Auto
      // Scaling aggregate several recent datapoints, Minimum removes the least of them (the safe side).
      metricAggregationType: appscaling.MetricAggregationType.MINIMUM,
    });
    for (const step of scaleInSteps()) {
      this.action.addAdjustment({ adjustment: step.change, lowerBound: step.lower, ...(step.upper !== undefined ? { upperBound: step.upper } : {}) });
    }

    const e = scaleInExpressions(p);
    const base = { cpu: props.cpuMetric, tasks: props.runningTasksMetric, ...(props.lagMetric ? { lag: props.lagMetric } : {}) };
    const wanted = new cloudwatch.MathExpression({ expression: e.wanted, usingMetrics: base, period, label: 'Tasks beyond the CPU target' });
    const cap = new cloudwatch.MathExpression({ expression: e.cap, usingMetrics: { tasks: props.runningTasksMetric }, period, label: 'Most tasks one step removes' });
    const subject = props.subject ?? this.node.path;
    const low = Math.round(SCALE_IN_LOW_FRACTION * p.cpuTarget * 1000) / 1000;
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `${subject}: CPU below ${low} %${p.lagTarget !== undefined ? ' and lag low' : ''} for ${p.minutes} of ${p.minutes} one-minute periods: step scale-in to the CPU target (at most a quarter of the tasks per ${p.cooldownSeconds} s).`,
      metric: new cloudwatch.MathExpression({ expression: e.removable, usingMetrics: { ...base, wanted, cap }, period, label: 'Scale-in: 1 + tasks removable (0 = not low)' }),
      threshold: SCALE_IN_THRESHOLD,
      comparisonOperator: COMPARISON[SCALE_IN_COMPARISON],
      evaluationPeriods: p.minutes,
      datapointsToAlarm: p.minutes,
      treatMissingData: MISSING[SCALE_IN_TREAT_MISSING_DATA],
    });
    this.alarm.addAlarmAction(new actions.ApplicationScalingAction(this.action));

    // SampleCount of a missing metric is no datapoint, and missing is the condition (breaching); as long as
    // target tracking's own scale-in would take, so it pages only when mlscale is slower than native.
    this.blindAlarm = new cloudwatch.Alarm(this, 'BlindAlarm', {
      ...(props.blindAlarmName !== undefined ? { alarmName: props.blindAlarmName } : {}),
      alarmDescription:
        `${subject}: no Container Insights RunningTaskCount for ${TARGET_TRACKING_SCALE_IN_MINUTES} minutes: the step scale-in cannot size a step, so the pool does not scale in. ` +
        'Turn on Container Insights (enhanced) for the cluster, or set scaleInMinutes 15 to give scale-in back to target tracking.',
      metric: props.runningTasksMetric.with({ statistic: 'SampleCount', period }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: TARGET_TRACKING_SCALE_IN_MINUTES,
      datapointsToAlarm: TARGET_TRACKING_SCALE_IN_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    if (props.alarmTopic) this.blindAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
