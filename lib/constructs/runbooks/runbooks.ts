import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { TargetsDocument } from '../../../lambdas/core/config/document';
import { alarmToAlarmPattern, ScalerFunction } from '../scaler-function';
import { EmergencyScaleUpRunbook } from './emergency-scale-up';
import { GpuNodegroupScaleRunbook } from './gpu-nodegroup-scale';
import { RolloutRunbook } from './rollout';
import { ScaleForEventRunbook } from './scale-for-event';

/** State machine names: `<prefix>-<runbook>`, so the CLI can find them from the config. */
export const RUNBOOK_NAMES = ['scale-for-event', 'emergency-scale-up', 'gpu-nodegroup-scale', 'rollout'] as const;
export type RunbookName = (typeof RUNBOOK_NAMES)[number];
export const runbookStateMachineName = (prefix: string, runbook: RunbookName) => `${prefix}-${runbook}`;

export interface RunbooksProps {
  /** The managed-targets document: the targets the runbooks may act on. */
  readonly document: TargetsDocument;
  /** The holds table the document names: every runbook acts through holds. */
  readonly holds: dynamodb.ITable;
  /** Operators' topic: runbook progress and failures. */
  readonly topic: sns.ITopic;
  /** `<pipeline>-<environment>`: prefix of state machine and alarm names. */
  readonly namePrefix: string;
  /**
   * The emergency Lambda the emergency runbook opens and resumes incidents with.
   * @default - no emergency runbook
   */
  readonly emergencyFunction?: lambda.IFunction;
  /**
   * Alarms that start the emergency runbook when they go to ALARM.
   * @default - none: the emergency runbook is started by hand (or the CLI) only
   */
  readonly emergencyAlarms?: readonly cloudwatch.IAlarm[];
  /**
   * Retention of the runbook Lambda's and state machines' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The operators' runbooks as Step Functions state machines, the runbook
 * Lambda that plans them, and the EventBridge rule that starts the emergency
 * runbook when an emergency alarm fires (through the Lambda, which names the
 * execution after target and incident so a repeated start is rejected).
 */
export class Runbooks extends Construct {
  public readonly runbookFunction: ScalerFunction;
  public readonly scaleForEvent: ScaleForEventRunbook;
  public readonly emergencyScaleUp?: EmergencyScaleUpRunbook;
  public readonly gpuNodegroupScale?: GpuNodegroupScaleRunbook;
  /** Gradual scale-up with health gates, for every target. */
  public readonly rollout: RolloutRunbook;
  public readonly alarmRule?: events.Rule;

  constructor(scope: Construct, id: string, props: RunbooksProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const targets = props.document.targets;
    const emergencyAlarms = props.emergencyAlarms ?? [];
    const emergencyName = runbookStateMachineName(props.namePrefix, 'emergency-scale-up');
    // Built from the name, not a reference: the state machine invokes this Lambda, so a Ref would be circular.
    const emergencyArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: emergencyName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.runbookFunction = new ScalerFunction(this, 'Planner', {
      handlerDir: 'runbook',
      document: props.document,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-runbook`,
      timeout: Duration.seconds(30),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    // It writes and releases the runbooks' holds and reconciles their target at once; it reads the incident's
    // alarms (emergency) and the targets' health alarms (rollout).
    this.runbookFunction.bindReconcile(targets, props.holds);
    this.runbookFunction.bindAlarms(targets.flatMap((t) => [...t.alarms, ...t.healthAlarms]));
    this.runbookFunction.bindStateMachine(emergencyArn, 'MLSCALE_EMERGENCY_RUNBOOK_ARN');
    const fn = this.runbookFunction;
    const common = { topic: props.topic, targets, ...(props.logRetention ? { logRetention: props.logRetention } : {}) };

    this.scaleForEvent = new ScaleForEventRunbook(this, 'ScaleForEvent', {
      ...common,
      runbookFunction: fn,
      stateMachineName: runbookStateMachineName(props.namePrefix, 'scale-for-event'),
    });

    const emergencyTargets = targets.filter((t) => t.emergencyEnabled);
    if (props.emergencyFunction && emergencyTargets.length > 0) {
      this.emergencyScaleUp = new EmergencyScaleUpRunbook(this, 'EmergencyScaleUp', {
        ...common,
        targets: emergencyTargets,
        runbookFunction: fn,
        emergencyFunction: props.emergencyFunction,
        stateMachineName: emergencyName,
      });
      if (emergencyAlarms.length > 0) {
        this.alarmRule = new events.Rule(this, 'EmergencyAlarmRule', {
          description: 'mlscale: an emergency alarm went to ALARM; start the emergency runbook',
          eventPattern: alarmToAlarmPattern(emergencyAlarms),
          targets: [new eventTargets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(15) })],
        });
      }
    }

    const nodegroups = targets.filter((t) => t.kind === 'eks-nodegroup');
    if (nodegroups.length > 0) {
      this.gpuNodegroupScale = new GpuNodegroupScaleRunbook(this, 'GpuNodegroupScale', {
        ...common,
        targets: nodegroups,
        runbookFunction: fn,
        stateMachineName: runbookStateMachineName(props.namePrefix, 'gpu-nodegroup-scale'),
      });
    }

    this.rollout = new RolloutRunbook(this, 'Rollout', {
      ...common,
      runbookFunction: fn,
      stateMachineName: runbookStateMachineName(props.namePrefix, 'rollout'),
    });

    // A run that failed even its own failure report (an uncatchable States.Runtime, say) must not go unnoticed.
    const action = new actions.SnsAction(props.topic);
    for (const [name, runbook] of [
      ['scale-for-event', this.scaleForEvent],
      ['emergency-scale-up', this.emergencyScaleUp],
      ['gpu-nodegroup-scale', this.gpuNodegroupScale],
      ['rollout', this.rollout],
    ] as const) {
      if (!runbook) continue;
      const m = runbook.stateMachine;
      // Executions failed, timed out or aborted >= 1 in a five-minute period; no executions is fine.
      const alarm = new cloudwatch.Alarm(this, `${name}-failed`, {
        alarmName: `${props.namePrefix}-${name}-failed`,
        alarmDescription: `Runbook ${name}: an execution failed, timed out or was aborted; check what it left behind.`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: m.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
            timedOut: m.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
            aborted: m.metricAborted({ period: Duration.minutes(5), statistic: 'Sum' }),
          },
          period: Duration.minutes(5),
          label: 'failed + timed out + aborted',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      this.failureAlarms.push(alarm);
    }
  }

  /** Alarms on executions that failed, timed out or were aborted (the runbooks watch themselves). */
  public readonly failureAlarms: cloudwatch.Alarm[] = [];

  get stateMachines(): sfn.StateMachine[] {
    return [this.scaleForEvent, this.emergencyScaleUp, this.gpuNodegroupScale, this.rollout].filter((r) => r !== undefined).map((r) => r.stateMachine);
  }
}
