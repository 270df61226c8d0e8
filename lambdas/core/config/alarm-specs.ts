import type { AlarmKind, MetricRef, ResolvedPool, Thresholds } from '.';
import { scalesToZero } from './pool-kind';

export type MissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

/** One runbook alarm as plain data; the CDK construct renders it, the simulator evaluates it. */
export interface AlarmSpec {
  readonly kind: AlarmKind;
  readonly metric: MetricRef;
  /** Divide the metric by the pool's running tasks (Container Insights RunningTaskCount, metric math). */
  readonly perTask: boolean;
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: MissingData;
  /** The rule in words, for the alarm description and the docs. */
  readonly rule: string;
}

const minute = 60;

function spec(s: Omit<AlarmSpec, 'periodSeconds' | 'perTask'> & { perTask?: boolean }): AlarmSpec {
  return { periodSeconds: minute, perTask: false, ...s };
}

/**
 * The runbook alarms one pool gets. Missing data is chosen per alarm:
 * - a scale-to-zero pool has no CPU, memory or GPU datapoints at zero tasks,
 *   which is normal (notBreaching); elsewhere a gap is shown as such (missing);
 * - no latency datapoints means no requests, never slow ones (notBreaching),
 *   so an emergency is never declared on missing data;
 * - Kafka lag goes missing when the consumer group is not STABLE: unknown (missing);
 * - "no requests" is the one alarm where missing data is the condition (breaching).
 */
export function alarmSpecsForPool(pool: ResolvedPool, t: Thresholds, clusterName: string): AlarmSpec[] {
  const service = { ClusterName: clusterName, ServiceName: pool.name };
  // Batch pools go to zero too: no tasks, no datapoints, nothing wrong.
  const toZero = scalesToZero(pool);
  const gpu = scalesToZero(pool) && pool.compute.type === 'ec2-gpu';
  const idleGap: MissingData = toZero ? 'notBreaching' : 'missing';
  const m = pool.metrics;
  const specs: AlarmSpec[] = [
    spec({
      kind: 'cpu',
      metric: { namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensions: service, statistic: 'Average' },
      comparison: 'GreaterThanThreshold',
      threshold: t.cpuPercent,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: idleGap,
      rule: `CPU > ${t.cpuPercent} % for 5 of 5 one-minute periods`,
    }),
    spec({
      kind: 'memory',
      metric: { namespace: 'AWS/ECS', metricName: 'MemoryUtilization', dimensions: service, statistic: 'Average' },
      comparison: 'GreaterThanThreshold',
      threshold: t.memoryPercent,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: idleGap,
      rule: `memory > ${t.memoryPercent} % for 5 of 5 one-minute periods`,
    }),
  ];

  if (pool.kind === 'always-on') {
    specs.push(
      spec({
        kind: 'consumerLag',
        metric: m.consumerLag,
        comparison: 'GreaterThanThreshold',
        threshold: t.consumerLag,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: 'missing',
        rule: `Kafka ConsumerLag (${m.consumerLag.statistic}) > ${t.consumerLag} for 5 of 5 one-minute periods: target tracking is not keeping up`,
      }),
      spec({
        kind: 'grpcLatency',
        metric: { ...m.grpcLatency, statistic: 'p99' },
        comparison: 'GreaterThanThreshold',
        threshold: t.engineGrpcP99Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: 'notBreaching',
        rule: `engine gRPC p99 latency > ${t.engineGrpcP99Ms} ms for 3 of 3 one-minute periods`,
      }),
      spec({
        kind: 'latencyP95',
        metric: { ...m.latency, statistic: 'p95' },
        comparison: 'GreaterThanThreshold',
        threshold: t.p95Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: 'notBreaching',
        rule: `p95 latency > ${t.p95Ms} ms for 3 of 3 one-minute periods`,
      }),
      spec({
        kind: 'emergencyLatency',
        metric: { ...m.latency, statistic: 'p95' },
        comparison: 'GreaterThanThreshold',
        threshold: t.emergencyP95Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: 'notBreaching',
        rule: `p95 latency > ${t.emergencyP95Ms} ms for 3 of 3 one-minute periods: emergency, double capacity`,
      }),
    );
  } else {
    const p99 = gpu || pool.kind === 'scale-to-zero' ? t.gpuModuleP99Ms : t.cpuModuleP99Ms;
    const perTask = pool.kind === 'batch' ? pool.messagesPerTask : t.queueDepthPerTask;
    specs.push(
      spec({
        kind: 'queueDepth',
        metric: m.queueDepth,
        perTask: true,
        comparison: 'GreaterThanThreshold',
        threshold: perTask,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: 'missing',
        rule: `pending work > ${perTask} per running task for 5 of 5 one-minute periods`,
      }),
      spec({
        kind: 'processingLatency',
        metric: { ...m.latency, statistic: 'p99' },
        comparison: 'GreaterThanThreshold',
        threshold: p99,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: 'notBreaching',
        rule: `p99 processing latency > ${p99 / 1000} s for 3 of 3 one-minute periods`,
      }),
    );
  }

  if (pool.kind === 'batch') {
    specs.push(
      spec({
        kind: 'oldestMessageAge',
        metric: pool.metrics.oldestMessageAge!,
        comparison: 'GreaterThanThreshold',
        threshold: pool.maxMessageAgeSeconds,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        // An inactive queue stops publishing: no datapoints, no old messages.
        treatMissingData: 'notBreaching',
        rule: `oldest message older than ${pool.maxMessageAgeSeconds} s for 5 of 5 one-minute periods: the workers are not keeping up`,
      }),
    );
  }

  if (gpu) {
    specs.push(
      spec({
        kind: 'gpuUtilization',
        metric: m.gpuUtilization,
        comparison: 'GreaterThanThreshold',
        threshold: t.gpuUtilizationPercent,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: 'notBreaching',
        rule: `GPU utilisation > ${t.gpuUtilizationPercent} % for 5 of 5 one-minute periods`,
      }),
    );
  }

  // Silence is the normal state of a scale-to-zero pool: the Lambda acts on it; nobody is paged.
  if (!toZero) {
    specs.push(
      spec({
        kind: 'noRequests',
        metric: { ...m.requests, statistic: 'Sum' },
        comparison: 'LessThanThreshold',
        threshold: 1,
        evaluationPeriods: t.noRequestsMinutes,
        datapointsToAlarm: t.noRequestsMinutes,
        treatMissingData: 'breaching',
        rule: `no requests for ${t.noRequestsMinutes} minutes: the pipeline has stalled`,
      }),
    );
  }
  return specs;
}
