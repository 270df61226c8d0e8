import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { DEFAULTS } from './defaults';
import { metricOverrideSchema } from './metric';
import { gpuIdlePercentSchema, idleMinutesSchema, peakHoursShape, plannedEventShape, predictiveShape, probeShape } from './parts';

/**
 * The mlscale configuration document (config/mlscale.json).
 *
 * One model feeds the CDK stacks, the Lambdas (rendered into the targets
 * document, which document.ts validates from the same parts), the CLI and
 * the simulator. Written in zod/mini, which tree-shakes, because the Lambda
 * bundles carry the document's half of it. Every threshold is a default
 * from the operators' runbooks (defaults.ts), not a constant.
 */

// zod/mini ships no messages; English ones keep the errors readable.
z.config(en());

/** A whole number within [min, max]. */
const int = (min: number, max?: number) => z.int().check(z.minimum(min), ...(max !== undefined ? [z.maximum(max)] : []));
/** A string matching `re`, with `message` when it does not. */
const matching = (re: RegExp, message: string) => z.string().check(z.regex(re, message));
const nonEmpty = z.string().check(z.minLength(1));

const slug = matching(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 characters of a-z, 0-9 and "-", starting with a letter');
const percent = z.number().check(z.gt(0), z.lte(100));
const milliseconds = z.number().check(z.int(), z.gt(0), z.lte(600_000));
const capacity = int(0, 5_000);
const minutes = int(1, 1_440);
const instanceType = matching(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type like g5.xlarge');
const awsId = (prefix: string) => matching(new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`), `must be an ID like ${prefix}-0123456789abcdef0`);

export const PRESETS = ['low-cost', 'balanced', 'low-latency'] as const;
export const presetSchema = z.enum(PRESETS);
export type Preset = z.infer<typeof presetSchema>;

export const POOL_KINDS = ['always-on', 'demand', 'scale-to-zero', 'batch'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** Runbook thresholds: they drive both the scaling policies and the alarms. */
const thresholdsShape = {
  /** CPU target tracking target and the "CPU > 70 % for 5 min" alarm. */
  cpuPercent: z._default(percent, 70),
  /** Memory alarm. */
  memoryPercent: z._default(percent, 80),
  /** Kafka ConsumerLag: the backlog an always-on pool drains down to, and its alarm. */
  consumerLag: z._default(z.number().check(z.gt(0)), 1000),
  /** Engine gRPC p99 latency alarm. */
  engineGrpcP99Ms: z._default(milliseconds, 500),
  /** Pending requests per task: queue target for demand pools and the queue alarm for modules. */
  queueDepthPerTask: z._default(z.number().check(z.gt(0)), 10),
  /** p99 processing latency of CPU modules: step scale-out and alarm. */
  cpuModuleP99Ms: z._default(milliseconds, 2_000),
  /** p99 processing latency of GPU modules: alarm. */
  gpuModuleP99Ms: z._default(milliseconds, 10_000),
  /** p95 latency alarm (warning). */
  p95Ms: z._default(milliseconds, 100),
  /** p95 latency that declares an emergency (the emergency runbook). */
  emergencyP95Ms: z._default(milliseconds, 200),
  /** GPU utilisation alarm. */
  gpuUtilizationPercent: z._default(percent, 80),
  /** "No requests" alarm window. */
  noRequestsMinutes: z._default(int(1, 60), 5),
};
export const thresholdsSchema = z.strictObject(thresholdsShape);
export type Thresholds = z.infer<typeof thresholdsSchema>;

export const containerSchema = z.strictObject({
  name: slug,
  /** Image URI, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/engine:1.4.2`. */
  image: nonEmpty,
  /** CPU units reserved for this container. @default - shares the task's CPU */
  cpu: z.optional(int(0)),
  /** Hard memory limit of the container. @default - the task's memory */
  memoryLimitMiB: z.optional(int(4)),
  command: z.optional(z.array(z.string())),
  portMappings: z._default(z.array(int(1, 65_535)), []),
  essential: z._default(z.boolean(), true),
});

/** Metrics the application publishes; anything left out gets the pool's default. */
export const poolMetricsSchema = z.strictObject({
  /** Requests (or messages) handled, statistic Sum; load for predictive scaling, drain sizing and the simulator. */
  requests: z.optional(metricOverrideSchema),
  /** Request latency; alarms use p95 and p99 of it. */
  latency: z.optional(metricOverrideSchema),
  /** Kafka consumer lag (always-on pools). */
  consumerLag: z.optional(metricOverrideSchema),
  /** Engine gRPC latency (always-on pools). */
  grpcLatency: z.optional(metricOverrideSchema),
  /** Pending requests in the module's queue (demand and scale-to-zero pools). */
  queueDepth: z.optional(metricOverrideSchema),
  /** Pending work that wakes a scale-to-zero pool. */
  work: z.optional(metricOverrideSchema),
  /** Work being processed right now; when set, idleness also needs it at 0. */
  inFlight: z.optional(metricOverrideSchema),
  /** GPU utilisation (e.g. from the DCGM exporter through the CloudWatch agent). */
  gpuUtilization: z.optional(metricOverrideSchema),
});

export const emergencyPoolSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  /** Highest capacity the emergency runbook may reach. @default - maxCapacity × emergency.ceilingMultiplier */
  ceiling: z.optional(int(1, 5_000)),
});

