import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, it } from 'vitest';
import { GpuCapacityProvider } from '../../lib/constructs/gpu-capacity-provider';
import { InferencePool, type InferencePoolProps } from '../../lib/constructs/inference-pool';
import { existingCluster, freshStack } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable');
const lag = new cloudwatch.Metric({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensionsMap: { ConsumerGroup: 'engine' }, statistic: 'Maximum', period: Duration.minutes(1) });
const queue = new cloudwatch.Metric({ namespace: 'Pipestream/Pipeline', metricName: 'QueueDepth', dimensionsMap: { Pool: 'embedder' }, statistic: 'Maximum', period: Duration.minutes(1) });
const p99 = new cloudwatch.Metric({ namespace: 'Pipestream/Pipeline', metricName: 'Latency', dimensionsMap: { Pool: 'embedder' }, statistic: 'p99', period: Duration.minutes(1) });

/** A pool on an existing cluster (`pipestream`, imported by its attributes). */
function pool(props: Partial<InferencePoolProps> = {}) {
  const stack = freshStack();
  const p = new InferencePool(stack, 'Embedder', {
    cluster: existingCluster(stack),
    serviceName: 'embedder',
    minCapacity: 1,
    maxCapacity: 20,
    containers: [{ name: 'model', image, containerPorts: [8080] }],
    ...props,
  });
  return { stack, pool: p, template: () => Template.fromStack(stack) };
}

function onlyPolicy(template: Template): Props {
  const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as { Properties: Props }[];
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties;
}

