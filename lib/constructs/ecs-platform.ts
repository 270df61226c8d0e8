import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_LOG_RETENTION } from '../log-retention';

export interface EcsPlatformProps {
  /**
   * An existing ECS cluster for the pools (`ecs.Cluster.fromClusterAttributes`,
   * with its VPC); nothing else is created then.
   * @default - a new cluster named `clusterName` in `vpc`
   */
  readonly cluster?: ecs.ICluster;
  /**
   * Name of a new cluster (the CLI's namespace).
   * @default - required unless `cluster` is given
   */
  readonly clusterName?: string;
  /**
   * An existing VPC for a new cluster. Import it by IDs
   * (`ec2.Vpc.fromVpcAttributes`), not by lookup, so `cdk synth` needs no
   * credentials.
   * @default - the VPC of `cluster` if given, else a new VPC with public and private subnets and flow logs
   */
  readonly vpc?: ec2.IVpc;
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
   * Retention of a new VPC's flow logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The network and the ECS cluster every pool runs in: each one given, or new. */
export class EcsPlatform extends Construct {
  public readonly vpc: ec2.IVpc;
  /** The cluster given, or the new one (an `ecs.Cluster` then, which GPU capacity providers need). */
  public readonly cluster: ecs.ICluster;

  constructor(scope: Construct, id: string, props: EcsPlatformProps) {
    super(scope, id);
    const errors: string[] = [];
    if (props.cluster && props.vpc && props.vpc !== props.cluster.vpc) errors.push('vpc must be left out (or be the cluster\'s VPC) when cluster is given');
    if (props.cluster && props.clusterName) errors.push('clusterName names a new cluster; leave it out when cluster is given');
    if (!props.cluster && !props.clusterName) errors.push('clusterName is required for a new cluster');
    const newVpcOnly = (['maxAzs', 'natGateways', 'flowLogRetention'] as const).filter((k) => props[k] !== undefined);
    if ((props.vpc || props.cluster) && newVpcOnly.length > 0) errors.push(`${newVpcOnly.join(', ')} only apply to a new VPC`);
    if (errors.length > 0) throw new Error(`EcsPlatform ${id}: ${errors.join('; ')}`);

    if (props.cluster) {
      this.cluster = props.cluster;
      this.vpc = props.cluster.vpc;
      return;
    }

    this.vpc = props.vpc ?? this.newVpc(props);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      vpc: this.vpc,
      // Enhanced Container Insights publishes RunningTaskCount / DesiredTaskCount per service,
      // which the dashboard, the queue-per-task policy and the simulator's calibration use.
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      enableFargateCapacityProviders: true,
    });
  }

  private newVpc(props: EcsPlatformProps): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    // Flow logs: the record of who talked to the tasks, for incident review.
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? DEFAULT_LOG_RETENTION });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });
    return vpc;
  }
}
