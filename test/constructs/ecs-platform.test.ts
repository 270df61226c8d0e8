import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { EcsPlatform } from '../../lib/constructs/ecs-platform';
import { existingCluster, existingVpc, freshStack } from './fixtures';

describe('Construct: EcsPlatform', () => {
  it('makes a VPC (public and private subnets, NAT, flow logs) and a named cluster with enhanced Container Insights', () => {
    const stack = freshStack();
    new EcsPlatform(stack, 'Platform', { clusterName: 'pipestream-production', maxAzs: 2, natGateways: 1, flowLogRetention: logs.RetentionDays.ONE_WEEK });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::Subnet', 4);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'pipestream-production', ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }] });
    t.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
  });

  it('puts a new cluster in an existing VPC given by its IDs, creating no network', () => {
    const stack = freshStack();
    const vpc = existingVpc(stack);
    const platform = new EcsPlatform(stack, 'Platform', { clusterName: 'pipestream-production', vpc });
    expect(platform.vpc).toBe(vpc);
    const t = Template.fromStack(stack);
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::NatGateway', 'AWS::EC2::FlowLog']) t.resourceCountIs(type, 0);
    t.resourceCountIs('AWS::ECS::Cluster', 1);
  });

  it('uses an existing cluster and its VPC, creating nothing', () => {
    const stack = freshStack();
    const cluster = existingCluster(stack);
    const platform = new EcsPlatform(stack, 'Platform', { cluster });
    expect(platform.cluster).toBe(cluster);
    expect(platform.vpc).toBe(cluster.vpc);
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources ?? {})).toEqual([]);
  });

  it('names every prop that does not fit at once', () => {
    const stack = freshStack();
    expect(() => new EcsPlatform(stack, 'Platform', { cluster: existingCluster(stack), clusterName: 'other', natGateways: 2 })).toThrow(
      /EcsPlatform Platform: clusterName names a new cluster; leave it out when cluster is given; natGateways only apply to a new VPC/,
    );
    expect(() => new EcsPlatform(freshStack(), 'Platform', {})).toThrow(/clusterName is required for a new cluster/);
  });
});
