import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { ResolvedNodeGroup } from '../../lambdas/core/config';
import { GpuNodeGroups } from '../../lib/constructs/gpu-node-groups';
import { existingVpc, freshStack } from './fixtures';

const metric = { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'gpu-workers' }, statistic: 'Maximum' };
const workers = {
  name: 'gpu-workers',
  instanceTypes: ['g5.xlarge', 'g5.2xlarge'],
  amiType: 'AL2023_x86_64_NVIDIA',
  capacityType: 'ON_DEMAND',
  diskSizeGiB: 200,
  minSize: 0,
  maxSize: 4,
  desiredSize: 0,
  labels: { team: 'ml' },
  work: metric,
  gpuUtilization: { ...metric, namespace: 'Pipestream/GPU', metricName: 'GPUUtilization', statistic: 'Average' },
} as unknown as ResolvedNodeGroup;

describe('Construct: GpuNodeGroups', () => {
  it('attaches GPU node groups to an existing cluster: NVIDIA AMI, the GPU taint and label, scaling from 0', () => {
    const stack = freshStack();
    new GpuNodeGroups(stack, 'Gpu', { clusterName: 'ml-prod', subnetIds: ['subnet-0a1b2c3d4e5f60718'], nodeGroups: [workers] });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EKS::Cluster', 0);
    t.hasResourceProperties('AWS::EKS::Nodegroup', {
      ClusterName: 'ml-prod',
      NodegroupName: 'gpu-workers',
      Subnets: ['subnet-0a1b2c3d4e5f60718'],
      InstanceTypes: ['g5.xlarge', 'g5.2xlarge'],
      AmiType: 'AL2023_x86_64_NVIDIA',
      ScalingConfig: { MinSize: 0, MaxSize: 4, DesiredSize: 0 },
      Labels: { team: 'ml', 'node-class': 'gpu' },
      Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }],
      NodeRepairConfig: { Enabled: true },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map((name) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${name}`]],
      })),
    });
  });

  it('creates a private-endpoint cluster in the VPC when asked, and the groups wait for it', () => {
    const stack = freshStack();
    new GpuNodeGroups(stack, 'Gpu', { clusterName: 'ml-prod', createCluster: true, vpc: existingVpc(stack), nodeGroups: [workers] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'ml-prod',
      Version: '1.33',
      ResourcesVpcConfig: { SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'], EndpointPrivateAccess: true, EndpointPublicAccess: false },
      AccessConfig: { AuthenticationMode: 'API' },
    });
    t.hasResource('AWS::EKS::Nodegroup', { Properties: Match.objectLike({ ClusterName: { Ref: Match.stringLikeRegexp('^GpuCluster') } }), DependsOn: Match.arrayWith([Match.stringLikeRegexp('^GpuCluster')]) });
  });

  it('needs subnets to attach to an existing cluster', () => {
    expect(() => new GpuNodeGroups(freshStack(), 'Gpu', { clusterName: 'ml-prod', nodeGroups: [workers] })).toThrow(/subnetIds are required to attach node groups to the existing cluster ml-prod/);
  });
});
