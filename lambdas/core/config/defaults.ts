import type { MetricOverride, MetricRef } from './metric';

/**
 * Every default of the config model, once. The config schema, the targets
 * document, the runbooks, the CLI and the simulator all take them from here.
 * They are the field's runbook values, not constants: each is a documented
 * config field.
 */
export const DEFAULTS = {
  /** Planned events: raise this long before the start, hold this long after the end. */
  event: { leadMinutes: 30, cooldownMinutes: 20 },
  emergency: {
    /** Emergency ceiling = maxCapacity × this, unless a pool sets its own. */
    ceilingMultiplier: 2,
    /** Minutes the alarms must stay OK before the runbook releases the incident. */
    stableMinutes: 15,
    /** The runbook gives up watching after this long; the incident's hold ends soon after by itself. */
    maxMonitorMinutes: 180,
    /** How long an incident's hold lasts when it was opened without the runbook. */
    holdMinutes: 180,
  },
  predictive: {
    scheduleMinutes: 60,
    historyDays: 14,
    horizonHours: 6,
    leadMinutes: 10,
    headroom: 0.1,
    maxErrorPercent: 25,
  },
  scaleToZero: { idleMinutes: 5, scaleFromZeroTo: 1, gpuIdlePercent: 5, scheduleMinutes: 1 },
  /** Seconds a backlog should take to clear (drain floor and emergency raises). */
  drainSeconds: 120,
  pool: { cpu: 1_024, memoryMiB: 2_048, stopTimeoutSeconds: 120, capacityPerTask: 10, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300, scaleInMinutes: 12 },
  /** Holds the CLI writes: `mlscale scale` (manual) and `mlscale pause`, unless --for says otherwise. */
  cli: { manualHoldMinutes: 60, pauseHoldMinutes: 240, maxHoldMinutes: 7 * 24 * 60 },
  /** The rollout runbook: minutes each step must stay healthy, and minutes the last step is kept after a healthy rollout. */
  rollout: { holdMinutes: 5, keepMinutes: 60 },
  logRetentionDays: 30,
  /** Thrash detection: a target whose desired capacity turns round more often than this in an hour is flapping. */
  thrash: { maxDirectionChangesPerHour: 4 },
} as const;

/**
 * Minimum capacity per pool kind for each preset (the runbooks' cost/latency
 * trade-off): low-cost 1/1/0, balanced 2/1/0, low-latency 3/2/1.
 */
export const PRESET_MIN_CAPACITY = {
  'low-cost': { 'always-on': 1, demand: 1, 'scale-to-zero': 0, batch: 0 },
  balanced: { 'always-on': 2, demand: 1, 'scale-to-zero': 0, batch: 0 },
  // Batch work waits in its queue by design: even low-latency presets let it go to zero.
  'low-latency': { 'always-on': 3, demand: 2, 'scale-to-zero': 1, batch: 0 },
} as const;

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

/** An SQS queue's metric (AWS/SQS, by QueueName), statistic Maximum. */
export function sqsMetric(queueName: string, metricName: 'ApproximateNumberOfMessagesVisible' | 'ApproximateNumberOfMessagesNotVisible' | 'ApproximateAgeOfOldestMessage'): MetricRef {
  return { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queueName }, statistic: 'Maximum' };
}

/** A node group's GPU utilisation, as the workload publishes it per node group. */
export function nodegroupGpuMetric(nodegroup: string): MetricRef {
  return { namespace: NAMESPACES.gpu, metricName: 'GPUUtilization', dimensions: { NodeGroup: nodegroup }, statistic: 'Average' };
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
