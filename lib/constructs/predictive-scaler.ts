import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FORECAST_NAMESPACE } from '../../lambdas/core/names';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { ScalerFunction } from './scaler-function';

export interface PredictiveScalerProps {
  readonly targets: readonly TargetSpec[];
  readonly targetsJson: string;
  readonly holds: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly namePrefix: string;
  /**
   * Minutes between runs.
   * @default 60
   */
  readonly scheduleMinutes?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The predictive Lambda: on a schedule, forecasts each predictive target's
 * load and writes the coming hours' floors as `predictive:<hour>` holds,
 * which end by themselves within two hours if it stops running.
 */
export class PredictiveScaler extends Construct {
  public readonly function: ScalerFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: PredictiveScalerProps) {
    super(scope, id);
    const minutes = props.scheduleMinutes ?? 60;
    this.function = new ScalerFunction(this, 'Function', {
      handlerDir: 'predictive',
      targetsJson: props.targetsJson,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-predictive`,
      memorySize: 512,
      timeout: Duration.minutes(5),
      // Two runs at once would only write the same holds twice.
      reservedConcurrentExecutions: 1,
      scheduleMinutes: minutes,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    const predictive = props.targets.filter((t) => t.predictive);
    this.function.bindMetrics({ putNamespace: FORECAST_NAMESPACE });
    // It reconciles the targets it wrote floors for, so a new floor lands at once.
    this.function.bindReconcile(predictive, props.holds);
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'mlscale predictive pre-scaling',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new eventTargets.LambdaFunction(this.function, { retryAttempts: 1, maxEventAge: Duration.minutes(Math.min(minutes, 60)) })],
    });
  }
}
