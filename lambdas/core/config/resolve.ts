import type { MetricRef } from './metric';
import type { MlscaleConfig, NodeGroupConfig, PoolConfig, PoolKind, Preset, Thresholds } from './schema';
import { DEFAULT_STARTUP_SECONDS, defaultPoolMetrics, kafkaLagMetric, nodegroupGpuMetric, PRESET_MIN_CAPACITY, sqsMetric, withOverride } from './defaults';
import type { ConfigProblem } from './errors';
import { scalesToZero } from './pool-kind';

export interface ResolvedPoolMetrics {
  readonly requests: MetricRef;
  readonly latency: MetricRef;
  readonly consumerLag: MetricRef;
  readonly grpcLatency: MetricRef;
  readonly queueDepth: MetricRef;
  readonly work: MetricRef;
  readonly inFlight?: MetricRef;
  readonly gpuUtilization: MetricRef;
  /** Batch pools: the age of the oldest message in the queue. */
  readonly oldestMessageAge?: MetricRef;
}

export interface ResolvedEmergency {
  readonly enabled: boolean;
  readonly ceiling: number;
}

export interface ResolvedPredictive {
  readonly enabled: boolean;
  readonly mode: 'forecast-only' | 'forecast-and-scale';
  readonly targetPerReplica: number;
  readonly headroom: number;
  readonly leadMinutes: number;
}

/** Omit that keeps a discriminated union a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A batch pool's queue, named. */
export interface ResolvedQueue {
  readonly name: string;
  readonly existing: boolean;
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
}

type PoolWithoutQueue = DistributiveOmit<PoolConfig, 'minCapacity' | 'startupSeconds' | 'metrics' | 'emergency' | 'predictive' | 'queue' | 'messagesPerTask'>;
/** Kind-specific resolved fields: a batch pool's named queue and its per-task target. */
type ResolvedKindFields<P> = P extends { kind: 'batch' } ? P & { readonly queue: ResolvedQueue; readonly messagesPerTask: number } : P;

/** A pool with every default applied for one environment. */
export type ResolvedPool = ResolvedKindFields<PoolWithoutQueue> & {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly startupSeconds: number;
  readonly metrics: ResolvedPoolMetrics;
  readonly emergency: ResolvedEmergency;
  readonly predictive: ResolvedPredictive;
};

export type ResolvedNodeGroup = Omit<NodeGroupConfig, 'work' | 'gpuUtilization' | 'inFlight'> & {
  readonly work: MetricRef;
  readonly gpuUtilization: MetricRef;
  readonly inFlight?: MetricRef;
};

/** Everything one environment's stack, Lambdas, CLI and simulator need. */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly pipeline: string;
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  readonly clusterName: string;
  readonly preset: Preset;
  readonly thresholds: Thresholds;
  readonly pools: readonly ResolvedPool[];
  readonly eks?: Omit<NonNullable<MlscaleConfig['eks']>, 'nodeGroups'> & { readonly nodeGroups: readonly ResolvedNodeGroup[] };
  readonly network: MlscaleConfig['network'];
  readonly plannedEvents: MlscaleConfig['plannedEvents'];
  readonly peakHours: MlscaleConfig['peakHours'];
  readonly predictive: MlscaleConfig['predictive'];
  readonly emergency: MlscaleConfig['emergency'];
  readonly scaleToZeroScheduleMinutes: number;
  readonly thrash: MlscaleConfig['thrash'];
  readonly notificationEmails: readonly string[];
  readonly logRetentionDays: number;
}

function stackNameFor(pipeline: string, env: string): string {
  const title = (s: string) => s.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  return `Mlscale${title(pipeline)}${title(env)}`;
}

