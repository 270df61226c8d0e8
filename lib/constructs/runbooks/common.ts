import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TargetSpec } from '../../../lambdas/core/config/document';
import { DEFAULT_LOG_RETENTION } from '../../log-retention';
import { acknowledgeFunctionVersions, acknowledgeNodegroupArns, acknowledgeTopicKey, acknowledgeUnscopable } from '../../nag';

/** Errors worth another try: throttling, faults, an update already in progress. */
export function transientErrors(service: 'Ecs' | 'ApplicationAutoScaling' | 'Eks' | 'CloudWatch' | 'AutoScaling' | 'Sns'): string[] {
  return [
    `${service}.ThrottlingException`,
    `${service}.ServerException`,
    `${service}.InternalServerException`,
    `${service}.ServiceUnavailableException`,
    `${service}.ConcurrentUpdateException`,
    `${service}.ResourceInUseException`,
    `${service}.InternalFailureException`,
    `${service}.LimitExceededException`,
    `${service}.SdkClientException`,
    'States.Timeout',
  ];
}

/**
 * Transient failures of a Lambda step: the Lambda service's own, and the AWS
 * errors a handler lets through after its retries (their names, as Lambda reports them).
 */
const LAMBDA_TRANSIENT = [
  // A timeout or out-of-memory: the call may have landed; every runbook Lambda action is idempotent, so try again.
  'Lambda.Unknown',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableException',
  'InternalServerError',
  'ConcurrentUpdateException',
  'ResourceInUseException',
  'States.Timeout',
];

/** Retry with exponential backoff and full jitter: 2 s, 4 s, 8 s ... up to `attempts`. */
export function withRetry<T extends sfn.TaskStateBase>(task: T, errors: string[], attempts = 5): T {
  task.addRetry({ errors, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: attempts, jitterStrategy: sfn.JitterType.FULL });
  return task;
}

/**
 * For the steps that put things back (restore, resume): after the transient
 * retries, keep trying any error for about ten minutes more (an EKS update in
 * progress, throttling that outlasts a handler's retries) before the runbook
 * reports CRITICAL. Leaving an autoscaler paused is the outcome to avoid.
 */
export function withPatientRetry<T extends sfn.TaskStateBase>(task: T): T {
  task.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 6, maxDelay: Duration.minutes(3), jitterStrategy: sfn.JitterType.FULL });
  return task;
}

export function lambdaStep(scope: Construct, id: string, fn: tasks.LambdaInvokeProps['lambdaFunction'], payload: Record<string, unknown>, resultPath: string) {
  return withRetry(
    new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
    }),
    LAMBDA_TRANSIENT,
  );
}

/**
 * A runbook notification that never changes the runbook's course: the
 * publish retries transient errors, and if it still fails the failure is
 * recorded under `$.notificationErrors.<id>` and the runbook goes on to the
 * same next state. A notification is never a reason to roll anything back.
 */
export class Notify {
  public readonly start: tasks.SnsPublish;
  private readonly recorded: sfn.Pass;

  /**
   * @param detail what the message carries beside the subject: one path of the
   * state (`'$.error'`), or an object of paths (`{ error: '$.keepError', until: '$.plan.until' }`).
   */
  constructor(scope: Construct, id: string, topic: sns.ITopic, subject: string, detail?: string | Readonly<Record<string, string>>) {
    this.start = withRetry(
      new tasks.SnsPublish(scope, id, {
        topic,
        subject,
        message: sfn.TaskInput.fromObject({
          runbook: sfn.JsonPath.stateMachineName,
          execution: sfn.JsonPath.executionName,
          event: subject,
          ...(detail === undefined
            ? {}
            : { detail: typeof detail === 'string' ? sfn.JsonPath.objectAt(detail) : Object.fromEntries(Object.entries(detail).map(([k, path]) => [k, sfn.JsonPath.objectAt(path)])) }),
        }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
      transientErrors('Sns'),
    );
    const key = id.replace(/[^A-Za-z0-9]+/g, '');
    this.recorded = new sfn.Pass(scope, `${id} (not sent)`, { parameters: { 'Error.$': '$.notifyError.Error', 'Cause.$': '$.notifyError.Cause' }, resultPath: `$.notificationErrors.${key}` });
    this.start.addCatch(this.recorded, { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
  }

  /** Continue with `next` whether or not the notification went out. */
  next(next: sfn.IChainable): sfn.IChainable {
    this.start.next(next);
    this.recorded.next(next);
    return next;
  }
}

/** IAM resources of the configured ECS services and EKS node groups (the runbooks may touch nothing else). */
export function targetArns(scope: Construct, targets: readonly TargetSpec[]): { services: string[]; nodegroups: string[]; clusters: string[] } {
  const stack = Stack.of(scope);
  const services: string[] = [];
  const nodegroups: string[] = [];
  const clusters = new Set<string>();
  for (const t of targets) {
    if (t.kind === 'ecs-service') services.push(stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${t.cluster}/${t.service}` }));
    else {
      nodegroups.push(stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${t.cluster}/${t.nodegroup}/*` }));
      clusters.add(stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: t.cluster }));
    }
  }
  return { services, nodegroups, clusters: [...clusters] };
}

/** What every runbook construct takes. */
export interface RunbookProps {
  /** The runbook Lambda its planning and hold steps invoke. */
  readonly runbookFunction: lambda.IFunction;
  /** Targets the runbook may act on (it reads their status; the Lambdas write their holds). */
  readonly targets: readonly TargetSpec[];
  readonly topic: sns.ITopic;
  /**
   * Name of the state machine (the CLI finds runbooks by name).
   * @default - a name CloudFormation generates
   */
  readonly stateMachineName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export interface RunbookStateMachineProps {
  readonly definition: sfn.IChainable;
  /** @default - a name CloudFormation generates */
  readonly stateMachineName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Execution timeout. A timed-out execution runs no Catch: only what ends by itself may be left behind.
   * @default - none (Step Functions' own limit of a year)
   */
  readonly timeout?: Duration;
}

/** A Standard state machine with every execution event logged (with data) and X-Ray tracing. */
export function runbookStateMachine(
  scope: Construct,
  id: string,
  props: RunbookStateMachineProps & { targets: readonly TargetSpec[]; functions: readonly lambda.IFunction[]; topic: sns.ITopic },
): sfn.StateMachine {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const machine = new sfn.StateMachine(scope, id, {
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
    stateMachineType: sfn.StateMachineType.STANDARD,
    ...(props.timeout ? { timeout: props.timeout } : {}),
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
  });
  // sns:Publish and, for the encrypted topic, kms:GenerateDataKey* and kms:Decrypt on its key:
  // the SnsPublish task grants only the first, and a publish without the key fails (aws-cdk issue 32303).
  props.topic.grantPublish(machine);
  acknowledgeTopicKey(machine.role);
  acknowledgeUnscopable(machine.role, 'Auto Scaling describe calls, X-Ray and CloudWatch Logs delivery');
  acknowledgeNodegroupArns(machine.role, props.targets);
  acknowledgeFunctionVersions(machine.role, props.functions);
  return machine;
}