export const predictivePoolSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /** Load one replica carries when sizing the forecast floor, in requests per second. @default - capacityPerTask */
  targetPerReplica: z.optional(z.number().check(z.gt(0))),
  headroom: z.optional(z.number().check(z.minimum(0), z.maximum(5))),
  leadMinutes: z.optional(int(0, 240)),
  mode: z.optional(z.enum(['forecast-only', 'forecast-and-scale'])),
});

const poolBase = {
  name: slug,
  /** @default - from the preset: low-cost 1/1/0, balanced 2/1/0, low-latency 3/2/1 (always-on/demand/scale-to-zero) */
  minCapacity: z.optional(capacity),
  maxCapacity: int(1, 5_000),
  /** Task CPU units. */
  cpu: z._default(int(256, 16_384), DEFAULTS.pool.cpu),
  memoryMiB: z._default(int(512, 122_880), DEFAULTS.pool.memoryMiB),
  containers: z.array(containerSchema).check(z.minLength(1)),
  /** Seconds a task gets to finish in-flight work after SIGTERM (Fargate allows up to 120). */
  stopTimeoutSeconds: z._default(int(2, 120), DEFAULTS.pool.stopTimeoutSeconds),
  /** Requests per second one task serves while latency holds (simulator, predictive, drain sizing, plan). */
  capacityPerTask: z._default(z.number().check(z.gt(0)), DEFAULTS.pool.capacityPerTask),
  /** Seconds from "desired + 1" to a task serving traffic. @default - 60 on Fargate, 300 on GPU instances */
  startupSeconds: z.optional(int(0, 3_600)),
  scaleOutCooldownSeconds: z._default(int(0, 3_600), DEFAULTS.pool.scaleOutCooldownSeconds),
  scaleInCooldownSeconds: z._default(int(0, 3_600), DEFAULTS.pool.scaleInCooldownSeconds),
  metrics: z._default(poolMetricsSchema, {}),
  emergency: z._default(emergencyPoolSchema, {}),
  predictive: z._default(predictivePoolSchema, { enabled: false }),
};

export const fargateComputeSchema = z.strictObject({ type: z.literal('fargate') });
export const gpuComputeSchema = z.strictObject({
  type: z.literal('ec2-gpu'),
  /** GPU instance type of the pool's capacity provider (ECS on Fargate has no GPUs). */
  instanceType: z._default(instanceType, 'g5.xlarge'),
  gpusPerTask: z._default(int(1, 8), 1),
});

export const alwaysOnPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('always-on'),
  /** Scale on the Kafka consumer lag as well as CPU. */
  trackConsumerLag: z._default(z.boolean(), true),
  /**
   * How the lag scales the pool: `drain` (mlscale's reconciler raises a floor of what clears the backlog in
   * drainSeconds, and adds nothing while it drains) or `target-tracking` (AWS target tracking on total lag).
   */
  lagScaling: z._default(z.enum(['drain', 'target-tracking']), 'drain'),
  /** Seconds a backlog should take to clear: sizes the drain floor and emergency raises. */
  drainSeconds: z._default(int(30, 3_600), DEFAULTS.drainSeconds),
  /**
   * Also scale out on the growth rate of the lag (a step policy on RATE of ConsumerLag): a backlog that is
   * draining adds nothing, one that grows adds capacity before the absolute threshold is reached.
   */
  scaleOnLagGrowth: z._default(z.boolean(), false),
  /**
   * Minutes CPU (and a tracked lag) must stay below 90 % of target before tasks are removed. 15 is target
   * tracking's own scale-in; fewer adds mlscale's step scale-in policy, sized as target tracking sizes it,
   * and sets DisableScaleIn on target tracking (lambdas/core/scale-in.ts).
   */
  scaleInMinutes: z._default(int(1, 15), DEFAULTS.pool.scaleInMinutes),
});