function resolvePool(
  pool: PoolConfig,
  config: MlscaleConfig,
  preset: Preset,
  override: { minCapacity?: number; maxCapacity?: number } | undefined,
  where: { pipeline: string; environment: string; thresholds: Thresholds },
): ResolvedPool {
  const kind: PoolKind = pool.kind;
  const maxCapacity = override?.maxCapacity ?? pool.maxCapacity;
  const minCapacity = override?.minCapacity ?? pool.minCapacity ?? PRESET_MIN_CAPACITY[preset][kind];
  const compute = scalesToZero(pool) ? pool.compute.type : 'fargate';
  const queueName = pool.kind === 'batch' ? (pool.queue.name ?? `${where.pipeline}-${where.environment}-${pool.name}`) : undefined;
  // A batch pool's work is its queue: visible messages pending, invisible ones being worked on.
  const defaults = queueName
    ? { ...defaultPoolMetrics(pool.name), work: sqsMetric(queueName, 'ApproximateNumberOfMessagesVisible'), queueDepth: sqsMetric(queueName, 'ApproximateNumberOfMessagesVisible') }
    : defaultPoolMetrics(pool.name);
  const m = pool.metrics;
  const inFlight = queueName ? withOverride(sqsMetric(queueName, 'ApproximateNumberOfMessagesNotVisible'), m.inFlight) : m.inFlight ? withOverride({ ...defaults.queueDepth, metricName: 'InFlight' }, m.inFlight) : undefined;
  const metrics: ResolvedPoolMetrics = {
    requests: withOverride(defaults.requests, m.requests),
    latency: withOverride(defaults.latency, m.latency),
    consumerLag: withOverride(defaults.consumerLag, m.consumerLag),
    grpcLatency: withOverride(defaults.grpcLatency, m.grpcLatency),
    // A scale-to-zero pool's queue is its pending work unless it says otherwise.
    queueDepth: withOverride(scalesToZero(pool) ? withOverride(defaults.work, m.work) : defaults.queueDepth, m.queueDepth),
    work: withOverride(defaults.work, m.work),
    gpuUtilization: withOverride(defaults.gpuUtilization, m.gpuUtilization),
    ...(inFlight ? { inFlight } : {}),
    ...(queueName ? { oldestMessageAge: sqsMetric(queueName, 'ApproximateAgeOfOldestMessage') } : {}),
  };
  const p = pool.predictive;
  const kindFields =
    pool.kind === 'batch'
      ? { queue: { ...pool.queue, name: queueName! }, messagesPerTask: pool.messagesPerTask ?? where.thresholds.queueDepthPerTask }
      : {};
  return {
    ...pool,
    ...kindFields,
    minCapacity,
    maxCapacity,
    startupSeconds: pool.startupSeconds ?? DEFAULT_STARTUP_SECONDS[compute],
    metrics,
    emergency: {
      // Doubling a pool that scales to zero fights the scale-to-zero Lambda; opt in explicitly.
      // Batch work waits in its queue by design: no emergency for it either, unless asked.
      enabled: pool.emergency.enabled ?? (kind !== 'scale-to-zero' && kind !== 'batch'),
      ceiling: pool.emergency.ceiling ?? Math.ceil(maxCapacity * config.emergency.ceilingMultiplier),
    },
    predictive: {
      enabled: p.enabled,
      mode: p.mode ?? config.predictive.mode,
      // The forecast sets a floor, not the operating point: size it at full per-task capacity (plus
      // headroom) and let target tracking keep its utilisation target above it. Sizing the floor at the
      // CPU target instead held capacity for the whole hour at its peak and cost 12-28 % more than
      // target tracking alone on the benchmark traces, for fewer violations (docs/benchmarks.md).
      targetPerReplica: p.targetPerReplica ?? pool.capacityPerTask,
      headroom: p.headroom ?? config.predictive.headroom,
      leadMinutes: p.leadMinutes ?? config.predictive.leadMinutes,
    },
    // TypeScript cannot tie kindFields to pool.kind; both are set from the same test above.
  } as ResolvedPool;
}

