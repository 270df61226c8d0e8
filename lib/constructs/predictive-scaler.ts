import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FORECAST_NAMESPACE } from '../../lambdas/core/names';
import { ScalerFunction, type ScalerProps } from './scaler-function';

export interface PredictiveScalerProps extends ScalerProps {
  /**
   * Minutes between runs.
   * @default 60
   */
  readonly scheduleMinutes?: number;
}

/**
 * The predictive Lambda: on a schedule, forecasts each predictive target's
 * load and keeps its mlscale scheduled actions (forecast, planned events,
 * peak hours) in line with one minimum-capacity timeline.
 */
export class PredictiveScaler extends Construct {
  public readonly scaler: ScalerFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: PredictiveScalerProps) {
    super(scope, id);
    const minutes = props.scheduleMinutes ?? 60;
    this.scaler = new ScalerFunction(this, 'Scaler', {
      handlerDir: 'predictive',
      targetsJson: props.targetsJson,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-predictive`,
      memorySize: 512,
      timeout: Duration.minutes(5),
      // Two runs at once would reconcile the same scheduled actions against each other.
      reservedConcurrentExecutions: 1,
      scheduleMinutes: minutes,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    const prescaled = props.targets.filter((t) => t.predictive || t.plannedEvents.length > 0 || t.peakHours.length > 0);
    this.scaler.grantEcsServices(prescaled, false);
    this.scaler.grantAutoScaling('DescribeScalableTargets', 'DescribeScheduledActions', 'PutScheduledAction', 'DeleteScheduledAction');
    this.scaler.grantReadMetrics();
    this.scaler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': FORECAST_NAMESPACE } },
      }),
    );
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'mlscale predictive pre-scaling',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new eventTargets.LambdaFunction(this.scaler.function, { retryAttempts: 1, maxEventAge: Duration.minutes(Math.min(minutes, 60)) })],
    });
  }
}