export const demandPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('demand'),
});

/** A timed probe of a scale-to-zero pool whose work metric is unknown at zero (a consumer group that never committed). */
export const probeSchema = z.strictObject(probeShape);

export const scaleToZeroPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('scale-to-zero'),
  compute: z._default(z.discriminatedUnion('type', [fargateComputeSchema, gpuComputeSchema]), {
    type: 'ec2-gpu',
    instanceType: 'g5.xlarge',
    gpusPerTask: 1,
  }),
  idleMinutes: z._default(idleMinutesSchema, DEFAULTS.scaleToZero.idleMinutes),
  /** Capacity to start when work appears at zero. */
  scaleFromZeroTo: z._default(int(1), DEFAULTS.scaleToZero.scaleFromZeroTo),
  /** Treat a missing work datapoint as "no work". Off: missing data is unknown and blocks scale-down. */
  missingDataIsIdle: z._default(z.boolean(), false),
  /** GPU utilisation at or below this is idle (GPU pools: a job in flight lags nothing but keeps the GPU busy). */
  gpuIdlePercent: z._default(gpuIdlePercentSchema, DEFAULTS.scaleToZero.gpuIdlePercent),
  /** @default - no probe: an unknown work metric at zero is an error, alarmed */
  probe: z.optional(probeSchema),
});

/** The SQS queue a batch pool works off. */
export const batchQueueSchema = z.strictObject({
  /** Queue name. @default - `<pipeline>-<environment>-<pool>` */
  name: z.optional(matching(/^(?:[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo)$/, 'must be an SQS queue name: up to 80 of A-Z, a-z, 0-9, "-" and "_" (".fifo" at the end for FIFO)')),
  /** The queue exists already (give its name); otherwise the stack creates it, encrypted, with a dead-letter queue. */
  existing: z._default(z.boolean(), false),
  /** Receives of one message before it goes to the dead-letter queue (created queues). */
  maxReceiveCount: z._default(int(1, 1_000), 5),
  /** Seconds a received message stays invisible to other workers (created queues); longer than a message takes. */
  visibilityTimeoutSeconds: z._default(int(0, 43_200), 300),
});

/**
 * A batch pool (the batch-inference pattern): workers take messages off an
 * SQS queue; capacity follows the backlog per task, goes to zero when the
 * queue has been empty for idleMinutes and comes back when messages arrive.
 */
export const batchPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('batch'),
  queue: z._default(batchQueueSchema, { existing: false, maxReceiveCount: 5, visibilityTimeoutSeconds: 300 }),
  /** Visible messages per running task that target tracking holds. @default - thresholds.queueDepthPerTask */
  messagesPerTask: z.optional(z.number().check(z.gt(0))),
  idleMinutes: z._default(idleMinutesSchema, DEFAULTS.scaleToZero.idleMinutes),
  scaleFromZeroTo: z._default(int(1), DEFAULTS.scaleToZero.scaleFromZeroTo),
  /**
   * A minute with no queue datapoint counts as empty. On by default for SQS: CloudWatch stops publishing a
   * queue's metrics after six hours without activity, and the first message sent makes it publish again.
   */
  missingDataIsIdle: z._default(z.boolean(), true),
  /** Alarm when the oldest message has waited this long (ApproximateAgeOfOldestMessage). */
  maxMessageAgeSeconds: z._default(int(60, 1_209_600), 900),
  compute: z._default(z.discriminatedUnion('type', [fargateComputeSchema, gpuComputeSchema]), { type: 'fargate' }),
});

export const poolSchema = z.discriminatedUnion('kind', [alwaysOnPoolSchema, demandPoolSchema, scaleToZeroPoolSchema, batchPoolSchema]);
export type PoolConfig = z.infer<typeof poolSchema>;

export const GPU_AMI_TYPES = ['AL2023_x86_64_NVIDIA', 'BOTTLEROCKET_x86_64_NVIDIA', 'AL2_x86_64_GPU'] as const;

