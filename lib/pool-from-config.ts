import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { ResolvedPool, Thresholds } from '../lambdas/core/config';
import { usesStepScaleIn } from '../lambdas/core/scale-in';
import { BatchQueue } from './constructs/batch-queue';
import type { InferencePool, InferencePoolProps } from './constructs/inference-pool';
import type { PoolRowProps } from './constructs/scaling-dashboard';
import { toMetric } from './metrics';
import { scalesToZero } from '../lambdas/core/config/pool-kind';

type GpuCompute = Extract<Extract<ResolvedPool, { compute: unknown }>['compute'], { type: 'ec2-gpu' }>;

/** The pool's GPU compute, if it runs on GPU capacity (scale-to-zero and batch pools may). */
export function gpuComputeOf(pool: ResolvedPool): GpuCompute | undefined {
  return scalesToZero(pool) && pool.compute.type === 'ec2-gpu' ? pool.compute : undefined;
}

/** Pools that go to zero: scale-to-zero and batch (the one rule, lambdas/core/config/pool-kind.ts). */
export { scalesToZero };

/** Where a pool's own alarms page, and the `<pipeline>-<environment>` prefix of their names. */
export interface PoolAlarmOptions {
  readonly alarmTopic?: sns.ITopic;
  readonly alarmPrefix?: string;
}

/**
 * A batch pool's queue: the existing one, by name (its ARN built from the
 * stack's account and region, no lookup, so synth needs no credentials), or
 * a new BatchQueue (encrypted, TLS only, with a dead-letter queue) whose dead
 * letters notify `alarmTopic`. An existing queue is checked at deploy time
 * (`existsCheck`: sqs:GetQueueUrl on that queue alone): a name that does not
 * exist fails the deploy with SQS's "The specified queue does not exist" and
 * CloudFormation rolls back, before the pool's service is created.
 */
export function queueForPool(
  scope: Construct,
  pool: Extract<ResolvedPool, { kind: 'batch' }>,
  options: PoolAlarmOptions = {},
): { readonly queue: sqs.IQueue; readonly batchQueue?: BatchQueue; readonly existsCheck?: cr.AwsCustomResource } {
  const q = pool.queue;
  if (q.existing) {
    const queueArn = Stack.of(scope).formatArn({ service: 'sqs', resource: q.name });
    const getQueueUrl: cr.AwsSdkCall = {
      service: 'SQS',
      action: 'getQueueUrl',
      parameters: { QueueName: q.name },
      physicalResourceId: cr.PhysicalResourceId.of(`${q.name}-exists`),
    };
    const existsCheck = new cr.AwsCustomResource(scope, `${pool.name}-queue-exists`, {
      onCreate: getQueueUrl,
      onUpdate: getQueueUrl,
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [queueArn] }),
      installLatestAwsSdk: false,
    });
    // The check runs in CDK's one provider function per stack; its role has only the basic logging policy beside the check's grant.
    const provider = Stack.of(scope).node.tryFindChild(cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '').replace(/^/, 'AWS'));
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AwsCustomResource's provider function (the deploy-time check that an existing queue exists) logs with the basic execution policy; its only other grant is sqs:GetQueueUrl on that queue.",
      });
    }
    return { queue: sqs.Queue.fromQueueAttributes(scope, `${pool.name}-queue`, { queueArn, queueName: q.name }), existsCheck };
  }
  const batchQueue = new BatchQueue(scope, `${pool.name}-queue`, {
    queueName: q.name,
    maxReceiveCount: q.maxReceiveCount,
    visibilityTimeout: Duration.seconds(q.visibilityTimeoutSeconds),
    ...(options.alarmTopic ? { alarmTopic: options.alarmTopic } : {}),
    ...(options.alarmTopic && options.alarmPrefix ? { deadLetterAlarmName: `${options.alarmPrefix}-${pool.name}-dead-letters` } : {}),
  });
  return { queue: batchQueue.queue, batchQueue };
}

/**
 * A config pool as InferencePool props. What the pool's kind changes here is
 * how it deploys: always-on and demand pools keep all their tasks during a
 * deployment; scale-to-zero and batch pools trade that for not paying for a
 * second GPU per task, and start at 0 tasks. A batch pool's tasks get its
 * queue (`queueForPool`) and may protect themselves from scale-in.
 */
