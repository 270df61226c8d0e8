import { z } from 'zod';
import { metricOverrideSchema } from './metric';

/**
 * The mlscale configuration document (config/mlscale.json).
 *
 * One model feeds the CDK stacks, the Lambdas (rendered into the targets
 * document), the CLI and the simulator. Every threshold is a default taken
 * from the operators' runbooks, not a constant: change it here.
 */

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 characters of a-z, 0-9 and "-", starting with a letter');
const percent = z.number().gt(0).lte(100);
const milliseconds = z.number().int().gt(0).lte(600_000);
const capacity = z.number().int().min(0).max(5_000);
const minutes = z.number().int().min(1).max(1_440);
const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`), `must be an ID like ${prefix}-0123456789abcdef0`);

export const PRESETS = ['low-cost', 'balanced', 'low-latency'] as const;
export const presetSchema = z.enum(PRESETS);
export type Preset = z.infer<typeof presetSchema>;

export const POOL_KINDS = ['always-on', 'demand', 'scale-to-zero'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** Runbook thresholds: they drive both the scaling policies and the alarms. */
export const thresholdsSchema = z.strictObject({
  /** CPU target tracking target and the "CPU > 70 % for 5 min" alarm. */
  cpuPercent: percent.default(70),
  /** Memory alarm. */
  memoryPercent: percent.default(80),
  /** Kafka ConsumerLag target tracking target and alarm (always-on pools). */
  consumerLag: z.number().gt(0).default(1000),
  /** Engine gRPC p99 latency alarm. */
  engineGrpcP99Ms: milliseconds.default(500),
  /** Pending requests per task: queue target for demand pools and the queue alarm for modules. */
  queueDepthPerTask: z.number().gt(0).default(10),
  /** p99 processing latency of CPU modules: step scale-out and alarm. */
  cpuModuleP99Ms: milliseconds.default(2_000),
  /** p99 processing latency of GPU modules: alarm. */
  gpuModuleP99Ms: milliseconds.default(10_000),
  /** p95 latency alarm (warning). */
  p95Ms: milliseconds.default(100),
  /** p95 latency that declares an emergency (doubling runbook). */
  emergencyP95Ms: milliseconds.default(200),
  /** GPU utilisation alarm. */
  gpuUtilizationPercent: percent.default(80),
  /** "No requests" alarm window. */
  noRequestsMinutes: z.number().int().min(1).max(60).default(5),
});
export type Thresholds = z.infer<typeof thresholdsSchema>;

export const containerSchema = z.strictObject({
  name: slug,
  /** Image URI, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/engine:1.4.2`. */
  image: z.string().min(1),
  /** CPU units reserved for this container. @default - shares the task's CPU */
  cpu: z.number().int().min(0).optional(),
  /** Hard memory limit of the container. @default - the task's memory */
  memoryLimitMiB: z.number().int().min(4).optional(),
  command: z.array(z.string()).optional(),
  portMappings: z.array(z.number().int().min(1).max(65_535)).default([]),
  essential: z.boolean().default(true),
});

/** Metrics the application publishes; anything left out gets the pool's default. */
export const poolMetricsSchema = z.strictObject({
  /** Requests (or messages) handled, statistic Sum; load for predictive scaling and the simulator. */
  requests: metricOverrideSchema.optional(),
  /** Request latency; alarms use p95 and p99 of it. */
  latency: metricOverrideSchema.optional(),
  /** Kafka consumer lag (always-on pools). */
  consumerLag: metricOverrideSchema.optional(),
  /** Engine gRPC latency (always-on pools). */
  grpcLatency: metricOverrideSchema.optional(),
  /** Pending requests in the module's queue (demand and scale-to-zero pools). */
  queueDepth: metricOverrideSchema.optional(),
  /** Pending work that wakes a scale-to-zero pool. */
  work: metricOverrideSchema.optional(),
  /** Work being processed right now; when set, idleness also needs it at 0. */
  inFlight: metricOverrideSchema.optional(),
  /** GPU utilisation (e.g. from the DCGM exporter through the CloudWatch agent). */
  gpuUtilization: metricOverrideSchema.optional(),
});

export const emergencyPoolSchema = z.strictObject({
  enabled: z.boolean().optional(),
  /** Highest capacity the emergency runbook may reach. @default - maxCapacity × emergency.ceilingMultiplier */
  ceiling: z.number().int().min(1).max(5_000).optional(),
});

export const predictivePoolSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Load one replica carries when sizing the forecast floor, in requests per second. @default - capacityPerTask */
  targetPerReplica: z.number().gt(0).optional(),
  headroom: z.number().min(0).max(5).optional(),
  leadMinutes: z.number().int().min(0).max(240).optional(),
  mode: z.enum(['forecast-only', 'forecast-and-scale']).optional(),
});

