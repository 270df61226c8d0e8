import { Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ResolvedEnvironment } from '../lambdas/core/config';
import { GPU_INSTANCES } from '../lambdas/core/instances';
import { AlarmTopic } from './constructs/alarm-topic';
import { EcsPlatform } from './constructs/ecs-platform';
import { GpuCapacityProvider } from './constructs/gpu-capacity-provider';
import { GpuNodeGroups } from './constructs/gpu-node-groups';
import { Runbooks } from './constructs/runbooks/runbooks';
import { InferencePool } from './constructs/inference-pool';
import { EmergencyScaler } from './constructs/emergency-scaler';
import { PredictiveScaler } from './constructs/predictive-scaler';
import { HoldsTable } from './constructs/holds-table';
import { Reconciler } from './constructs/reconciler';
import { ScalingAlarms } from './constructs/scaling-alarms';
import { ScalingDashboard } from './constructs/scaling-dashboard';
import { documentFor } from '../lambdas/core/config/render';
import type { TargetSpec } from '../lambdas/core/config/document';

export interface MlscaleStackProps extends StackProps {
  /** One environment of the config, resolved. */
  readonly environment: ResolvedEnvironment;
}

/** Everything mlscale deploys for one environment. Composes constructs, nothing else. */
export class MlscaleStack extends Stack {
  /** The config of the environment this stack deploys. */
  public readonly envConfig: ResolvedEnvironment;
  public readonly platform: EcsPlatform;
  public readonly pools: readonly InferencePool[];
  public readonly alarms: ScalingAlarms;
  public readonly topic: AlarmTopic;
  public readonly dashboard: ScalingDashboard;
  public readonly gpuNodeGroups?: GpuNodeGroups;
  /** What the Lambdas may touch (the MLSCALE_CONFIG document, parsed). */
  public readonly targets: readonly TargetSpec[];
  public readonly holds: HoldsTable;
  public readonly reconciler: Reconciler;
  public readonly emergency?: EmergencyScaler;
  public readonly predictive?: PredictiveScaler;
  public readonly runbooks: Runbooks;

  constructor(scope: Construct, id: string, props: MlscaleStackProps) {
    super(scope, id, props);
    const env = props.environment;
    this.envConfig = env;
    const logRetention = env.logRetentionDays as logs.RetentionDays;
    const prefix = `${env.pipeline}-${env.name}`;

    this.topic = new AlarmTopic(this, 'Notifications', { emails: env.notificationEmails });
    const net = env.network;
    this.platform = new EcsPlatform(this, 'Platform', {
      clusterName: env.clusterName,
      ...(net.vpcId
        ? { existingVpc: { vpcId: net.vpcId, privateSubnetIds: net.privateSubnetIds, availabilityZones: net.availabilityZones } }
        : { maxAzs: net.maxAzs, natGateways: net.natGateways }),
      flowLogRetention: logRetention,
    });

    this.pools = env.pools.map((pool) => {
      const gpu = pool.kind === 'scale-to-zero' && pool.compute.type === 'ec2-gpu' ? pool.compute : undefined;
      const tasksPerInstance = gpu ? Math.max(1, Math.floor((GPU_INSTANCES[gpu.instanceType]?.gpus ?? 1) / gpu.gpusPerTask)) : 1;
      const capacity = gpu
        ? new GpuCapacityProvider(this, `${pool.name}-gpu-capacity`, {
            cluster: this.platform.cluster,
            instanceType: gpu.instanceType,
            maxInstances: Math.ceil(pool.maxCapacity / tasksPerInstance),
            notificationTopic: this.topic.topic,
          })
        : undefined;
      return new InferencePool(this, `${pool.name}-pool`, {
        cluster: this.platform.cluster,
        pool,
        thresholds: env.thresholds,
        logRetention,
        ...(capacity ? { gpuCapacityProvider: capacity.capacityProvider } : {}),
      });
    });

    if (env.eks && env.eks.nodeGroups.length > 0) {
      this.gpuNodeGroups = new GpuNodeGroups(this, 'GpuNodeGroups', {
        clusterName: env.eks.clusterName,
        createCluster: !env.eks.existing,
        ...(env.eks.subnetIds.length ? { subnetIds: env.eks.subnetIds } : {}),
        vpc: this.platform.vpc,
        kubernetesVersion: env.eks.kubernetesVersion,
        nodeGroups: env.eks.nodeGroups,
      });
    }

    this.alarms = new ScalingAlarms(this, 'Alarms', {
      namePrefix: prefix,
      clusterName: env.clusterName,
      pools: env.pools,
      thresholds: env.thresholds,
      topic: this.topic.topic,
      emergencyKinds: env.emergency.alarmKinds,
    });

    const document = documentFor(env);
    this.targets = document.targets;
    const targetsJson = JSON.stringify(document);
    this.holds = new HoldsTable(this, 'Holds', { tableName: document.holdsTable! });
    const common = { targets: this.targets, targetsJson, holds: this.holds.table, topic: this.topic.topic, namePrefix: prefix, logRetention };

    this.reconciler = new Reconciler(this, 'Reconciler', { ...common, scheduleMinutes: env.scaleToZeroScheduleMinutes });
    const emergencyAlarms = this.alarms.emergencyAlarms.map((a) => a.alarm);
    if (this.targets.some((t) => t.emergencyEnabled)) {
      this.emergency = new EmergencyScaler(this, 'Emergency', common);
    }
    this.runbooks = new Runbooks(this, 'Runbooks', {
      ...common,
      ...(this.emergency ? { emergencyFunction: this.emergency.function } : {}),
      emergencyAlarms,
    });
    if (this.targets.some((t) => t.predictive)) {
      this.predictive = new PredictiveScaler(this, 'Predictive', { ...common, scheduleMinutes: env.predictive.scheduleMinutes });
    }

    this.dashboard = new ScalingDashboard(this, 'Dashboard', {
      dashboardName: prefix,
      pools: this.pools,
      alarms: [
        ...this.alarms.alarms.map((a) => a.alarm),
        ...this.reconciler.alarms,
        ...[this.emergency, this.predictive].flatMap((c) => c?.function.alarms ?? []),
        ...this.runbooks.runbookFunction.alarms,
        ...this.runbooks.failureAlarms,
      ],
    });
    this.dashboard.addForecasts(this.targets);
    this.dashboard.addScalers(
      [this.reconciler, this.emergency, this.predictive, this.runbooks].filter((c) => c !== undefined).map((c) => ({ name: c.node.id, fn: c instanceof Runbooks ? c.runbookFunction : c.function })),
    );
  }
}