export const nodeGroupSchema = z.strictObject({
  name: slug,
  instanceTypes: z.array(matching(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be EC2 instance types like g5.xlarge')).check(z.minLength(1)),
  minSize: z._default(capacity, 0),
  maxSize: int(1, 5_000),
  desiredSize: z._default(capacity, 0),
  amiType: z._default(z.enum(GPU_AMI_TYPES), 'AL2023_x86_64_NVIDIA'),
  capacityType: z._default(z.enum(['ON_DEMAND', 'SPOT']), 'ON_DEMAND'),
  diskSizeGiB: z._default(int(20, 16_384), 100),
  labels: z._default(z.record(z.string(), z.string()), {}),
  /** Scale to zero when the GPU modules' work is gone, back when it appears. */
  scaleToZero: z._default(z.boolean(), true),
  work: z.optional(metricOverrideSchema),
  /** Work being processed on the group's nodes; when set, idleness also needs it at 0. */
  inFlight: z.optional(metricOverrideSchema),
  /** GPU utilisation of the group's nodes. @default - Pipestream/GPU GPUUtilization by NodeGroup */
  gpuUtilization: z.optional(metricOverrideSchema),
  gpuIdlePercent: z._default(gpuIdlePercentSchema, DEFAULTS.scaleToZero.gpuIdlePercent),
  idleMinutes: z._default(idleMinutesSchema, DEFAULTS.scaleToZero.idleMinutes),
  missingDataIsIdle: z._default(z.boolean(), false),
  probe: z.optional(probeSchema),
  /** Seconds from "desired + 1" to a node running pods (GPU node boot + driver + image pull). */
  startupSeconds: z._default(int(0, 3_600), 300),
});
export type NodeGroupConfig = z.infer<typeof nodeGroupSchema>;

export const eksSchema = z.strictObject({
  /** Name of the EKS cluster the node groups join. */
  clusterName: nonEmpty,
  /** Attach to an existing cluster (the common case) or create one. */
  existing: z._default(z.boolean(), true),
  /** Subnets for the node groups (required when attaching to an existing cluster). */
  subnetIds: z._default(z.array(awsId('subnet')), []),
  /** Kubernetes version when the cluster is created here. */
  kubernetesVersion: z._default(matching(/^1\.\d+$/, 'must be like 1.33'), '1.33'),
  nodeGroups: z._default(z.array(nodeGroupSchema), []),
});

/** A planned event of the config: the document's event plus the pool it is for. */
export const plannedEventSchema = z.strictObject({ ...plannedEventShape, name: slug, pool: z.string() });
export type PlannedEvent = z.infer<typeof plannedEventSchema>;

export const peakHoursSchema = z.strictObject({ ...peakHoursShape, name: slug, pool: z.string() });
export type PeakHours = z.infer<typeof peakHoursSchema>;

export const predictiveSchema = z.strictObject({
  mode: predictiveShape.mode,
  scheduleMinutes: z._default(int(5, 1_440), DEFAULTS.predictive.scheduleMinutes),
  historyDays: predictiveShape.historyDays,
  horizonHours: predictiveShape.horizonHours,
  leadMinutes: z._default(int(0, 240), DEFAULTS.predictive.leadMinutes),
  headroom: z._default(z.number().check(z.minimum(0), z.maximum(5)), DEFAULTS.predictive.headroom),
  /**
   * Act on a forecast only while its backtest error (WAPE over the target's last three days) is at most
   * this; otherwise mlscale falls back to reactive scaling and says so.
   */
  maxErrorPercent: z._default(z.number().check(z.gt(0), z.maximum(100)), DEFAULTS.predictive.maxErrorPercent),
});

/** Alarm kinds the scaling-alarms construct creates; emergency.alarmKinds names a subset. */
export const ALARM_KINDS = [
  'cpu',
  'memory',
  'consumerLag',
  'grpcLatency',
  'queueDepth',
  'processingLatency',
  'latencyP95',
  'emergencyLatency',
  'gpuUtilization',
  'noRequests',
  'oldestMessageAge',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

/**
 * The alarm kinds that say new capacity is unhealthy — the rollout runbook's
 * health gates. Not CPU or queue depth (too little capacity is what a
 * rollout is curing) and not noRequests (no traffic says nothing of health).
 */
export const HEALTH_ALARM_KINDS: readonly AlarmKind[] = ['memory', 'grpcLatency', 'latencyP95', 'emergencyLatency', 'processingLatency'];

export const emergencySchema = z.strictObject({
  /** Emergency ceiling = maxCapacity × this, unless a pool sets its own. */
  ceilingMultiplier: z._default(z.number().check(z.gt(1), z.maximum(10)), DEFAULTS.emergency.ceilingMultiplier),
  /** Minutes the alarms must stay OK before the runbook releases the incident. */
  stableMinutes: z._default(minutes, DEFAULTS.emergency.stableMinutes),
  /** The runbook stops watching after this long; the incident's hold ends soon after by itself. */
  maxMonitorMinutes: z._default(minutes, DEFAULTS.emergency.maxMonitorMinutes),
  /** Alarm kinds that declare an emergency (see docs: alarm kinds). */
  alarmKinds: z._default(z.array(z.enum(ALARM_KINDS)).check(z.minLength(1)), ['emergencyLatency']),
});

export const networkSchema = z.strictObject({
  /** Use an existing VPC instead of creating one (no lookup: give its subnets and zones). */
  vpcId: z.optional(awsId('vpc')),
  privateSubnetIds: z._default(z.array(awsId('subnet')), []),
  availabilityZones: z._default(z.array(z.string()), []),
  maxAzs: z._default(int(1, 6), 2),
  natGateways: z._default(int(0, 6), 1),
});

const poolOverrideSchema = z.strictObject({
  minCapacity: z.optional(capacity),
  maxCapacity: z.optional(int(1, 5_000)),
});

export const environmentSchema = z.strictObject({
  name: slug,
  /** Pin the stack to an account/region; leave out for an environment-agnostic stack. */
  account: z.optional(matching(/^\d{12}$/, 'must be a 12-digit AWS account ID')),
  region: z.optional(matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region like eu-west-1')),
  /** ECS cluster name. @default - `<name>-<environment>` */
  clusterName: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  preset: z.optional(presetSchema),
  thresholds: z.optional(z.partial(thresholdsSchema)),
  pools: z._default(z.record(z.string(), poolOverrideSchema), {}),
  notificationEmails: z._default(z.array(z.email()), []),
});

/**
 * CloudWatch Logs accepts only these retention periods (days); any other
 * number synthesizes a template CloudFormation rejects.
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  /** Name of the pipeline; prefixes clusters, alarms and stacks. */
  name: z._default(slug, 'pipestream'),
  preset: z._default(presetSchema, 'balanced'),
  environments: z.array(environmentSchema).check(z.minLength(1)),
  network: z._default(networkSchema, { privateSubnetIds: [], availabilityZones: [], maxAzs: 2, natGateways: 1 }),
  thresholds: z._default(thresholdsSchema, () => thresholdsSchema.parse({})),
  pools: z.array(poolSchema).check(z.minLength(1)),
  eks: z.optional(eksSchema),
  plannedEvents: z._default(z.array(plannedEventSchema), []),
  peakHours: z._default(z.array(peakHoursSchema), []),
  predictive: z._default(predictiveSchema, () => predictiveSchema.parse({})),
  emergency: z._default(emergencySchema, () => emergencySchema.parse({})),
  /** Minutes between reconcile passes (the reconciler, scale-to-zero included). */
  scaleToZeroScheduleMinutes: z._default(int(1, 60), DEFAULTS.scaleToZero.scheduleMinutes),
  notificationEmails: z._default(z.array(z.email()), []),
  /** Thrash detection: the alarm per target that fires when the autoscaler oscillates. */
  thrash: z._default(z.strictObject({ maxDirectionChangesPerHour: z._default(int(1, 60), DEFAULTS.thrash.maxDirectionChangesPerHour) }), {
    maxDirectionChangesPerHour: DEFAULTS.thrash.maxDirectionChangesPerHour,
  }),
  /** Days CloudWatch keeps the scaler's own logs: one of the periods CloudWatch Logs accepts. */
  logRetentionDays: z._default(
    z.int().check(z.refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), { message: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (what CloudWatch Logs accepts)` })),
    DEFAULTS.logRetentionDays,
  ),
});

/** The config file as written (defaults not yet applied). */
export type ConfigInput = z.input<typeof configSchema>;
/** The config with defaults applied, before an environment is chosen. */
export type MlscaleConfig = z.infer<typeof configSchema>;
