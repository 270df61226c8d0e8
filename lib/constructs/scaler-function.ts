import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../lambdas/core/targets';
import { acknowledgeNodegroupArns, acknowledgeUnscopable } from '../nag';

/** What every scaler construct (scale-to-zero, emergency, predictive, runbooks) is given. */
export interface ScalerProps {
  /** Every managed target (the parsed MLSCALE_CONFIG document); each construct picks its own. */
  readonly targets: readonly TargetSpec[];
  /** The same document as JSON, for the functions' environment. */
  readonly targetsJson: string;
  /** Operators' topic for alarms and notifications. */
  readonly topic: sns.ITopic;
  /** Prefix of alarm and state machine names: `<pipeline>-<environment>`. */
  readonly namePrefix: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** The event of an alarm among `alarms` going to ALARM. */
export function alarmToAlarmPattern(alarms: readonly { alarmArn: string }[]): events.EventPattern {
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    resources: alarms.map((a) => a.alarmArn),
    detail: { state: { value: ['ALARM'] } },
  };
}

/** Above this size the targets document is compiled into the bundle: Lambda allows 4 KB of environment in all. */
export const MAX_INLINE_CONFIG_BYTES = 3_000;

export interface ScalerFunctionProps {
  /** Folder under lambdas/ holding the handler's index.ts. */
  readonly handlerDir: string;
  /** The managed-targets document (rendered config) as JSON. */
  readonly targetsJson: string;
  /** Operators' topic for the function's own alarms. */
  readonly topic: sns.ITopic;
  /** Prefix of the function's alarm names. */
  readonly alarmPrefix: string;
  /**
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency; 1 where two runs at once could undo each other.
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
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Extra environment variables. @default - none */
  readonly environment?: Record<string, string>;
}

/**
 * A scaler Lambda as mlscale runs them: Node.js 22 on arm64, bundled by the
 * local esbuild, an explicit log group and a role that may only write to it
 * (each construct adds exactly the permissions its handler needs), X-Ray
 * tracing, a dead-letter queue for failed async invocations, and alarms on
 * its own errors, its dead letters and (for scheduled ones) a missed schedule:
 * the scaler watches itself.
 */
export class ScalerFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ScalerFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(this.role);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the function; its messages are kept 14 days and alarmed on.',
    });

    const inline = Buffer.byteLength(props.targetsJson) <= MAX_INLINE_CONFIG_BYTES;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', 'lambdas', props.handlerDir, 'index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      // Async invocations (schedules, alarms, EventBridge) that fail twice go to the queue.
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      environment: {
        ...(inline ? { MLSCALE_CONFIG: props.targetsJson } : {}),
        POWERTOOLS_METRICS_NAMESPACE: 'mlscale',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // lambdas/aws/retry.ts retries throttling and faults; one layer of retries, not two.
        AWS_MAX_ATTEMPTS: '1',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        // The Node.js 22 runtime ships AWS SDK v3: smaller bundles, faster cold starts.
        externalModules: ['@aws-sdk/*'],
        // A document too large for the environment is compiled in; MLSCALE_CONFIG still wins when set.
        ...(inline ? {} : { define: { 'process.env.MLSCALE_CONFIG_BUNDLED': JSON.stringify(props.targetsJson) } }),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'mlscale targets the Node.js 22 Lambda runtime on purpose: it is the version the handlers are built and tested for.',
    });
    acknowledgeUnscopable(this.role, 'X-Ray trace segments, CloudWatch GetMetricData and Application Auto Scaling');

    const alarmAction = new actions.SnsAction(props.topic);
    const fn = this.function;
    // Errors: the invocation itself failed (bad config, every retry exhausted), in N of N five-minute periods.
    this.addAlarm('Errors', alarmAction, {
      alarmName: `${props.alarmPrefix}-errors`,
      alarmDescription: `${props.handlerDir} Lambda: errors in ${props.errorPeriods ?? 1} of ${props.errorPeriods ?? 1} five-minute periods.`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.errorPeriods ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Dead letters: an async invocation failed for good.
    this.addAlarm('DeadLetters', alarmAction, {
      alarmName: `${props.alarmPrefix}-dead-letters`,
      alarmDescription: `${props.handlerDir} Lambda: a failed invocation is waiting in its dead-letter queue.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.scheduleMinutes !== undefined) {
      // Missed schedule: no invocation in three scheduled intervals; no data means no invocations.
      const minutes = props.scheduleMinutes;
      this.addAlarm('MissedSchedule', alarmAction, {
        alarmName: `${props.alarmPrefix}-missed-schedule`,
        alarmDescription: `${props.handlerDir} Lambda: not invoked for ${3 * minutes} minutes though scheduled every ${minutes}.`,
        metric: fn.metricInvocations({ period: Duration.minutes(minutes), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
  }

  private addAlarm(id: string, action: cloudwatch.IAlarmAction, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, props);
    alarm.addAlarmAction(action);
    this.alarms.push(alarm);
  }

  /** Allow ECS reads/updates of exactly these services. */
  grantEcsServices(targets: readonly TargetSpec[], write: boolean): void {
    const stack = Stack.of(this);
    const services = targets
      .filter((t): t is Extract<TargetSpec, { kind: 'ecs-service' }> => t.kind === 'ecs-service')
      .map((t) => stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${t.cluster}/${t.service}` }));
    if (services.length === 0) return;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices', ...(write ? ['ecs:UpdateService'] : [])], resources: services }));
  }

  /** Allow EKS reads/updates of exactly these node groups. */
  grantEksNodegroups(targets: readonly TargetSpec[], write: boolean): void {
    const stack = Stack.of(this);
    const nodegroups = targets
      .filter((t): t is Extract<TargetSpec, { kind: 'eks-nodegroup' }> => t.kind === 'eks-nodegroup')
      .map((t) => stack.formatArn({ service: 'eks', resource: 'nodegroup', resourceName: `${t.cluster}/${t.nodegroup}/*` }));
    if (nodegroups.length === 0) return;
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['eks:DescribeNodegroup', ...(write ? ['eks:UpdateNodegroupConfig'] : [])], resources: nodegroups }),
    );
    acknowledgeNodegroupArns(this.role, targets);
  }

  /** Application Auto Scaling: scalable targets get their ARN at registration, so these cannot be scoped. */
  grantAutoScaling(...actionNames: string[]): void {
    this.role.addToPolicy(new iam.PolicyStatement({ actions: actionNames.map((a) => `application-autoscaling:${a}`), resources: ['*'] }));
  }

  /** CloudWatch GetMetricData has no resource-level permissions. */
  grantReadMetrics(): void {
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
  }
}

