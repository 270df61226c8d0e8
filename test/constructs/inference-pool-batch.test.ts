import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../lib/constructs/batch-queue';
import { InferencePool, type InferencePoolProps, QUEUE_NAME_ENV, QUEUE_URL_ENV } from '../../lib/constructs/inference-pool';
import { ACCOUNT, allowing, existingCluster, existingTopic, freshStack, REGION, statementsOf } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable');

/** A batch pool on the existing `pipestream` cluster, working off `queue(stack)`. */
function batchPool(queue: (stack: Stack) => sqs.IQueue, props: Partial<InferencePoolProps> = {}) {
  const stack = freshStack();
  const q = queue(stack);
  const pool = new InferencePool(stack, 'Worker', {
    cluster: existingCluster(stack),
    serviceName: 'worker',
    minCapacity: 0,
    maxCapacity: 8,
    desiredCount: 0,
    minHealthyPercent: 0,
    maxHealthyPercent: 100,
    containers: [
      { name: 'worker', image },
      { name: 'sidecar', image },
    ],
    queue: q,
    ...props,
  });
  return { stack, pool, queue: q, template: () => Template.fromStack(stack) };
}

const newQueue = (stack: Stack) => new BatchQueue(stack, 'Jobs', { queueName: 'jobs' }).queue;
const existingQueue = (stack: Stack) =>
  sqs.Queue.fromQueueAttributes(stack, 'Jobs', { queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`, queueName: 'jobs' });

const TASKS = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/pipestream/*`;

function nagViolations(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(stack.node.scope!).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

describe('Construct: InferencePool with a queue (batch)', () => {
  it('tells every container where its work is: MLSCALE_QUEUE_URL and MLSCALE_QUEUE_NAME', () => {
    const t = batchPool(newQueue).template();
    const env = [
      { Name: QUEUE_URL_ENV, Value: { Ref: Match.stringLikeRegexp('^JobsQueue') } },
      { Name: QUEUE_NAME_ENV, Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsQueue'), 'QueueName'] } },
    ];
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'worker', Environment: env }), Match.objectLike({ Name: 'sidecar', Environment: env })],
    });
    expect([QUEUE_URL_ENV, QUEUE_NAME_ENV]).toEqual(['MLSCALE_QUEUE_URL', 'MLSCALE_QUEUE_NAME']);
  });

  it('lets the task role consume the queue and set its own tasks\' scale-in protection, on this cluster\'s tasks only', () => {
    const { template, pool } = batchPool(newQueue);
    const t = template();
    const statements = statementsOf(t, 'WorkerTaskDefinitionTaskRole');
    expect(allowing(statements, 'sqs:ReceiveMessage')).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JobsQueue/), 'Arn'] },
      },
    ]);
    expect(allowing(statements, 'ecs:UpdateTaskProtection')).toEqual([
      { Effect: 'Allow', Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'], Resource: TASKS },
    ]);
    expect(pool.taskProtection).toBe(true);
    expect(pool.taskArns).toBe(TASKS);
    // Nothing else: no sending, no purging, no other ECS calls.
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual(
      ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].sort(),
    );
  });

  it('takes an existing queue by name and ARN: no queue created, the grant on its ARN, its URL built from account and region', () => {
    const t = batchPool(existingQueue).template();
    t.resourceCountIs('AWS::SQS::Queue', 0);
    const statements = statementsOf(t, 'WorkerTaskDefinitionTaskRole');
    expect(allowing(statements, 'sqs:ReceiveMessage')[0]!.Resource).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Environment: [
            { Name: QUEUE_URL_ENV, Value: { 'Fn::Join': ['', [`https://sqs.${REGION}.`, { Ref: 'AWS::URLSuffix' }, `/${ACCOUNT}/jobs`]] } },
            { Name: QUEUE_NAME_ENV, Value: 'jobs' },
          ],
        }),
      ]),
    });
  });

  it('scales on the queue with scaleOnQueuePerTask: visible messages per running task', () => {
    const { pool, queue, template } = batchPool(newQueue);
    pool.scaleOnQueuePerTask({ queueMetric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), targetPerTask: 20 });
    const policy = Object.values(template().findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))[0] as { Properties: Props };
    const config = policy.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(config.TargetValue).toBe(20);
    expect(config.CustomizedMetricSpecification.Metrics[0]).toEqual({
      Id: 'queue',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^JobsQueue/), 'QueueName'] } }],
        },
        Stat: 'Maximum',
      },
      ReturnData: false,
    });
  });

  it('grants no task protection without a queue, or when told not to', () => {
    const stack = freshStack();
    const plain = new InferencePool(stack, 'Plain', { cluster: existingCluster(stack), serviceName: 'plain', minCapacity: 1, maxCapacity: 2, containers: [{ name: 'm', image }] });
    expect(plain.taskProtection).toBe(false);
    expect(plain.queue).toBeUndefined();
    const t = Template.fromStack(stack);
    expect(allowing(statementsOf(t, 'PlainTaskDefinitionTaskRole'), 'ecs:UpdateTaskProtection')).toEqual([]);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: Match.absent() })] });

    const off = batchPool(newQueue, { taskProtection: false }).template();
    expect(allowing(statementsOf(off, 'WorkerTaskDefinitionTaskRole'), 'ecs:UpdateTaskProtection')).toEqual([]);
    expect(allowing(statementsOf(off, 'WorkerTaskDefinitionTaskRole'), 'sqs:ReceiveMessage')).toHaveLength(1);
  });

  it('is cdk-nag clean with a new queue and with an existing one (the task ARN wildcard acknowledged with its reason)', () => {
    const created = batchPool(newQueue);
    created.template();
    expect(nagViolations(created.stack)).toEqual([]);
    // Exactly the task ARNs of this cluster are acknowledged, on the task role, with a reason.
    const acknowledged = created.pool.taskDefinition.taskRole.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledged).toEqual([[`Annotation::AwsSolutions-IAM5[Resource::${TASKS}]`, expect.stringMatching(/UpdateTaskProtection .* this cluster's tasks only/)]]);
    const existing = batchPool(existingQueue);
    existing.template();
    expect(nagViolations(existing.stack)).toEqual([]);
  });
});

describe('Construct: BatchQueue', () => {
  function queue(props: ConstructorParameters<typeof BatchQueue>[2] = {}) {
    const stack = freshStack();
    const q = new BatchQueue(stack, 'Jobs', props);
    return { stack, queue: q, template: Template.fromStack(stack) };
  }

  it('encrypts at rest (SQS-managed), keeps messages 14 days, sends a message to the dead-letter queue after 5 receives', () => {
    const { template: t } = queue({ queueName: 'jobs' });
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'jobs',
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      VisibilityTimeout: 300,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'jobs-dlq', SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600, RedrivePolicy: Match.absent() });
  });

  it('refuses requests without TLS on both queues', () => {
    const { template: t } = queue();
    t.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    for (const policy of Object.values(t.findResources('AWS::SQS::QueuePolicy')) as { Properties: Props }[]) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('takes the receive count and visibility timeout given', () => {
    queue({ maxReceiveCount: 3, visibilityTimeout: Duration.minutes(15) }).template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 900,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });

  it('makes a FIFO pair for a .fifo name, and lets CloudFormation name a dead-letter queue whose name would be too long', () => {
    const fifo = queue({ queueName: 'jobs.fifo' }).template;
    fifo.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'jobs.fifo', FifoQueue: true });
    fifo.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'jobs-dlq.fifo', FifoQueue: true });
    const long = `${'j'.repeat(75)}.fifo`;
    const t = queue({ queueName: long }).template;
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: long });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: Match.absent(), FifoQueue: true });
  });

  it('alarms on dead letters when given a topic: > 0 for one minute, missing data is none', () => {
    const stack = freshStack();
    const q = new BatchQueue(stack, 'Jobs', { queueName: 'jobs', alarmTopic: existingTopic(stack), deadLetterAlarmName: 'prod-jobs-dead-letters' });
    expect(q.deadLetterAlarm).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-jobs-dead-letters',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueue'), 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:oncall`],
    });
    expect(queue().queue.deadLetterAlarm).toBeUndefined();
  });

  it('is cdk-nag clean, and names every bad prop at once', () => {
    const { stack } = queue({ queueName: 'jobs' });
    expect(nagViolations(stack)).toEqual([]);
    const stack2 = freshStack();
    expect(() => new BatchQueue(stack2, 'Bad', { maxReceiveCount: 0, deadLetterAlarmName: 'x' })).toThrow(
      /BatchQueue Bad: maxReceiveCount must be a whole number from 1 to 1000, got 0; deadLetterAlarmName needs alarmTopic/,
    );
  });
});
