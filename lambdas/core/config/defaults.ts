import type { MetricOverride, MetricRef } from './metric';
import type { PoolKind, Preset } from './schema';

/**
 * Minimum capacity per pool kind for each preset (the runbooks' cost/latency
 * trade-off): low-cost 1/1/0, balanced 2/1/0, low-latency 3/2/1.
 */
export const PRESET_MIN_CAPACITY: Readonly<Record<Preset, Readonly<Record<PoolKind, number>>>> = {
  'low-cost': { 'always-on': 1, demand: 1, 'scale-to-zero': 0 },
  balanced: { 'always-on': 2, demand: 1, 'scale-to-zero': 0 },
  'low-latency': { 'always-on': 3, demand: 2, 'scale-to-zero': 1 },
};

/** Start-up delay from "desired + 1" to serving: a Fargate task vs. a GPU instance that must boot first. */
export const DEFAULT_STARTUP_SECONDS = { fargate: 60, 'ec2-gpu': 300 } as const;

/** Namespaces the pipeline publishes its own metrics in (DESIGN.md). */
export const NAMESPACES = {
  kafka: 'Pipestream/Kafka',
  pipeline: 'Pipestream/Pipeline',
  engine: 'Pipestream/Engine',
  gpu: 'Pipestream/GPU',
} as const;

export function kafkaLagMetric(consumerGroup: string): MetricRef {
  return {
    namespace: NAMESPACES.kafka,
    metricName: 'ConsumerLag',
    dimensions: { ConsumerGroup: consumerGroup },
    statistic: 'Maximum',
  };
}

/** Default metric per role for a pool named `pool`. */
export function defaultPoolMetrics(pool: string) {
  const byPool = { Pool: pool };
  return {
    requests: { namespace: NAMESPACES.pipeline, metricName: 'RequestCount', dimensions: byPool, statistic: 'Sum' },
    latency: { namespace: NAMESPACES.pipeline, metricName: 'Latency', dimensions: byPool, statistic: 'p95' },
    consumerLag: kafkaLagMetric(pool),
    grpcLatency: { namespace: NAMESPACES.engine, metricName: 'GrpcLatency', dimensions: byPool, statistic: 'p99' },
    queueDepth: { namespace: NAMESPACES.pipeline, metricName: 'QueueDepth', dimensions: byPool, statistic: 'Maximum' },
    work: kafkaLagMetric(pool),
    gpuUtilization: { namespace: NAMESPACES.gpu, metricName: 'GPUUtilization', dimensions: byPool, statistic: 'Average' },
  } satisfies Record<string, MetricRef>;
}

export function withOverride(base: MetricRef, override: MetricOverride | undefined): MetricRef {
  if (!override) return base;
  return {
    namespace: override.namespace ?? base.namespace,
    metricName: override.metricName ?? base.metricName,
    dimensions: override.dimensions ?? base.dimensions,
    statistic: override.statistic ?? base.statistic,
  };
}
