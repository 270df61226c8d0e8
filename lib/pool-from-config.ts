import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { ResolvedPool, Thresholds } from '../lambdas/core/config';
import type { InferencePool, InferencePoolProps } from './constructs/inference-pool';
import type { PoolRowProps } from './constructs/scaling-dashboard';
import { toMetric } from './metrics';

/**
 * A config pool as InferencePool props. What the pool's kind changes here is
 * how it deploys: always-on and demand pools keep all their tasks during a
 * deployment; a scale-to-zero pool trades that for not paying for a second
 * GPU per task, and starts at 0 tasks.
 */
export function inferencePoolProps(
  pool: ResolvedPool,
  options: { readonly cluster: ecs.ICluster; readonly gpuCapacityProvider?: ecs.AsgCapacityProvider; readonly logRetention?: logs.RetentionDays },
): InferencePoolProps {
  const gpu = pool.kind === 'scale-to-zero' && pool.compute.type === 'ec2-gpu' ? pool.compute : undefined;
  if (gpu && !options.gpuCapacityProvider) throw new Error(`pool ${pool.name}: gpuCapacityProvider is required for ec2-gpu compute`);
  const toZero = pool.kind === 'scale-to-zero';
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
  };
}

/**
 * The policies each pool kind gets (DESIGN.md, "What is scaled"):
 * - always-on: CPU target tracking, and target tracking on Kafka lag when the
 *   pool's lagScaling says so (with 'drain' the reconciler sizes the pool to
 *   what clears the lag instead);
 * - demand: pending requests per task, and step scale-out on p99 latency;
 * - scale-to-zero: pending requests per task, above the floor the reconciler
 *   owns (1 when work appears, 0 after the idle minutes), so target tracking
 *   can neither take the pool to zero nor keep it from getting there.
 */
export function scaleByKind(target: InferencePool, pool: ResolvedPool, thresholds: Thresholds): void {
  switch (pool.kind) {
    case 'always-on':
      target.scaleOnCpu({ targetUtilizationPercent: thresholds.cpuPercent });
      if (pool.trackConsumerLag && pool.lagScaling === 'target-tracking') {
        target.scaleOnConsumerLag({ lagMetric: toMetric(pool.metrics.consumerLag), targetLag: thresholds.consumerLag });
      }
      return;
    case 'demand':
      target.scaleOnQueuePerTask({ queueMetric: toMetric(pool.metrics.queueDepth), targetPerTask: thresholds.queueDepthPerTask });
      target.scaleOnLatency({ latencyMetric: toMetric(pool.metrics.latency, { statistic: 'p99' }), thresholdMs: thresholds.cpuModuleP99Ms });
      return;
    case 'scale-to-zero':
      target.scaleOnQueuePerTask({ queueMetric: toMetric(pool.metrics.queueDepth), targetPerTask: thresholds.queueDepthPerTask });
      return;
  }
}

/** A config pool's dashboard row: its kind, its own scaling signal and its latency. */
export function poolRowProps(pool: ResolvedPool): PoolRowProps {
  const signal =
    pool.kind === 'always-on'
      ? toMetric(pool.metrics.consumerLag, { label: 'ConsumerLag (max)' })
      : toMetric(pool.metrics.queueDepth, { label: pool.kind === 'scale-to-zero' ? 'Pending work' : 'Queue depth' });
  return {
    description: pool.kind,
    signal: [signal],
    latency: [toMetric(pool.metrics.latency, { statistic: 'p95', label: 'p95 ms' }), toMetric(pool.metrics.latency, { statistic: 'p99', label: 'p99 ms' })],
  };
}
