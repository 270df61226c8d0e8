import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { toMetric } from '../metrics';
import { ScalerFunction, type ScalerProps } from './scaler-function';

export interface ScaleToZeroScalerProps extends ScalerProps {
  /**
   * Minutes between checks.
   * @default 1
   */
  readonly scheduleMinutes?: number;
}

/**
 * The scale-to-zero Lambda: every minute from an EventBridge schedule, and at
 * once from a per-target alarm on its work metric (> 0 for one datapoint), so
 * scale-from-zero does not wait for the next minute.
 */
export class ScaleToZeroScaler extends Construct {
  public readonly scaler: ScalerFunction;
  public readonly schedule: events.Rule;
  /** One per target: work present -> invoke the scaler. */
  public readonly workAlarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ScaleToZeroScalerProps) {
    super(scope, id);
    const minutes = props.scheduleMinutes ?? 1;
    const targets = props.targets.filter((t) => t.pool === 'scale-to-zero' && t.work);
    this.scaler = new ScalerFunction(this, 'Scaler', {
      handlerDir: 'scale-to-zero',
      targetsJson: props.targetsJson,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-scale-to-zero`,
      // One tick at a time: two ticks deciding from different minutes could undo each other.
      reservedConcurrentExecutions: 1,
      timeout: Duration.seconds(Math.min(55, minutes * 60 - 5)),
      scheduleMinutes: minutes,
      // A single failed minute is retried by the next one; three in a row is a problem.
      errorPeriods: 3,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.scaler.grantEcsServices(targets, true);
    this.scaler.grantEksNodegroups(targets, true);
    this.scaler.grantAutoScaling('DescribeScalableTargets');
    this.scaler.grantReadMetrics();

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'mlscale scale-to-zero check',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new eventTargets.LambdaFunction(this.scaler.function, { retryAttempts: 0, maxEventAge: Duration.minutes(minutes) })],
    });

    const invoke = new actions.LambdaAction(this.scaler.function);
    this.workAlarms = targets.map((t) => {
      // Work present: the work metric above 0 for 1 of 1 one-minute periods; no data is no work.
      const alarm = new cloudwatch.Alarm(this, `${t.name}-work`, {
        alarmName: `${props.namePrefix}-${t.name}-work-present`,
        alarmDescription: `${t.name}: work is pending; wakes the scale-to-zero Lambda at once.`,
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
  }
}