describe('Construct: InferencePool', () => {
  it('runs a Fargate service on an existing cluster, creating no cluster of its own', () => {
    const t = pool().template();
    t.resourceCountIs('AWS::ECS::Cluster', 0);
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'embedder',
      Cluster: 'pipestream',
      LaunchType: 'FARGATE',
      DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 },
      // The autoscaler owns the task count; a deployment must not reset it.
      DesiredCount: Match.absent(),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED', Subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'] }) },
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [Match.objectLike({ Name: 'model', StopTimeout: 120, PortMappings: [Match.objectLike({ ContainerPort: 8080 })], LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }) })],
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('registers the service as a scalable target with the ECS service-linked role, and no policy until a verb adds one', () => {
    const t = pool().template();
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 20,
      ResourceId: { 'Fn::Join': ['', ['service/pipestream/', { 'Fn::GetAtt': [Match.stringLikeRegexp('^EmbedderService'), 'Name'] }]] },
      RoleARN: 'arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService',
    });
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 0);
    // No role of its own: the service-linked one.
    t.resourceCountIs('AWS::IAM::Role', 2);
  });

  it('scaleOnCpu: CPU target tracking with the pool cooldowns (60 s out, 300 s in), and returns the policy', () => {
    const { pool: p, template } = pool();
    const policy = p.scaleOnCpu({ targetUtilizationPercent: 70 });
    expect(policy).toBeInstanceOf(appscaling.TargetTrackingScalingPolicy);
    expect(p.cpuPolicy).toBe(policy);
    expect(onlyPolicy(template()).TargetTrackingScalingPolicyConfiguration).toEqual({
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      TargetValue: 70,
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
    });
  });

  it('scaleInOnCpu: one step per scale-in cooldown, but never sooner than the stop timeout + 180 s (the task count must show the last step)', () => {
    const cooldownOf = (props: Partial<InferencePoolProps>, cooldown?: Duration) => {
      const { pool: p, template } = pool(props);
      p.scaleInOnCpu({ targetUtilizationPercent: 70, minutes: 12, ...(cooldown ? { cooldown } : {}) });
      return onlyPolicy(template()).StepScalingPolicyConfiguration.Cooldown as number;
    };
    expect(cooldownOf({})).toBe(300);
    expect(cooldownOf({ scaleInCooldown: Duration.seconds(60) })).toBe(300);
    expect(cooldownOf({ scaleInCooldown: Duration.seconds(60), stopTimeout: Duration.seconds(30) })).toBe(210);
    expect(cooldownOf({}, Duration.seconds(120))).toBe(300);
    expect(cooldownOf({ scaleInCooldown: Duration.minutes(10) })).toBe(600);
  });

  it('scaleOnConsumerLag: target tracking on the lag metric, a verb cooldown beating the pool one', () => {
    const { pool: p, template } = pool({ scaleInCooldown: Duration.minutes(10) });
    const policy = p.scaleOnConsumerLag({ lagMetric: lag, targetLag: 1000, scaleOutCooldown: Duration.seconds(30) });
    expect(p.consumerLagPolicy).toBe(policy);
    expect(onlyPolicy(template()).TargetTrackingScalingPolicyConfiguration).toEqual({
      CustomizedMetricSpecification: { Namespace: 'Pipestream/Kafka', MetricName: 'ConsumerLag', Dimensions: [{ Name: 'ConsumerGroup', Value: 'engine' }], Statistic: 'Maximum' },
      TargetValue: 1000,
      ScaleOutCooldown: 30,
      ScaleInCooldown: 600,
    });
  });

  it('scaleOnQueuePerTask: pending requests per running task as metric math, named after the service', () => {
    const { pool: p, template } = pool();
    const policy = p.scaleOnQueuePerTask({ queueMetric: queue, targetPerTask: 10 });
    expect(p.queuePerTaskPolicy).toBe(policy);
    const props = onlyPolicy(template());
    expect(props.PolicyName).toBe('embedder-queue-per-task');
    expect(props.ScalingTargetId).toEqual({ Ref: expect.stringMatching(/^EmbedderServiceTaskCountTarget/) });
    const config = props.TargetTrackingScalingPolicyConfiguration;
    expect(config).toMatchObject({ TargetValue: 10, ScaleOutCooldown: 60, ScaleInCooldown: 300 });
    expect(config.CustomizedMetricSpecification.Metrics).toEqual([
      { Id: 'queue', MetricStat: { Metric: { Namespace: 'Pipestream/Pipeline', MetricName: 'QueueDepth', Dimensions: [{ Name: 'Pool', Value: 'embedder' }] }, Stat: 'Maximum' }, ReturnData: false },
      {
        Id: 'running',
        MetricStat: {
          Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Dimensions: [{ Name: 'ClusterName', Value: 'pipestream' }, { Name: 'ServiceName', Value: 'embedder' }] },
          Stat: 'Average',
        },
        ReturnData: false,
      },
      { Id: 'perTask', Expression: 'IF(running > 0, queue / running, queue)', Label: 'Pending requests per task', ReturnData: true },
    ]);
  });

  it('scaleOnQueuePerTask refuses metric math as the queue', () => {
    const { pool: p } = pool();
    const math = new cloudwatch.MathExpression({ expression: 'q * 2', usingMetrics: { q: queue } });
    expect(() => p.scaleOnQueuePerTask({ queueMetric: math, targetPerTask: 10 })).toThrow(/scaleOnQueuePerTask needs a plain queueMetric/);
  });

  it('scaleOnLatency: steps out +20 % above the threshold and +50 % above twice it, 3 of 3 minutes, never in', () => {
    const { pool: p, template } = pool();
    const policy = p.scaleOnLatency({ latencyMetric: p99, thresholdMs: 2000 });
    expect(p.latencyPolicy).toBe(policy);
    const t = template();
    expect(onlyPolicy(t).StepScalingPolicyConfiguration).toEqual({
      AdjustmentType: 'PercentChangeInCapacity',
      Cooldown: 60,
      MetricAggregationType: 'Maximum',
      MinAdjustmentMagnitude: 1,
      StepAdjustments: [
        { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 2000, ScalingAdjustment: 20 },
        { MetricIntervalLowerBound: 2000, ScalingAdjustment: 50 },
      ],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 2000, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('takes the verbs together: one scalable target, one policy each', () => {
    const { pool: p, template } = pool();
    p.scaleOnCpu({ targetUtilizationPercent: 70 });
    p.scaleOnConsumerLag({ lagMetric: lag, targetLag: 1000 });
    p.scaleOnQueuePerTask({ queueMetric: queue, targetPerTask: 10 });
    p.scaleOnLatency({ latencyMetric: p99, thresholdMs: 2000 });
    const t = template();
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 4);
  });

  it('deploys in place and starts at 0 when told (a scale-to-zero pool)', () => {
    pool({ minCapacity: 0, minHealthyPercent: 0, maxHealthyPercent: 100, desiredCount: 0 })
      .template()
      .hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0, DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }) });
  });

  it('runs on GPU capacity: EC2 tasks in awsvpc, GPUs for the first container, shares of the task for each', () => {
    const stack = freshStack();
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { natGateways: 1 }) });
    const capacity = new GpuCapacityProvider(stack, 'Gpu', { cluster, instanceType: new ec2.InstanceType('g5.xlarge'), maxInstances: 2 });
    new InferencePool(stack, 'Embedder', {
      cluster,
      serviceName: 'embedder',
      minCapacity: 0,
      maxCapacity: 2,
      cpu: 4096,
      memoryLimitMiB: 8192,
      containers: [
        { name: 'model', image },
        { name: 'sidecar', image },
      ],
      gpuCapacityProvider: capacity.capacityProvider,
      gpusPerTask: 1,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [
        Match.objectLike({ Name: 'model', Cpu: 2048, Memory: 4096, ResourceRequirements: [{ Type: 'GPU', Value: '1' }] }),
        Match.objectLike({ Name: 'sidecar', Cpu: 2048, Memory: 4096, ResourceRequirements: Match.absent() }),
      ],
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'embedder',
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: Match.stringLikeRegexp('^GpuCapacityProvider') }, Weight: 1 }],
    });
  });

  it('names every bad prop at once', () => {
    expect(() => pool({ minCapacity: 3, maxCapacity: 2, containers: [], gpusPerTask: 1 })).toThrow(
      /InferencePool Embedder: maxCapacity must be >= minCapacity, got 2 < 3; containers must name at least one container, got none; gpusPerTask needs gpuCapacityProvider/,
    );
  });
});