const poolBase = {
  name: slug,
  /** @default - from the preset: low-cost 1/1/0, balanced 2/1/0, low-latency 3/2/1 (always-on/demand/scale-to-zero) */
  minCapacity: capacity.optional(),
  maxCapacity: capacity.min(1),
  /** Task CPU units. */
  cpu: z.number().int().min(256).max(16_384).default(1_024),
  memoryMiB: z.number().int().min(512).max(122_880).default(2_048),
  containers: z.array(containerSchema).min(1),
  /** Seconds a task gets to finish in-flight work after SIGTERM (Fargate allows up to 120). */
  stopTimeoutSeconds: z.number().int().min(2).max(120).default(120),
  /** Requests per second one task serves while latency holds (simulator, predictive, plan). */
  capacityPerTask: z.number().gt(0).default(10),
  /** Seconds from "desired + 1" to a task serving traffic. @default - 60 on Fargate, 300 on GPU instances */
  startupSeconds: z.number().int().min(0).max(3_600).optional(),
  scaleOutCooldownSeconds: z.number().int().min(0).max(3_600).default(60),
  scaleInCooldownSeconds: z.number().int().min(0).max(3_600).default(300),
  metrics: poolMetricsSchema.default({}),
  emergency: emergencyPoolSchema.default({}),
  predictive: predictivePoolSchema.default({ enabled: false }),
};

export const fargateComputeSchema = z.strictObject({ type: z.literal('fargate') });
export const gpuComputeSchema = z.strictObject({
  type: z.literal('ec2-gpu'),
  /** GPU instance type of the pool's capacity provider (ECS on Fargate has no GPUs). */
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type like g5.xlarge').default('g5.xlarge'),
  gpusPerTask: z.number().int().min(1).max(8).default(1),
});

export const alwaysOnPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('always-on'),
  /** Scale on the Kafka consumer lag as well as CPU. */
  trackConsumerLag: z.boolean().default(true),
  /**
   * How the lag scales the pool: `drain` (mlscale's reconciler raises a floor of what clears the backlog in
   * drainSeconds, and adds nothing while it drains) or `target-tracking` (AWS target tracking on total lag).
   */
  lagScaling: z.enum(['drain', 'target-tracking']).default('drain'),
  /** Seconds a backlog should take to clear: sizes the drain floor and emergency raises. */
  drainSeconds: z.number().int().min(30).max(3_600).default(120),
});

export const demandPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('demand'),
});

export const scaleToZeroPoolSchema = z.strictObject({
  ...poolBase,
  kind: z.literal('scale-to-zero'),
  compute: z.discriminatedUnion('type', [fargateComputeSchema, gpuComputeSchema]).default({
    type: 'ec2-gpu',
    instanceType: 'g5.xlarge',
    gpusPerTask: 1,
  }),
  idleMinutes: minutes.default(5),
  /** Capacity to start when work appears at zero. */
  scaleFromZeroTo: z.number().int().min(1).default(1),
  /** Treat a missing work datapoint as "no work". Off: missing data is unknown and blocks scale-down. */
  missingDataIsIdle: z.boolean().default(false),
});

export const poolSchema = z.discriminatedUnion('kind', [alwaysOnPoolSchema, demandPoolSchema, scaleToZeroPoolSchema]);
export type PoolConfig = z.infer<typeof poolSchema>;

export const GPU_AMI_TYPES = ['AL2023_x86_64_NVIDIA', 'BOTTLEROCKET_x86_64_NVIDIA', 'AL2_x86_64_GPU'] as const;

export const nodeGroupSchema = z.strictObject({
  name: slug,
  instanceTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be EC2 instance types like g5.xlarge')).min(1),
  minSize: capacity.default(0),
  maxSize: capacity.min(1),
  desiredSize: capacity.default(0),
  amiType: z.enum(GPU_AMI_TYPES).default('AL2023_x86_64_NVIDIA'),
  capacityType: z.enum(['ON_DEMAND', 'SPOT']).default('ON_DEMAND'),
  diskSizeGiB: z.number().int().min(20).max(16_384).default(100),
  labels: z.record(z.string(), z.string()).default({}),
  /** Scale to zero when the GPU modules' work is gone, back when it appears. */
  scaleToZero: z.boolean().default(true),
  work: metricOverrideSchema.optional(),
  idleMinutes: minutes.default(5),
  missingDataIsIdle: z.boolean().default(false),
  /** Seconds from "desired + 1" to a node running pods (GPU node boot + driver + image pull). */
  startupSeconds: z.number().int().min(0).max(3_600).default(300),
});
export type NodeGroupConfig = z.infer<typeof nodeGroupSchema>;

export const eksSchema = z.strictObject({
  /** Name of the EKS cluster the node groups join. */
  clusterName: z.string().min(1),
  /** Attach to an existing cluster (the common case) or create one. */
  existing: z.boolean().default(true),
  /** Subnets for the node groups (required when attaching to an existing cluster). */
  subnetIds: z.array(awsId('subnet')).default([]),
  /** Kubernetes version when the cluster is created here. */
  kubernetesVersion: z.string().regex(/^1\.\d+$/, 'must be like 1.33').default('1.33'),
  nodeGroups: z.array(nodeGroupSchema).default([]),
});

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 time with a zone, e.g. 2026-12-24T18:00:00Z' });

