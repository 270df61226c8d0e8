import { Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ResolvedEnvironment } from '../lambdas/core/config';
import { GPU_INSTANCES } from '../lambdas/core/instances';
import { AlarmTopic } from './constructs/alarm-topic';
import { EcsPlatform } from './constructs/ecs-platform';
import { GpuCapacityProvider } from './constructs/gpu-capacity-provider';
import { InferencePool } from './constructs/inference-pool';
import { ScalingAlarms } from './constructs/scaling-alarms';
import { ScalingDashboard } from './constructs/scaling-dashboard';

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

    this.alarms = new ScalingAlarms(this, 'Alarms', {
      namePrefix: prefix,
      clusterName: env.clusterName,
      pools: env.pools,
      thresholds: env.thresholds,
      topic: this.topic.topic,
      emergencyKinds: env.emergency.alarmKinds,
    });

    this.dashboard = new ScalingDashboard(this, 'Dashboard', {
      dashboardName: prefix,
      pools: this.pools,
      alarms: this.alarms.alarms.map((a) => a.alarm),
    });
  }
}
