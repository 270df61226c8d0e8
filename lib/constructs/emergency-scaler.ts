import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { alarmToAlarmPattern, ScalerFunction, type ScalerProps } from './scaler-function';

export interface EmergencyScalerProps extends ScalerProps {
  /** Alarms that declare an emergency. */
  readonly emergencyAlarms: readonly cloudwatch.IAlarm[];
  /**
   * Send emergency alarms straight to the Lambda. Off when a runbook state
   * machine takes the alarm instead (it calls the Lambda and later resumes).
   * @default true
   */
  readonly triggerFromAlarms?: boolean;
}

/**
 * The emergency Lambda: doubles capacity, pauses scale-in until resumed, and
 * records each incident in a DynamoDB table whose conditional writes make
 * repeated or concurrent triggers of one incident double once.
 */
export class EmergencyScaler extends Construct {
  public readonly scaler: ScalerFunction;
  public readonly incidents: dynamodb.Table;
  public readonly alarmRule?: events.Rule;

  constructor(scope: Construct, id: string, props: EmergencyScalerProps) {
    super(scope, id);
    const targets = props.targets.filter((t) => t.emergencyEnabled);
    this.incidents = new dynamodb.Table(this, 'Incidents', {
      partitionKey: { name: 'target', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Holds only each target's latest incident; the logs keep the history.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.scaler = new ScalerFunction(this, 'Scaler', {
      handlerDir: 'emergency',
      targetsJson: props.targetsJson,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-emergency`,
      timeout: Duration.minutes(1),
      environment: { MLSCALE_INCIDENT_TABLE: this.incidents.tableName },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.incidents.grant(this.scaler.role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    this.scaler.grantEcsServices(targets, true);
    this.scaler.grantEksNodegroups(targets, true);
    this.scaler.grantAutoScaling('DescribeScalableTargets', 'RegisterScalableTarget', 'DeregisterScalableTarget');

    if ((props.triggerFromAlarms ?? true) && props.emergencyAlarms.length > 0) {
      this.alarmRule = new events.Rule(this, 'AlarmRule', {
        description: 'mlscale: an emergency alarm went to ALARM',
        eventPattern: alarmToAlarmPattern(props.emergencyAlarms),
        targets: [new eventTargets.LambdaFunction(this.scaler.function, { retryAttempts: 2, maxEventAge: Duration.minutes(15) })],
      });
    }
  }
}
