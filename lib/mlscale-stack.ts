import { Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ResolvedEnvironment } from '../lambdas/core/config';
import type { TargetSpec } from '../lambdas/core/config/document';
import { documentFor } from '../lambdas/core/config/render';
import { GPU_INSTANCES } from '../lambdas/core/config/instances';
import { AlarmTopic } from './constructs/alarm-topic';
import { EcsPlatform } from './constructs/ecs-platform';
import { EmergencyScaler } from './constructs/emergency-scaler';
import { GpuCapacityProvider } from './constructs/gpu-capacity-provider';
import { GpuNodeGroups } from './constructs/gpu-node-groups';
import { HoldsTable } from './constructs/holds-table';
import { InferencePool } from './constructs/inference-pool';
import { PredictiveScaler } from './constructs/predictive-scaler';
import { Reconciler } from './constructs/reconciler';
import { Runbooks } from './constructs/runbooks/runbooks';
import { ScalingAlarms } from './constructs/scaling-alarms';
import { ScalingDashboard } from './constructs/scaling-dashboard';
import { toRetentionDays } from './log-retention';
import type { BatchQueue } from './constructs/batch-queue';
import { gpuComputeOf, inferencePoolProps, poolRowProps, queueForPool, scaleByKind } from './pool-from-config';

export interface MlscaleStackProps extends StackProps {
  /** One environment of the config, resolved: `selectEnvironment(parseConfig(json), 'production')`. */
  readonly environment: ResolvedEnvironment;
  /**
   * An existing ECS cluster for the pools (`ecs.Cluster.fromClusterAttributes`).
   * It must be the environment's `clusterName`: the targets document and the
   * scalers' IAM name it. GPU pools need a cluster defined in the app (see GpuCapacityProvider).
   * @default - a new cluster named `clusterName`, in `vpc`
   */
  readonly cluster?: ecs.ICluster;
  /**
   * An existing VPC for a new cluster.
   * @default - the VPC the config's `network` names, imported by its IDs; else a new VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * An existing topic for alarms and runbook notifications (see AlarmTopic).
   * @default - a new encrypted topic
   */
  readonly topic?: sns.ITopic;
}

/**
 * Everything mlscale deploys for one environment. Composes constructs,
 * nothing else: the config's pools become InferencePools with the policies of
 * their kind, its targets document drives the reconciler, the emergency and
 * predictive scalers and the runbooks.
 */
export class MlscaleStack extends Stack {
  /** The config of the environment this stack deploys. */
  public readonly envConfig: ResolvedEnvironment;
  public readonly platform: EcsPlatform;
  /** The pools, in the config's order. */
  public readonly pools: readonly InferencePool[];
  /** The queues this stack creates for its batch pools (an existing queue is only imported). */
  public readonly batchQueues: readonly BatchQueue[];
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
    const { environment: env, cluster: _cluster, vpc: _vpc, topic: _topic, ...stackProps } = props;
    super(scope, id, {
      description: `mlscale: inference scaling for ${env.pipeline} (${env.name})`,
      ...(env.account || env.region ? { env: { account: env.account, region: env.region } } : {}),
      ...stackProps,
      tags: { 'mlscale:pipeline': env.pipeline, 'mlscale:environment': env.name, ...stackProps.tags },
    });
    this.envConfig = env;
    const clusterName = props.cluster?.clusterName;
    if (clusterName !== undefined && !Token.isUnresolved(clusterName) && clusterName !== env.clusterName) {
      throw new Error(`MlscaleStack ${id}: cluster must be the environment's clusterName ${env.clusterName}, got ${clusterName}`);
    }
    const logRetention = toRetentionDays(env.logRetentionDays);
    const prefix = `${env.pipeline}-${env.name}`;

    this.topic = new AlarmTopic(this, 'Notifications', { emails: env.notificationEmails, ...(props.topic ? { topic: props.topic } : {}) });
    this.platform = new EcsPlatform(this, 'Platform', this.platformProps(props, logRetention));

