/**
 * mlscale as a library (package.json "exports"): the constructs, the stack
 * and app that compose them, and the config model they are built from. A
 * CDK app imports what it needs, e.g. an InferencePool on its own cluster
 * and the scalers that keep it in line (docs/architecture.md).
 */

// The app and the stack: config -> one MlscaleStack per environment.
export { MlscaleApp, type MlscaleAppProps } from './app';
export { MlscaleStack, type MlscaleStackProps } from './mlscale-stack';

// Constructs, one per file under lib/constructs.
export {
  InferencePool,
  type InferencePoolProps,
  type InferenceContainerProps,
  type PolicyCooldownProps,
  type CpuScalingProps,
  type ConsumerLagScalingProps,
  type QueuePerTaskScalingProps,
  type LagGrowthScalingProps,
  type LatencyScalingProps,
  QUEUE_URL_ENV,
  QUEUE_NAME_ENV,
} from './constructs/inference-pool';
export { LagGrowthStepScaling, type LagGrowthStepScalingProps } from './constructs/lag-growth-step-scaling';
export { StepScaleIn, type StepScaleInProps } from './constructs/step-scale-in';
export { BatchQueue, type BatchQueueProps } from './constructs/batch-queue';
export { EcsPlatform, type EcsPlatformProps } from './constructs/ecs-platform';
export { GpuCapacityProvider, type GpuCapacityProviderProps } from './constructs/gpu-capacity-provider';
export { GpuNodeGroups, type GpuNodeGroupsProps, GPU_LABEL, GPU_TAINT } from './constructs/gpu-node-groups';
export { AlarmTopic, type AlarmTopicProps } from './constructs/alarm-topic';
export { ScalingAlarms, type ScalingAlarmsProps, type PoolAlarm } from './constructs/scaling-alarms';
export { ScalingDashboard, type ScalingDashboardProps, type PoolRowProps } from './constructs/scaling-dashboard';
export { HoldsTable, type HoldsTableProps } from './constructs/holds-table';
export { ScalerFunction, type ScalerFunctionProps, MAX_INLINE_CONFIG_BYTES } from './constructs/scaler-function';
export { Reconciler, type ReconcilerProps } from './constructs/reconciler';
export { EmergencyScaler, type EmergencyScalerProps } from './constructs/emergency-scaler';
export { PredictiveScaler, type PredictiveScalerProps } from './constructs/predictive-scaler';
export { Runbooks, type RunbooksProps, RUNBOOK_NAMES, type RunbookName, runbookStateMachineName } from './constructs/runbooks/runbooks';

// The config model (lambdas/core/config): parse and check a config, resolve an environment, render its targets document.
export {
  parseConfig,
  selectEnvironment,
  ConfigError,
  type ConfigProblem,
  type ConfigInput,
  type MlscaleConfig,
  type ParsedConfig,
  type ResolvedEnvironment,
  type ResolvedPool,
  type ResolvedNodeGroup,
  type Thresholds,
  type PoolKind,
  type MetricRef,
  type AlarmKind,
  DEFAULTS,
  parseTargetsDocument,
  parseTargetsJson,
  type TargetsDocument,
  type TargetsDocumentInput,
  type TargetSpec,
  renderTargetsDocument,
  documentFor,
} from '../lambdas/core/config';
export { loadConfigFile } from '../lambdas/core/config/load';

// How a config pool becomes an InferencePool, for apps that build pools from the config themselves.
export { inferencePoolProps, scaleByKind, poolRowProps, queueForPool, type PoolAlarmOptions } from './pool-from-config';
export { toMetric } from './metrics';
export { toRetentionDays } from './log-retention';
