import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface GpuCapacityProviderProps {
  /**
   * The cluster to register the capacity provider with. A cluster defined in
   * this app, not an imported `ICluster`: registering means owning the
   * cluster's capacity provider associations, and writing those for an
   * existing cluster would replace the ones it has.
   */
  readonly cluster: ecs.Cluster;
  /** GPU instance type, e.g. `new ec2.InstanceType('g5.xlarge')`. */
  readonly instanceType: ec2.InstanceType;
  /** Most instances the pool can need (its max tasks / tasks per instance). */
  readonly maxInstances: number;
  /**
   * Root volume size; model images are large.
   * @default 100
   */
  readonly rootVolumeGiB?: number;
  /**
   * Topic told about failed launches and terminations.
   * @default - no notifications
   */
  readonly notificationTopic?: sns.ITopic;
}

/**
 * EC2 GPU capacity for an ECS pool. ECS on Fargate has no GPUs, so GPU modules
 * run on an Auto Scaling group of GPU instances behind an ECS capacity
 * provider with managed scaling: 0 tasks -> 0 instances, and the first task
 * launches an instance (the GPU cold start the scale-to-zero pool accepts).
 */
export class GpuCapacityProvider extends Construct {
  public readonly capacityProvider: ecs.AsgCapacityProvider;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: GpuCapacityProviderProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.maxInstances) && props.maxInstances < 1) {
      throw new Error(`GpuCapacityProvider ${id}: maxInstances must be >= 1, got ${props.maxInstances}`);
    }

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc: props.cluster.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      instanceType: props.instanceType,
      // Resolved from the public SSM parameter at deploy time: no lookup at synth.
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      minCapacity: 0,
      maxCapacity: props.maxInstances,
      requireImdsv2: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: autoscaling.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 100, {
            encrypted: true,
            volumeType: autoscaling.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
      notifications: props.notificationTopic
        ? [
            {
              topic: props.notificationTopic,
              scalingEvents: new autoscaling.ScalingEvents(
                autoscaling.ScalingEvent.INSTANCE_LAUNCH_ERROR,
                autoscaling.ScalingEvent.INSTANCE_TERMINATE_ERROR,
              ),
            },
          ]
        : undefined,
      cooldown: Duration.seconds(60),
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'Launches and terminations are routine for a pool that scales to zero; only launch and terminate errors notify the operators.',
    });

    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      // Keeps an instance with a running task from being terminated on scale-in: no lost work.
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    });
    props.cluster.addAsgCapacityProvider(this.capacityProvider);

    // On the instance role: an acknowledgement covers the role's default policy, where the findings are.
    const why =
      'ECS container agent permissions as CDK grants them for cluster capacity: register/submit are scoped to the cluster; ' +
      'ecs:Poll and StartTelemetrySession carry an ecs:cluster condition; ecr:GetAuthorizationToken, ecs:DiscoverPollEndpoint ' +
      'and the agent log calls have no resource-level permissions.';
    Validations.of(this.autoScalingGroup.role).acknowledge({ id: 'AwsSolutions-IAM5[Action::ecs:Submit*]', reason: why });
    Validations.of(this.autoScalingGroup.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: why });
  }
}
