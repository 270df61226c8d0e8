import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FORECAST_NAMESPACE, SCALER_NAMESPACE } from '../../lambdas/core/names';
import { DEFAULTS } from '../../lambdas/core/config/defaults';
import type { TargetsDocument } from '../../lambdas/core/config/document';
import { ScalerFunction } from './scaler-function';

export interface PredictiveScalerProps {
  /** The managed-targets document; the function forecasts and pre-scales its targets with `predictive` settings. */
  readonly document: TargetsDocument;
  /** The holds table the document names: forecast floors are `predictive:<hour>` holds. */
  readonly holds: dynamodb.ITable;
  /** Operators' topic for the function's alarms. */
  readonly topic: sns.ITopic;
  /** `<pipeline>-<environment>`: prefix of alarm names. */
  readonly namePrefix: string;
  /**
   * Minutes between runs.
   * @default 60
   */
  readonly scheduleMinutes?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
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
  /** Targets the last two runs could not forecast, publish or apply: errors the handler swallows to keep the others going. */
  public readonly targetErrorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PredictiveScalerProps) {
    super(scope, id);
    const minutes = props.scheduleMinutes ?? DEFAULTS.predictive.scheduleMinutes;
    const predictive = props.document.targets.filter((t) => t.predictive);
    const errors: string[] = [];
    if (predictive.length === 0) errors.push('no target of the document has predictive settings; leave the construct out');
    if (!Token.isUnresolved(minutes) && minutes < 5) errors.push(`scheduleMinutes must be >= 5, got ${minutes}`);
    if (errors.length > 0) throw new Error(`PredictiveScaler ${id}: ${errors.join('; ')}`);
    this.function = new ScalerFunction(this, 'Function', {
      handlerDir: 'predictive',
      document: props.document,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-predictive`,
      memorySize: 512,
      timeout: Duration.minutes(5),
      // Two runs at once would only write the same holds twice.
      reservedConcurrentExecutions: 1,
      scheduleMinutes: minutes,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.function.bindMetrics({ putNamespace: FORECAST_NAMESPACE });
    // It reconciles the targets it wrote floors for, so a new floor lands at once.
    this.function.bindReconcile(predictive, props.holds);
    this.targetErrorsAlarm = new cloudwatch.Alarm(this, 'TargetErrors', {
      alarmName: `${props.namePrefix}-predictive-target-errors`,
      alarmDescription: `predictive Lambda: a target failed (no forecast, not published or not applied) in 2 runs in a row; it scales reactively meanwhile.`,
      // Powertools EMF: the function's service name; the per-run total over all targets.
      metric: new cloudwatch.Metric({ namespace: SCALER_NAMESPACE, metricName: 'TargetErrors', dimensionsMap: { service: 'predictive' }, statistic: 'Sum', period: Duration.minutes(minutes) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.targetErrorsAlarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'mlscale predictive pre-scaling',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new eventTargets.LambdaFunction(this.function, { retryAttempts: 1, maxEventAge: Duration.minutes(Math.min(minutes, 60)) })],
    });
  }
}