/** Name the field that made min > max: the environment override, the pool, or the preset. */
function minAboveMax(
  pool: ResolvedPool,
  i: number,
  envIndex: number,
  env: MlscaleConfig['environments'][number],
  config: MlscaleConfig,
  preset: Preset,
): ConfigProblem {
  const override = env.pools[pool.name];
  const envPath = `environments[${envIndex}].pools.${pool.name}`;
  const got = `got ${pool.minCapacity} > ${pool.maxCapacity}`;
  if (override?.minCapacity !== undefined) return { path: `${envPath}.minCapacity`, message: `must be <= maxCapacity, ${got}` };
  if (override?.maxCapacity !== undefined) {
    return { path: `${envPath}.maxCapacity`, message: `must be >= minCapacity, got ${pool.maxCapacity} < ${pool.minCapacity}` };
  }
  if (config.pools[i]?.minCapacity !== undefined) return { path: `pools[${i}].minCapacity`, message: `must be <= maxCapacity, ${got}` };
  return {
    path: env.preset ? `environments[${envIndex}].preset` : 'preset',
    message: `preset ${preset} sets minCapacity ${pool.minCapacity} for pool ${pool.name}, above its maxCapacity ${pool.maxCapacity}`,
  };
}

/**
 * Apply preset, environment overrides and defaults for one environment.
 * Problems found only after resolution (min > max from an override, say)
 * are returned, not thrown, so the caller can report all of them at once.
 */
export function resolveEnvironment(
  config: MlscaleConfig,
  envIndex: number,
): { environment: ResolvedEnvironment; problems: ConfigProblem[] } {
  const env = config.environments[envIndex];
  if (!env) throw new Error(`environment index ${envIndex} out of range`);
  const problems: ConfigProblem[] = [];
  const preset = env.preset ?? config.preset;
  const thresholds: Thresholds = { ...config.thresholds, ...env.thresholds };
  const pools = config.pools.map((pool) => resolvePool(pool, config, preset, env.pools[pool.name], { pipeline: config.name, environment: env.name, thresholds }));

  pools.forEach((pool, i) => {
    const where = env.pools[pool.name]?.minCapacity !== undefined ? `environments[${envIndex}].pools.${pool.name}` : `pools[${i}]`;
    if (pool.minCapacity > pool.maxCapacity) problems.push(minAboveMax(pool, i, envIndex, env, config, preset));
    if (pool.kind === 'always-on' && pool.minCapacity < 1) {
      problems.push({ path: `${where}.minCapacity`, message: `an always-on pool never scales to zero, got ${pool.minCapacity}` });
    }
    if (pool.emergency.enabled && pool.emergency.ceiling < pool.maxCapacity) {
      problems.push({
        path: `pools[${i}].emergency.ceiling`,
        message: `must be >= maxCapacity, got ${pool.emergency.ceiling} < ${pool.maxCapacity}`,
      });
    }
  });

  const eks = config.eks
    ? {
        ...config.eks,
        nodeGroups: config.eks.nodeGroups.map(({ inFlight, ...ng }) => ({
          ...ng,
          work: withOverride(kafkaLagMetric(ng.name), ng.work),
          gpuUtilization: withOverride(nodegroupGpuMetric(ng.name), ng.gpuUtilization),
          ...(inFlight ? { inFlight: withOverride({ ...nodegroupGpuMetric(ng.name), metricName: 'InFlight', statistic: 'Maximum' }, inFlight) } : {}),
        })),
      }
    : undefined;

  const environment: ResolvedEnvironment = {
    name: env.name,
    pipeline: config.name,
    stackName: stackNameFor(config.name, env.name),
    ...(env.account ? { account: env.account } : {}),
    ...(env.region ? { region: env.region } : {}),
    clusterName: env.clusterName ?? `${config.name}-${env.name}`,
    preset,
    thresholds,
    pools,
    ...(eks ? { eks } : {}),
    network: config.network,
    plannedEvents: config.plannedEvents,
    peakHours: config.peakHours,
    predictive: config.predictive,
    emergency: config.emergency,
    scaleToZeroScheduleMinutes: config.scaleToZeroScheduleMinutes,
    thrash: config.thrash,
    notificationEmails: [...config.notificationEmails, ...env.notificationEmails],
    logRetentionDays: config.logRetentionDays,
  };
  return { environment, problems };
}
