import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SCALER_NAMESPACE } from '../../lambdas/core/names';
import { DEFAULTS } from '../../lambdas/core/config/defaults';
import { isScaleToZero, type TargetsDocument } from '../../lambdas/core/config/document';
import { toMetric } from '../metrics';
import { ScalerFunction } from './scaler-function';

export interface ReconcilerProps {
  /** The managed-targets document: every target the reconciler keeps in line, and where its holds are. */
  readonly document: TargetsDocument;
  /** The holds table the document names (HoldsTable, or an existing table). */
  readonly holds: dynamodb.ITable;
  /** Operators' topic for the reconciler's alarms. */
  readonly topic: sns.ITopic;
  /** `<pipeline>-<environment>`: prefix of alarm names. */
  readonly namePrefix: string;
  /**
   * Minutes between passes.
   * @default 1
   */
  readonly scheduleMinutes?: number;
  /**
   * Minutes a target may stay out of line before its drift alarm fires
   * (something else keeps writing it, or writes keep failing).
   * @default 3
   */
  readonly driftMinutes?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The reconciler (DESIGN.md "Holds and the reconciler"): the one Lambda that
 * keeps every target's min, max, suspension and desired in line with its
 * configured limits and active holds, every minute, and at once when a
 * scale-to-zero target's work metric says work appeared (a per-target alarm
 * invokes it). Each target has an alarm on its reconcile errors and on
 * drift; the function alarms on its own errors and a missed schedule.
 */
export class Reconciler extends Construct {
  public readonly function: ScalerFunction;
  public readonly schedule: events.Rule;
  /** One per scale-to-zero target: work present -> reconcile now. */
  public readonly workAlarms: cloudwatch.Alarm[];
  /** One per target: the reconciler failed on it (unreadable, update refused, work unknown at zero). */
  public readonly errorAlarms: cloudwatch.Alarm[];
  /** One per target: the target was out of line for `driftMinutes` minutes in a row. */
  public readonly driftAlarms: cloudwatch.Alarm[];
  /** One per target: its desired capacity reversed direction more often in the last hour than its config allows. */
  public readonly flappingAlarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    const minutes = props.scheduleMinutes ?? DEFAULTS.scaleToZero.scheduleMinutes;
    const drift = props.driftMinutes ?? 3;
    const errors: string[] = [];
    if (!Token.isUnresolved(minutes) && (minutes < 1 || minutes > 60)) errors.push(`scheduleMinutes must be 1-60, got ${minutes}`);
    if (!Token.isUnresolved(drift) && drift < 1) errors.push(`driftMinutes must be >= 1, got ${drift}`);
    if (errors.length > 0) throw new Error(`Reconciler ${id}: ${errors.join('; ')}`);
    const targets = props.document.targets;
    this.function = new ScalerFunction(this, 'Function', {
      handlerDir: 'reconcile',
      document: props.document,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-reconcile`,
      memorySize: 512,
      // One pass at a time: two would only do the same work twice.
      reservedConcurrentExecutions: 1,
      timeout: Duration.seconds(Math.min(55, minutes * 60 - 5)),
      scheduleMinutes: minutes,
      // A failed pass is repaired by the next one; no retries of the same minute.
      asyncRetries: 0,
      // A single failed minute is repaired by the next; three in a row is a problem.
      errorPeriods: 3,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.function.bindReconcile(targets, props.holds);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'mlscale reconcile pass',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new eventTargets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(minutes) })],
    });

    const invoke = new actions.LambdaAction(this.function);
    this.workAlarms = targets.filter(isScaleToZero).map((t) => {
      // Work present: the work metric above 0 for 1 of 1 one-minute periods; no data is no work.
      const alarm = new cloudwatch.Alarm(this, `${t.name}-work`, {
        alarmName: `${props.namePrefix}-${t.name}-work-present`,
        alarmDescription: `${t.name}: work is pending; runs the reconciler at once to wake the target.`,
        metric: toMetric(t.work!, { period: Duration.minutes(1) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(invoke);
      return alarm;
    });

    const notifyOps = new actions.SnsAction(props.topic);
    const perTarget = (metricName: string, target: string) =>
      new cloudwatch.Metric({
        namespace: SCALER_NAMESPACE,
        metricName,
        // Powertools EMF: the function's service name and the target.
        dimensionsMap: { service: 'reconcile', Target: target },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    this.errorAlarms = [];
    this.driftAlarms = [];
    this.flappingAlarms = [];
    for (const t of targets) {
      // Reconcile errors: >= 1 in 3 of 3 one-minute periods (a blip is retried by the next pass).
      const errors = new cloudwatch.Alarm(this, `${t.name}-errors`, {
        alarmName: `${props.namePrefix}-${t.name}-reconcile-errors`,
        alarmDescription: `${t.name}: the reconciler could not read or change it, or its work metric is unknown at zero, for 3 minutes.`,
        metric: perTarget('TargetErrors', t.name),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      errors.addAlarmAction(notifyOps);
      this.errorAlarms.push(errors);
      // Drift: the scheduled pass found the target out of line in `drift` of `drift` minutes: something else writes it.
      const drifted = new cloudwatch.Alarm(this, `${t.name}-drift`, {
        alarmName: `${props.namePrefix}-${t.name}-drift`,
        alarmDescription: `${t.name}: out of line with its holds and config for ${drift} minutes in a row; something other than mlscale is changing it, or changes keep failing.`,
        metric: perTarget('Drift', t.name),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: drift,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      drifted.addAlarmAction(notifyOps);
      this.driftAlarms.push(drifted);
      // Flapping: the scheduled pass counts reversals over the trailing hour and publishes Flapping while there are
      // too many (lambdas/core/flaps.ts); any in a five-minute period fires, and the alarm clears as the hour calms.
      const flapping = new cloudwatch.Alarm(this, `${t.name}-flapping`, {
        alarmName: `${props.namePrefix}-${t.name}-flapping`,
        alarmDescription: `${t.name}: desired capacity reversed direction more than ${t.maxDirectionChangesPerHour} times in the last hour (the autoscaler oscillates); lengthen the scale-in cooldown or widen the target.`,
        metric: perTarget('Flapping', t.name).with({ period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      flapping.addAlarmAction(notifyOps);
      this.flappingAlarms.push(flapping);
    }
  }

  /** Every alarm of the reconciler: its function's, per target errors, drift and flapping. */
  get alarms(): cloudwatch.Alarm[] {
    return [...this.function.alarms, ...this.errorAlarms, ...this.driftAlarms, ...this.flappingAlarms];
  }
}
