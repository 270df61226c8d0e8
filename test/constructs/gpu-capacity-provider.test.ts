import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, it } from 'vitest';
import { GpuCapacityProvider } from '../../lib/constructs/gpu-capacity-provider';
import { existingTopic, existingVpc, freshStack } from './fixtures';
import { statementsOf, allowing } from './fixtures';

function build(maxInstances = 5) {
  const stack = freshStack();
  const cluster = new ecs.Cluster(stack, 'Cluster', { clusterName: 'pipestream', vpc: existingVpc(stack) });
  new GpuCapacityProvider(stack, 'Gpu', { cluster, instanceType: new ec2.InstanceType('g5.xlarge'), maxInstances, notificationTopic: existingTopic(stack) });
  return Template.fromStack(stack);
}

describe('Construct: GpuCapacityProvider', () => {
  it('runs 0 to maxInstances GPU instances with IMDSv2 and an encrypted 100 GiB root volume', () => {
    const t = build(5);
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: '5',
      VPCZoneIdentifier: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      // Only failures page the operators: launches and terminations are routine at scale-to-zero.
      NotificationConfigurations: [
        { TopicARN: 'arn:aws:sns:eu-west-1:123456789012:oncall', NotificationTypes: ['autoscaling:EC2_INSTANCE_LAUNCH_ERROR', 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR'] },
      ],
    });
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'g5.xlarge',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeSize: 100, VolumeType: 'gp3' }) })],
        // The ECS GPU AMI, resolved from its public SSM parameter at deploy time.
        ImageId: { Ref: Match.stringLikeRegexp('SsmParameterValue.*ecs.*gpu') },
      }),
    });
  });

  it('registers a managed-scaling capacity provider with termination protection with the cluster', () => {
    const t = build();
    t.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        ManagedTerminationProtection: 'ENABLED',
        ManagedDraining: 'ENABLED',
      }),
    });
    t.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      Cluster: { Ref: Match.stringLikeRegexp('^Cluster') },
      CapacityProviders: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^GpuCapacityProvider') }]),
    });
  });

  it("scopes the instances' ECS agent polling to the cluster", () => {
    const [poll] = allowing(statementsOf(build(), 'GpuInstancesInstanceRole'), 'ecs:Poll');
    expect(poll).toMatchObject({ Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } } } });
  });

  it('refuses fewer than one instance', () => {
    expect(() => build(0)).toThrow(/GpuCapacityProvider Gpu: maxInstances must be >= 1, got 0/);
  });
});