    // GPU capacity is registered with the cluster: only a cluster defined in this app can take it.
    const capacityCluster = ecs.Cluster.isCluster(this.platform.cluster) ? this.platform.cluster : undefined;
    const batchQueues: BatchQueue[] = [];
    this.pools = env.pools.map((pool) => {
      const gpu = gpuComputeOf(pool);
      let capacity: GpuCapacityProvider | undefined;
      if (gpu) {
        if (!capacityCluster) throw new Error(`MlscaleStack ${id}: pool ${pool.name} runs on ec2-gpu, which needs a cluster defined in this app, not an imported one`);
        const tasksPerInstance = Math.max(1, Math.floor((GPU_INSTANCES[gpu.instanceType]?.gpus ?? 1) / gpu.gpusPerTask));
        capacity = new GpuCapacityProvider(this, `${pool.name}-gpu-capacity`, {
          cluster: capacityCluster,
          instanceType: new ec2.InstanceType(gpu.instanceType),
          maxInstances: Math.ceil(pool.maxCapacity / tasksPerInstance),
          notificationTopic: this.topic.topic,
        });
      }
      const work = pool.kind === 'batch' ? queueForPool(this, pool, { alarmTopic: this.topic.topic, alarmPrefix: prefix }) : undefined;
      if (work?.batchQueue) batchQueues.push(work.batchQueue);
      const inferencePool = new InferencePool(
        this,
        `${pool.name}-pool`,
        inferencePoolProps(pool, {
          cluster: this.platform.cluster,
          logRetention,
          ...(capacity ? { gpuCapacityProvider: capacity.capacityProvider } : {}),
          ...(work ? { queue: work.queue } : {}),
        }),
      );
      // A missing existing queue fails the deploy before the service that would read it is created.
      if (work?.existsCheck) inferencePool.node.addDependency(work.existsCheck);
      scaleByKind(inferencePool, pool, env.thresholds, { alarmTopic: this.topic.topic, alarmPrefix: prefix });
      return inferencePool;
    });
    this.batchQueues = batchQueues;

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
    this.holds = new HoldsTable(this, 'Holds', { tableName: document.holdsTable! });
    const common = { document, holds: this.holds.table, topic: this.topic.topic, namePrefix: prefix, logRetention };

    this.reconciler = new Reconciler(this, 'Reconciler', { ...common, scheduleMinutes: env.scaleToZeroScheduleMinutes });
    if (this.targets.some((t) => t.emergencyEnabled)) {
      this.emergency = new EmergencyScaler(this, 'Emergency', common);
    }
    this.runbooks = new Runbooks(this, 'Runbooks', {
      ...common,
      ...(this.emergency ? { emergencyFunction: this.emergency.function } : {}),
      emergencyAlarms: this.alarms.emergencyAlarms.map((a) => a.alarm),
    });
    if (this.targets.some((t) => t.predictive)) {
      this.predictive = new PredictiveScaler(this, 'Predictive', { ...common, scheduleMinutes: env.predictive.scheduleMinutes });
    }

    this.dashboard = new ScalingDashboard(this, 'Dashboard', {
      dashboardName: prefix,
      alarms: [
        ...this.alarms.alarms.map((a) => a.alarm),
        ...this.batchQueues.flatMap((q) => (q.deadLetterAlarm ? [q.deadLetterAlarm] : [])),
        ...this.pools.flatMap((p) => (p.stepScaleIn ? [p.stepScaleIn.blindAlarm] : [])),
        ...this.reconciler.alarms,
        ...[this.emergency, this.predictive].flatMap((c) => c?.function.alarms ?? []),
        ...this.runbooks.runbookFunction.alarms,
        ...this.runbooks.failureAlarms,
      ],
    });
    env.pools.forEach((pool, i) => this.dashboard.addPool(this.pools[i]!, poolRowProps(pool)));
    this.dashboard.addForecasts(this.targets);
    this.dashboard.addScalers([
      { name: this.reconciler.node.id, fn: this.reconciler.function },
      ...(this.emergency ? [{ name: this.emergency.node.id, fn: this.emergency.function }] : []),
      ...(this.predictive ? [{ name: this.predictive.node.id, fn: this.predictive.function }] : []),
      { name: this.runbooks.node.id, fn: this.runbooks.runbookFunction },
    ]);
  }

  /** The cluster given, or a new one in the VPC given, the one the config names, or a new VPC. */
  private platformProps(props: MlscaleStackProps, flowLogRetention: ReturnType<typeof toRetentionDays>) {
    const env = props.environment;
    if (props.cluster) return { cluster: props.cluster };
    const net = env.network;
    const vpc =
      props.vpc ??
      (net.vpcId
        ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: net.vpcId, availabilityZones: [...net.availabilityZones], privateSubnetIds: [...net.privateSubnetIds] })
        : undefined);
    return vpc ? { clusterName: env.clusterName, vpc } : { clusterName: env.clusterName, maxAzs: net.maxAzs, natGateways: net.natGateways, flowLogRetention };
  }
}
