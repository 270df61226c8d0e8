import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ECS_DIMENSION_NAME, ECS_SERVICE_NAMESPACE } from '../../lambdas/core/names';
import { isScaleToZero, type TargetsDocument, type TargetSpec } from '../../lambdas/core/config/document';
import { DEFAULT_LOG_RETENTION } from '../log-retention';
import { acknowledgeNodegroupArns, acknowledgeUnscopable } from '../nag';

/** The event of an alarm among `alarms` going to ALARM. */
export function alarmToAlarmPattern(alarms: readonly { alarmArn: string }[]): events.EventPattern {
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    resources: alarms.map((a) => a.alarmArn),
    detail: { state: { value: ['ALARM'] } },
  };
}

/**
 * Above this size the targets document is compiled into the bundle: Lambda
 * allows 4 KB of environment in all, and the other variables (Powertools,
 * table, topic, SDK settings) take about 300 bytes, so 3,500 leaves room.
 */
export const MAX_INLINE_CONFIG_BYTES = 3_500;

export interface ScalerFunctionProps {
  /** Folder under lambdas/ holding the handler's index.ts (`reconcile`, `emergency`, `predictive`, `runbook`). */
  readonly handlerDir: string;
  /** The managed-targets document (DESIGN.md, "Managed targets"): everything the handler needs to know. */
  readonly document: TargetsDocument;
  /** Operators' topic for the function's own alarms. */
  readonly topic: sns.ITopic;
  /** Prefix of the function's alarm names (`<pipeline>-<environment>-<handler>`). */
  readonly alarmPrefix: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency; 1 where two runs at once would only do the same work twice.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Expected minutes between invocations; alarms when three intervals pass with none.
   * @default - no missed-schedule alarm (not invoked on a schedule)
   */
  readonly scheduleMinutes?: number;
  /**
   * Consecutive five-minute periods with errors before the errors alarm fires.
   * @default 1
   */
  readonly errorPeriods?: number;
  /**
   * Times Lambda retries a failed asynchronous invocation (schedules, alarms).
   * @default 2
   */
  readonly asyncRetries?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A scaler Lambda as mlscale runs them: Node.js 22 on arm64, bundled by the
 * local esbuild with the SDK left to the runtime, an explicit log group and
 * a role that may only write to it until a `bind*` method grants exactly
 * what its handler calls, active X-Ray tracing (the SDK clients in
 * lambdas/aws/clients are captured by the Powertools Tracer, so every AWS
 * call is a subsegment), a dead-letter queue for failed asynchronous
 * invocations, and alarms on its own errors, its dead letters and (for
 * scheduled ones) a missed schedule.
 */
export class ScalerFunction extends nodejs.NodejsFunction {
  /** Dead-letter queue of failed asynchronous invocations. */
  public readonly failureQueue: sqs.Queue;
  /** The function's own alarms: errors, dead letters, a missed schedule, and any added with `addAlarm`. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmAction: actions.SnsAction;
  private metricsBound = false;

  constructor(scope: Construct, id: string, props: ScalerFunctionProps) {
    // The log group, role and queue are built before super() (which takes them), so they are the function's siblings.
    const targetsJson = JSON.stringify(props.document);
    const inline = Buffer.byteLength(targetsJson) <= MAX_INLINE_CONFIG_BYTES;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const deadLetterQueue = new sqs.Queue(scope, `${id}DeadLetters`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    super(scope, id, {
      entry: path.join(__dirname, '..', '..', 'lambdas', props.handlerDir, 'index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      retryAttempts: props.asyncRetries ?? 2,
      onFailure: new destinations.SqsDestination(deadLetterQueue),
      environment: {
        ...(inline ? { MLSCALE_CONFIG: targetsJson } : {}),
        POWERTOOLS_METRICS_NAMESPACE: 'mlscale',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // lambdas/aws/retry.ts retries throttling and faults; one layer of retries, not two.
        AWS_MAX_ATTEMPTS: '1',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        // The Node.js 22 runtime ships AWS SDK v3: smaller bundles, faster cold starts.
        externalModules: ['@aws-sdk/*'],
        // A document too large for the environment is compiled in; MLSCALE_CONFIG still wins when set.
        ...(inline ? {} : { define: { 'process.env.MLSCALE_CONFIG_BUNDLED': JSON.stringify(targetsJson) } }),
      },
    });
    this.failureQueue = deadLetterQueue;
    logGroup.grantWrite(role);
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the function; its messages are kept 14 days and alarmed on.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'mlscale targets the Node.js 22 Lambda runtime on purpose: it is the version the handlers are built and tested for.',
    });

    this.alarmAction = new actions.SnsAction(props.topic);
    const periods = props.errorPeriods ?? 1;
    // Errors: the invocation itself failed (bad config, every target failed), in N of N five-minute periods.
    this.addAlarm('Errors', {
      alarmName: `${props.alarmPrefix}-errors`,
      alarmDescription: `${props.handlerDir} Lambda: errors in ${periods} of ${periods} five-minute periods.`,
      metric: this.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Dead letters: an asynchronous invocation failed for good.
    this.addAlarm('DeadLetters', {
      alarmName: `${props.alarmPrefix}-dead-letters`,
      alarmDescription: `${props.handlerDir} Lambda: a failed invocation is waiting in its dead-letter queue.`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.scheduleMinutes !== undefined) {
      // Missed schedule: no invocation in three scheduled intervals; no data means no invocations.
      const minutes = props.scheduleMinutes;
      this.addAlarm('MissedSchedule', {
        alarmName: `${props.alarmPrefix}-missed-schedule`,
        alarmDescription: `${props.handlerDir} Lambda: not invoked for ${3 * minutes} minutes though scheduled every ${minutes}.`,
        metric: this.metricInvocations({ period: Duration.minutes(minutes), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
    acknowledgeUnscopable(role, 'X-Ray trace segments, CloudWatch GetMetricData and Application Auto Scaling describe calls');
  }

  /** An alarm of this function, notifying the operators' topic. */
  addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, props);
    alarm.addAlarmAction(this.alarmAction);
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * Read (and with `write`, change) exactly these targets: ECS services and
   * their scalable targets, EKS node groups. The mutating Application Auto
   * Scaling action has no resource ARN before registration, so it is scoped
   * by the condition keys AWS documents for it: ECS services' desired count only.
   */
  bindTargets(targets: readonly TargetSpec[], options: { readonly write: boolean }): void {
    const stack = Stack.of(this);
    const services = targets
      .filter((t): t is Extract<TargetSpec, { kind: 'ecs-service' }> => t.kind === 'ecs-service')
      .map((t) => stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${t.cluster}/${t.service}` }));
    if (services.length > 0) {
      this.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices', ...(options.write ? ['ecs:UpdateService'] : [])], resources: services }));
      this.addToRolePolicy(new iam.PolicyStatement({ actions: ['application-autoscaling:DescribeScalableTargets'], resources: ['*'] }));
      if (options.write) {
        this.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['application-autoscaling:RegisterScalableTarget'],
            resources: ['*'],
            conditions: {
              StringEquals: {
                'application-autoscaling:service-namespace': ECS_SERVICE_NAMESPACE,
                'application-autoscaling:scalable-dimension': ECS_DIMENSION_NAME,
              },
            },
          }),
        );
      }
    }
    const nodegroups = targets
      .filter((t): t is Extract<TargetSpec, { kind: 'eks-nodegroup' }> => t.kind === 'eks-nodegroup')
      .map((t) => stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${t.cluster}/${t.nodegroup}/*` }));
    if (nodegroups.length > 0) {
      this.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['eks:DescribeNodegroup', ...(options.write ? ['eks:UpdateNodegroupConfig'] : [])], resources: nodegroups }),
      );
      acknowledgeNodegroupArns(this.role!, targets);
    }
  }

  /**
   * Everything a reconcile pass over `targets` calls: read and change the
   * targets, read and write their holds, and read scale-to-zero work metrics.
   * The reconciler has it; so has every actor that reconciles right after
   * writing a hold (emergency, runbooks, predictive), for its own targets.
   */
  bindReconcile(targets: readonly TargetSpec[], holds: dynamodb.ITable): void {
    this.bindTargets(targets, { write: true });
    this.bindHolds(holds, { write: true });
    // Scale-to-zero work and drain-sized backlogs are read from CloudWatch.
    if (targets.some((t) => isScaleToZero(t) || t.drain)) this.bindMetrics();
  }

  /** The holds table: read, and with `write`, put and delete holds. (Its name is in the targets document.) */
  bindHolds(table: dynamodb.ITable, options: { readonly write: boolean }): void {
    table.grant(this, 'dynamodb:Query', 'dynamodb:Scan', ...(options.write ? ['dynamodb:PutItem', 'dynamodb:DeleteItem'] : []));
  }

  /** CloudWatch GetMetricData (no resource-level permissions), and PutMetricData into one namespace. */
  bindMetrics(options: { readonly putNamespace?: string } = {}): void {
    if (!this.metricsBound) this.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    this.metricsBound = true;
    if (options.putNamespace) {
      this.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': options.putNamespace } },
        }),
      );
    }
  }

  /** DescribeAlarms on exactly these alarms. */
  bindAlarms(alarmNames: readonly string[]): void {
    if (alarmNames.length === 0) return;
    const stack = Stack.of(this);
    this.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [...new Set(alarmNames)].map((name) =>
          stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ),
      }),
    );
  }

  /** Start executions of one state machine, whose ARN the handler reads from `envVar`. */
  bindStateMachine(stateMachineArn: string, envVar: string): void {
    this.addEnvironment(envVar, stateMachineArn);
    this.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }));
  }
}