export function inferencePoolProps(
  pool: ResolvedPool,
  options: {
    readonly cluster: ecs.ICluster;
    readonly gpuCapacityProvider?: ecs.AsgCapacityProvider;
    readonly logRetention?: logs.RetentionDays;
    /** A batch pool's queue. */
    readonly queue?: sqs.IQueue;
  },
): InferencePoolProps {
  const gpu = gpuComputeOf(pool);
  if (gpu && !options.gpuCapacityProvider) throw new Error(`pool ${pool.name}: gpuCapacityProvider is required for ec2-gpu compute`);
  if (pool.kind === 'batch' && !options.queue) throw new Error(`pool ${pool.name}: a batch pool needs its queue (queueForPool)`);
  if (pool.kind !== 'batch' && options.queue) throw new Error(`pool ${pool.name}: only batch pools take a queue, not ${pool.kind} pools`);
  const toZero = scalesToZero(pool);
  return {
    cluster: options.cluster,
    serviceName: pool.name,
    minCapacity: pool.minCapacity,
    maxCapacity: pool.maxCapacity,
    cpu: pool.cpu,
    memoryLimitMiB: pool.memoryMiB,
    stopTimeout: Duration.seconds(pool.stopTimeoutSeconds),
    containers: pool.containers.map((c) => ({
      name: c.name,
      image: ecs.ContainerImage.fromRegistry(c.image),
      essential: c.essential,
      containerPorts: c.portMappings,
      ...(c.command ? { command: c.command } : {}),
      ...(c.cpu !== undefined ? { cpu: c.cpu } : {}),
      ...(c.memoryLimitMiB !== undefined ? { memoryLimitMiB: c.memoryLimitMiB } : {}),
    })),
    ...(gpu ? { gpuCapacityProvider: options.gpuCapacityProvider, gpusPerTask: gpu.gpusPerTask } : {}),
    minHealthyPercent: toZero ? 0 : 100,
    maxHealthyPercent: toZero ? 100 : 200,
    ...(toZero ? { desiredCount: 0 } : {}),
    scaleOutCooldown: Duration.seconds(pool.scaleOutCooldownSeconds),
    scaleInCooldown: Duration.seconds(pool.scaleInCooldownSeconds),
    ...(options.logRetention !== undefined ? { logRetention: options.logRetention } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
  };
}

/**
 * The policies each pool kind gets (DESIGN.md, "What is scaled"):
 * - always-on: CPU target tracking, and target tracking on Kafka lag when the
 *   pool's lagScaling says so (with 'drain' the reconciler sizes the pool to
 *   what clears the lag instead); with scaleOnLagGrowth, step scale-out on
 *   the lag's growth rate, sized on the CPU target as the drain floor is;
 *   with scaleInMinutes under 15 (the default is 12), target tracking only
 *   scales out and a step policy scales in after that many low minutes
 *   (with `options`, its blind alarm is `<alarmPrefix>-<pool>-scale-in-blind`
 *   and pages `alarmTopic`);
 * - demand: pending requests per task, and step scale-out on p99 latency;
 * - scale-to-zero: pending requests per task, above the floor the reconciler
 *   owns (1 when work appears, 0 after the idle minutes), so target tracking
 *   can neither take the pool to zero nor keep it from getting there;
 * - batch: the same, on the queue's visible messages per task at the pool's
 *   messagesPerTask.
 */
export function scaleByKind(
  target: InferencePool,
  pool: ResolvedPool,
  thresholds: Thresholds,
  options: PoolAlarmOptions = {},
): void {
  switch (pool.kind) {
    case 'always-on': {
      // scaleInMinutes under 15: target tracking scales out only, the step policy scales in sooner.
      const stepIn = usesStepScaleIn(pool.scaleInMinutes);
      const lagTracked = pool.trackConsumerLag && pool.lagScaling === 'target-tracking';
      target.scaleOnCpu({ targetUtilizationPercent: thresholds.cpuPercent, disableScaleIn: stepIn });
      if (lagTracked) {
        target.scaleOnConsumerLag({ lagMetric: toMetric(pool.metrics.consumerLag), targetLag: thresholds.consumerLag, disableScaleIn: stepIn });
      }
      if (stepIn) {
        target.scaleInOnCpu({
          targetUtilizationPercent: thresholds.cpuPercent,
          minutes: pool.scaleInMinutes,
          ...(lagTracked ? { lag: { metric: toMetric(pool.metrics.consumerLag), target: thresholds.consumerLag } } : {}),
          // The step policy is the pool's only scale-in: page when it goes blind.
          ...(options.alarmPrefix ? { blindAlarmName: `${options.alarmPrefix}-${pool.name}-scale-in-blind` } : {}),
          ...(options.alarmTopic ? { alarmTopic: options.alarmTopic } : {}),
        });
      }
      if (pool.scaleOnLagGrowth) {
        target.scaleOnLagGrowth({
          lagMetric: toMetric(pool.metrics.consumerLag),
          capacityPerTask: pool.capacityPerTask,
          targetUtilization: thresholds.cpuPercent / 100,
          startupSeconds: pool.startupSeconds,
        });
      }
      return;
    }
    case 'demand':
      target.scaleOnQueuePerTask({ queueMetric: toMetric(pool.metrics.queueDepth), targetPerTask: thresholds.queueDepthPerTask });
      target.scaleOnLatency({ latencyMetric: toMetric(pool.metrics.latency, { statistic: 'p99' }), thresholdMs: thresholds.cpuModuleP99Ms });
      return;
    case 'scale-to-zero':
      target.scaleOnQueuePerTask({ queueMetric: toMetric(pool.metrics.queueDepth), targetPerTask: thresholds.queueDepthPerTask });
      return;
    case 'batch':
      target.scaleOnQueuePerTask({ queueMetric: toMetric(pool.metrics.queueDepth), targetPerTask: pool.messagesPerTask });
      return;
  }
}

/** A config pool's dashboard row: its kind, its own scaling signal and its latency. */
export function poolRowProps(pool: ResolvedPool): PoolRowProps {
  const signal =
    pool.kind === 'always-on'
      ? toMetric(pool.metrics.consumerLag, { label: 'ConsumerLag (max)' })
      : toMetric(pool.metrics.queueDepth, { label: SIGNAL_LABEL[pool.kind] });
  const m = pool.metrics;
  return {
    description: pool.kind,
    signal: [signal],
    latency: [toMetric(m.latency, { statistic: 'p95', label: 'p95 ms' }), toMetric(m.latency, { statistic: 'p99', label: 'p99 ms' })],
    ...(pool.kind === 'batch' && m.oldestMessageAge
      ? {
          queue: {
            messages: [toMetric(m.work, { label: 'visible' }), ...(m.inFlight ? [toMetric(m.inFlight, { label: 'in flight' })] : [])],
            oldestMessageAge: [toMetric(m.oldestMessageAge, { label: 'oldest message age (s)' })],
          },
        }
      : {}),
  };
}

const SIGNAL_LABEL: Record<Exclude<ResolvedPool['kind'], 'always-on'>, string> = {
  demand: 'Queue depth',
  'scale-to-zero': 'Pending work',
  batch: 'Visible messages',
};