export const plannedEventSchema = z.strictObject({
  name: slug,
  pool: z.string(),
  start: isoTime,
  end: isoTime,
  /** Capacity to hold during the event. Exactly one of replicas / multiplier. */
  replicas: z.number().int().min(1).optional(),
  /** Capacity = ceil(multiplier × capacity before the event). */
  multiplier: z.number().gt(1).max(20).optional(),
  leadMinutes: z.number().int().min(0).max(1_440).default(30),
  cooldownMinutes: z.number().int().min(0).max(1_440).default(20),
});
export type PlannedEvent = z.infer<typeof plannedEventSchema>;

/** Six-field cron as Application Auto Scaling takes it: minutes hours day-of-month month day-of-week year. */
const awsCron = z
  .string()
  .regex(/^\S+ \S+ \S+ \S+ \S+ \S+$/, 'must be a six-field cron expression like "0 8 ? * MON-FRI *"');

export const peakHoursSchema = z.strictObject({
  name: slug,
  pool: z.string(),
  startCron: awsCron,
  endCron: awsCron,
  minCapacity: z.number().int().min(1),
  timezone: z.string().min(1).default('UTC'),
});
export type PeakHours = z.infer<typeof peakHoursSchema>;

export const predictiveSchema = z.strictObject({
  mode: z.enum(['forecast-only', 'forecast-and-scale']).default('forecast-and-scale'),
  scheduleMinutes: z.number().int().min(5).max(1_440).default(60),
  historyDays: z.number().int().min(2).max(14).default(14),
  horizonHours: z.number().int().min(1).max(48).default(6),
  leadMinutes: z.number().int().min(0).max(240).default(10),
  headroom: z.number().min(0).max(5).default(0.1),
  /**
   * Act on a forecast only while its backtest error (WAPE over the target's last three days) is at most
   * this; otherwise mlscale falls back to reactive scaling and says so.
   */
  maxErrorPercent: z.number().gt(0).max(100).default(25),
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
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const emergencySchema = z.strictObject({
  /** Emergency ceiling = maxCapacity × this, unless a pool sets its own. */
  ceilingMultiplier: z.number().gt(1).max(10).default(2),
  /** Minutes the triggering alarm must stay OK before the runbook resumes the autoscaler. */
  stableMinutes: z.number().int().min(1).max(1_440).default(15),
  /** Alarm kinds that declare an emergency (see docs: alarm kinds). */
  alarmKinds: z.array(z.enum(ALARM_KINDS)).min(1).default(['emergencyLatency']),
});

export const networkSchema = z.strictObject({
  /** Use an existing VPC instead of creating one (no lookup: give its subnets and zones). */
  vpcId: awsId('vpc').optional(),
  privateSubnetIds: z.array(awsId('subnet')).default([]),
  availabilityZones: z.array(z.string()).default([]),
  maxAzs: z.number().int().min(1).max(6).default(2),
  natGateways: z.number().int().min(0).max(6).default(1),
});

const poolOverrideSchema = z.strictObject({
  minCapacity: capacity.optional(),
  maxCapacity: capacity.min(1).optional(),
});

export const environmentSchema = z.strictObject({
  name: slug,
  /** Pin the stack to an account/region; leave out for an environment-agnostic stack. */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID').optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region like eu-west-1').optional(),
  /** ECS cluster name. @default - `<name>-<environment>` */
  clusterName: z.string().min(1).max(255).optional(),
  preset: presetSchema.optional(),
  thresholds: thresholdsSchema.partial().optional(),
  pools: z.record(z.string(), poolOverrideSchema).default({}),
  notificationEmails: z.array(z.email()).default([]),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Name of the pipeline; prefixes clusters, alarms and stacks. */
  name: slug.default('pipestream'),
  preset: presetSchema.default('balanced'),
  environments: z.array(environmentSchema).min(1),
  network: networkSchema.default({ privateSubnetIds: [], availabilityZones: [], maxAzs: 2, natGateways: 1 }),
  thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
  pools: z.array(poolSchema).min(1),
  eks: eksSchema.optional(),
  plannedEvents: z.array(plannedEventSchema).default([]),
  peakHours: z.array(peakHoursSchema).default([]),
  predictive: predictiveSchema.default(predictiveSchema.parse({})),
  emergency: emergencySchema.default(emergencySchema.parse({})),
  /** Minutes between scale-to-zero checks. */
  scaleToZeroScheduleMinutes: z.number().int().min(1).max(60).default(1),
  notificationEmails: z.array(z.email()).default([]),
  /** Days CloudWatch keeps the scaler's own logs. */
  logRetentionDays: z.number().int().min(1).max(3_653).default(30),
});

/** The config file as written (defaults not yet applied). */
export type ConfigInput = z.input<typeof configSchema>;
/** The config with defaults applied, before an environment is chosen. */
export type MlscaleConfig = z.infer<typeof configSchema>;
