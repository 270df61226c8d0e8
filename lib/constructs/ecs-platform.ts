import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EcsPlatformProps {
  /** Name of the ECS cluster (the CLI's namespace). */
  readonly clusterName: string;
  /**
   * Existing VPC to use. Given as IDs, not looked up, so `cdk synth` needs no
   * credentials.
   * @default - a new VPC with public and private subnets
   */
  readonly existingVpc?: {
    readonly vpcId: string;
    readonly privateSubnetIds: readonly string[];
    readonly availabilityZones: readonly string[];
  };
  /**
   * Availability zones of a new VPC.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * NAT gateways of a new VPC; tasks in private subnets pull images through them.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Retention of the VPC flow logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The network and the ECS cluster every pool runs in. */
export class EcsPlatform extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;

  constructor(scope: Construct, id: string, props: EcsPlatformProps) {
    super(scope, id);

    if (props.existingVpc) {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.existingVpc.vpcId,
        availabilityZones: [...props.existingVpc.availabilityZones],
        privateSubnetIds: [...props.existingVpc.privateSubnetIds],
      });
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        natGateways: props.natGateways ?? 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
      });
      // Flow logs: the record of who talked to the tasks, for incident review.
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH });
      vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });
      this.vpc = vpc;
    }

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      vpc: this.vpc,
      // Enhanced Container Insights publishes RunningTaskCount / DesiredTaskCount per service,
      // which the dashboard, the queue-per-task policy and the simulator's calibration use.
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      enableFargateCapacityProviders: true,
    });
  }
}
