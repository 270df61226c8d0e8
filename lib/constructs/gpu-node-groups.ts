import { Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ResolvedNodeGroup } from '../../lambdas/core/config';

/** Taint every GPU node carries: only pods that tolerate it (GPU workloads) land there. */
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'true', effect: 'NO_SCHEDULE' } as const;
/** Label every GPU node carries, for node selectors and affinities. */
export const GPU_LABEL = { 'node-class': 'gpu' } as const;

export interface GpuNodeGroupsProps {
  /** Name of the EKS cluster the node groups join. */
  readonly clusterName: string;
  /**
   * Create the cluster here (control plane only, API access entries) instead
   * of attaching to an existing one.
   * @default false - attach to the existing cluster `clusterName`
   */
  readonly createCluster?: boolean;
  /**
   * Subnets for the node groups (and the control plane when created), as IDs.
   * Required when attaching; when creating, `vpc` private subnets are used.
   * @default - the private subnets of `vpc`
   */
  readonly subnetIds?: readonly string[];
  /**
   * VPC of a created cluster.
   * @default - none (required with createCluster unless subnetIds are given)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Kubernetes version of a created cluster.
   * @default '1.33'
   */
  readonly kubernetesVersion?: string;
  readonly nodeGroups: readonly ResolvedNodeGroup[];
}

/**
 * EKS managed node groups of GPU instances (g5, p4d, p5 ...) that may scale
 * to zero. Each gets the NVIDIA AMI type, the `nvidia.com/gpu=true:NoSchedule`
 * taint and the `node-class=gpu` label. Scale-in relies on managed node
 * groups draining nodes (pods evicted before the instance goes), not on
 * hand-written cordon/drain.
 */
export class GpuNodeGroups extends Construct {
  public readonly nodeRole: iam.Role;
  public readonly nodeGroups: ReadonlyMap<string, eks.CfnNodegroup>;
  public readonly cluster?: eks.CfnCluster;

  constructor(scope: Construct, id: string, props: GpuNodeGroupsProps) {
    super(scope, id);
    const subnets = props.subnetIds?.length ? [...props.subnetIds] : props.vpc?.privateSubnets.map((s) => s.subnetId);
    if (!subnets || subnets.length === 0) {
      throw new Error(`GpuNodeGroups ${id}: subnetIds are required to attach node groups to the existing cluster ${props.clusterName}`);
    }

    let clusterName = props.clusterName;
    if (props.createCluster) {
      const clusterRole = new iam.Role(this, 'ClusterRole', {
        assumedBy: new iam.ServicePrincipal('eks.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSClusterPolicy')],
      });
      Validations.of(clusterRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]',
        reason: 'AmazonEKSClusterPolicy is the policy EKS requires of a cluster role; AWS maintains it as EKS changes.',
      });
      this.cluster = new eks.CfnCluster(this, 'Cluster', {
        name: props.clusterName,
        version: props.kubernetesVersion ?? '1.33',
        roleArn: clusterRole.roleArn,
        resourcesVpcConfig: { subnetIds: subnets, endpointPrivateAccess: true, endpointPublicAccess: false },
        accessConfig: { authenticationMode: 'API' },
        logging: { clusterLogging: { enabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ type })) } },
      });
      clusterName = this.cluster.ref;
    }

    this.nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map((name) =>
        iam.ManagedPolicy.fromAwsManagedPolicyName(name),
      ),
    });
    for (const name of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
      Validations.of(this.nodeRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        reason: `${name} is one of the three policies EKS requires of a managed node group's role; AWS maintains it.`,
      });
    }

    const groups = new Map<string, eks.CfnNodegroup>();
    for (const ng of props.nodeGroups) {
      const group = new eks.CfnNodegroup(this, ng.name, {
        clusterName,
        nodegroupName: ng.name,
        nodeRole: this.nodeRole.roleArn,
        subnets,
        instanceTypes: [...ng.instanceTypes],
        amiType: ng.amiType,
        capacityType: ng.capacityType,
        diskSize: ng.diskSizeGiB,
        // Only changes of these values in the template reach the group; the scale-to-zero Lambda owns desired in between.
        scalingConfig: { minSize: ng.minSize, maxSize: ng.maxSize, desiredSize: ng.desiredSize },
        labels: { ...ng.labels, ...GPU_LABEL },
        taints: [{ ...GPU_TAINT }],
        updateConfig: { maxUnavailable: 1 },
        nodeRepairConfig: { enabled: true },
        tags: { 'mlscale:nodegroup': ng.name },
      });
      if (this.cluster) group.addDependency(this.cluster);
      groups.set(ng.name, group);
    }
    this.nodeGroups = groups;
  }

}
