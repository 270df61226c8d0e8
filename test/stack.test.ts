import { scaleInExpressions } from '../lambdas/core/scale-in';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ALARM_KINDS, type ConfigInput, parseConfig } from '../lambdas/core/config';
import { lagGrowthPolicy } from '../lambdas/core/lag-growth';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MlscaleStack, type MlscaleStackProps } from '../lib/mlscale-stack';
import { inferencePoolProps } from '../lib/pool-from-config';
import { evaluate, principalFromTemplate } from './iam/policy';
import { CDK_CONTEXT, exampleConfig, logicalId, ROOT, synth } from './util';

type Resource = { Properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

let template: Template;

beforeAll(() => {
  template = synth(exampleConfig(), 'production').template;
});

function serviceId(name: string): string {
  const services = template.findResources('AWS::ECS::Service', { Properties: { ServiceName: name } });
  const ids = Object.keys(services);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The scalable target whose ResourceId points at the service called `name`. */
function scalableTargetOf(name: string): [string, Resource] {
  const id = serviceId(name);
  const targets = Object.entries(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget') as Record<string, Resource>);
  const match = targets.filter(([, t]) => JSON.stringify(t.Properties.ResourceId).includes(`"${id}"`));
  expect(match).toHaveLength(1);
  return match[0]!;
}

function policiesOf(name: string): Resource[] {
  const [targetId] = scalableTargetOf(name);
  return Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy') as Record<string, Resource>).filter(
    (p) => p.Properties.ScalingTargetId?.Ref === targetId,
  );
}

function alarm(name: string): Resource['Properties'] {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }) as Record<string, Resource>);
  expect(found, `alarm ${name}`).toHaveLength(1);
  return found[0]!.Properties;
}

describe('Stack: always-on pool (engine + sidecar)', () => {
  it('runs a two-container Fargate task with a 120 s stop timeout and logs', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({ Name: 'engine', StopTimeout: 120, LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }) }),
        Match.objectLike({ Name: 'sidecar', StopTimeout: 120, LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }) }),
      ],
    });
  });

  it('deploys with a rollback circuit breaker and never below full capacity', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'engine',
      LaunchType: 'FARGATE',
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      // A deployment must not reset what the autoscaler chose.
      DesiredCount: Match.absent(),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('scales between 2 and 10 tasks', () => {
    const [, target] = scalableTargetOf('engine');
    expect(target.Properties).toMatchObject({ MinCapacity: 2, MaxCapacity: 10, ScalableDimension: 'ecs:service:DesiredCount', ServiceNamespace: 'ecs' });
  });

  it('tracks CPU at 70 % with 60 s out / 300 s in cooldowns, scale-out only (the step scale-in removes tasks)', () => {
    const cpu = policiesOf('engine').filter(
      (p) => p.Properties.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType === 'ECSServiceAverageCPUUtilization',
    );
    expect(cpu).toHaveLength(1);
    expect(cpu[0]!.Properties.TargetTrackingScalingPolicyConfiguration).toEqual({
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      TargetValue: 70,
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
      DisableScaleIn: true,
    });
  });

  it('scales in on CPU after 12 low minutes (scaleInMinutes) by a step policy on metric math, one step per 300 s', () => {
    const steps = policiesOf('engine').filter((p) => p.Properties.PolicyType === 'StepScaling');
    expect(steps).toHaveLength(1);
    expect(steps[0]!.Properties.PolicyName).toBe('engine-step-scale-in');
    expect(steps[0]!.Properties.StepScalingPolicyConfiguration).toMatchObject({ AdjustmentType: 'ChangeInCapacity', Cooldown: 300 });
    const [policyId] = Object.entries(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy') as Record<string, Resource>).find(
      ([, p]) => p.Properties.PolicyName === 'engine-step-scale-in',
    )!;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).filter((a) =>
      (a.Properties.AlarmActions as { Ref?: string }[] | undefined)?.some((x) => x.Ref === policyId),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({ EvaluationPeriods: 12, DatapointsToAlarm: 12, Threshold: 1, TreatMissingData: 'notBreaching' });
    const returned = (alarms[0]!.Properties.Metrics as { Expression?: string; ReturnData?: boolean }[]).find((q) => q.ReturnData !== false)!;
    expect(returned.Expression).toBe(scaleInExpressions({ cpuTarget: 70, minutes: 12, cooldownSeconds: 300 }).removable);
  });

  it('pages when the step scale-in goes blind: no RunningTaskCount for 15 minutes (it is the pool\'s only scale-in)', () => {
    const blind = alarm('pipestream-production-engine-scale-in-blind');
    expect(blind).toMatchObject({
      MetricName: 'RunningTaskCount',
      Namespace: 'ECS/ContainerInsights',
      Statistic: 'SampleCount',
      Period: 60,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: logicalId(template, 'AWS::SNS::Topic', 'Notifications') }],
    });
    // Only the always-on pool scales in by the step policy.
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).filter((a) => String(a.Properties.AlarmName).endsWith('-scale-in-blind'))).toHaveLength(1);
  });

  it('with scaleInMinutes 15, leaves scale-in to target tracking: no step policy, DisableScaleIn unset', () => {
    const config = exampleConfig() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    config.pools[0].scaleInMinutes = 15;
    const { template: t } = synth(config as ReturnType<typeof exampleConfig>);
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('-scale-in-blind$') }, 0);
    const engine = (Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as Resource[]).filter((p) => String(p.Properties.ScalingTargetId?.Ref).startsWith('enginepool'));
    expect(engine.map((p) => p.Properties.PolicyType)).toEqual(['TargetTrackingScaling']);
    expect(engine[0]!.Properties.TargetTrackingScalingPolicyConfiguration.DisableScaleIn).toBeUndefined();
  });

  it('scales on Kafka ConsumerLag through the reconciler, sized to what drains it, not target tracking on total lag', () => {
    const lag = policiesOf('engine').filter((p) => p.Properties.TargetTrackingScalingPolicyConfiguration?.CustomizedMetricSpecification);
    expect(lag).toEqual([]);
    const engine = synth().stack.targets.find((t) => t.name === 'engine')!;
    expect(engine.drain).toMatchObject({
      backlog: { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'engine' }, statistic: 'Maximum' },
      processed: { namespace: 'Pipestream/Pipeline', metricName: 'RequestCount', statistic: 'Sum' },
      backlogThreshold: 1000,
      drainSeconds: 120,
      targetUtilization: 0.7,
    });
  });

  it("tracks Kafka ConsumerLag (Pipestream/Kafka, ConsumerGroup, Maximum) at 1000 with lagScaling 'target-tracking'", () => {
    const config = exampleConfig() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    config.pools[0].lagScaling = 'target-tracking';
    const { template: t, stack } = synth(config as ReturnType<typeof exampleConfig>);
    const policies = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as { Properties: Record<string, any> }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const lag = policies.filter((p) => p.Properties.PolicyName?.includes('engine') && p.Properties.TargetTrackingScalingPolicyConfiguration?.CustomizedMetricSpecification);
    expect(lag).toHaveLength(1);
    expect(lag[0]!.Properties.TargetTrackingScalingPolicyConfiguration).toEqual({
      CustomizedMetricSpecification: {
        Namespace: 'Pipestream/Kafka',
        MetricName: 'ConsumerLag',
        Dimensions: [{ Name: 'ConsumerGroup', Value: 'engine' }],
        Statistic: 'Maximum',
      },
      TargetValue: 1000,
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
      DisableScaleIn: true,
    });
    // The step scale-in waits for the lag too: every tracked metric low, as target tracking's own scale-in.
    const stepIn = policies.find((p) => p.Properties.PolicyName === 'engine-step-scale-in');
    expect(stepIn).toBeDefined();
    const stepAlarm = Object.values(t.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).find((a) =>
      (a.Properties.Metrics as { Expression?: string }[] | undefined)?.some((q) => q.Expression?.includes('AND (lag < 900)')),
    );
    expect(stepAlarm, 'the step scale-in alarm waits for the lag too').toBeDefined();
    expect(stack.targets.find((x) => x.name === 'engine')!.drain).toBeUndefined();
  });

  it('has exactly the CPU tracking policy and the step scale-in', () => {
    expect(policiesOf('engine').map((p) => p.Properties.PolicyType).sort()).toEqual(['StepScaling', 'TargetTrackingScaling']);
  });
});

describe('Stack: demand pool (CPU modules)', () => {
  it('scales between 1 and 20 tasks', () => {
    const [, target] = scalableTargetOf('cpu-modules');
    expect(target.Properties).toMatchObject({ MinCapacity: 1, MaxCapacity: 20 });
  });

  it('tracks pending requests per running task at 10', () => {
    const tracking = policiesOf('cpu-modules').filter((p) => p.Properties.PolicyType === 'TargetTrackingScaling');
    expect(tracking).toHaveLength(1);
    const config = tracking[0]!.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(config.TargetValue).toBe(10);
    expect(config.ScaleOutCooldown).toBe(60);
    expect(config.ScaleInCooldown).toBe(300);
    const metrics = config.CustomizedMetricSpecification.Metrics;
    expect(metrics).toContainEqual({
      Id: 'queue',
      MetricStat: {
        Metric: { Namespace: 'Pipestream/Pipeline', MetricName: 'QueueDepth', Dimensions: [{ Name: 'Pool', Value: 'cpu-modules' }] },
        Stat: 'Maximum',
      },
      ReturnData: false,
    });
    expect(metrics).toContainEqual(
      expect.objectContaining({ Id: 'running', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'RunningTaskCount' }) }) }),
    );
    expect(metrics).toContainEqual(expect.objectContaining({ Id: 'perTask', Expression: 'IF(running > 0, queue / running, queue)', ReturnData: true }));
  });

  it('steps out on p99 latency above 2 s (3 of 3 minutes), never in', () => {
    const steps = policiesOf('cpu-modules').filter((p) => p.Properties.PolicyType === 'StepScaling');
    expect(steps).toHaveLength(1);
    expect(steps[0]!.Properties.StepScalingPolicyConfiguration).toEqual({
      AdjustmentType: 'PercentChangeInCapacity',
      Cooldown: 60,
      MetricAggregationType: 'Maximum',
      MinAdjustmentMagnitude: 1,
      StepAdjustments: [
        { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 2000, ScalingAdjustment: 20 },
        { MetricIntervalLowerBound: 2000, ScalingAdjustment: 50 },
      ],
    });
    const [cpuModules] = scalableTargetOf('cpu-modules');
    const policyId = Object.entries(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).find(
      ([, p]) => (p as Resource).Properties.PolicyType === 'StepScaling' && (p as Resource).Properties.ScalingTargetId?.Ref === cpuModules,
    )![0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      Namespace: 'Pipestream/Pipeline',
      ExtendedStatistic: 'p99',
      Threshold: 2000,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [{ Ref: policyId }],
    });
  });
});

describe('Stack: scale-to-zero pool (GPU modules)', () => {
  it('starts at 0 desired on a GPU capacity provider', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'gpu-modules',
      DesiredCount: 0,
      CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })],
    });
  });

  it('scales between 0 and 5 tasks; only queue-per-task tracking above the floor the Lambda owns', () => {
    const [, target] = scalableTargetOf('gpu-modules');
    expect(target.Properties).toMatchObject({ MinCapacity: 0, MaxCapacity: 5 });
    const policies = policiesOf('gpu-modules');
    expect(policies).toHaveLength(1);
    const config = policies[0]!.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(config.TargetValue).toBe(10);
    // Its queue is the work metric (Kafka lag of the module's consumer group), per running task.
    expect(JSON.stringify(config.CustomizedMetricSpecification.Metrics)).toContain('"ConsumerLag"');
    expect(config.CustomizedMetricSpecification.Metrics).toContainEqual(
      expect.objectContaining({ Id: 'perTask', Expression: 'IF(running > 0, queue / running, queue)' }),
    );
  });

  it('asks for one GPU per task', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [Match.objectLike({ ResourceRequirements: [{ Type: 'GPU', Value: '1' }], StopTimeout: 120 })],
    });
  });

  it('runs g5.xlarge instances from 0 to 5 with managed scaling and termination protection', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '5' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'g5.xlarge',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeSize: 100 }) })],
      }),
    });
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    });
  });
});

describe('Stack: cluster and network', () => {
  it('names the cluster <pipeline>-<environment> with enhanced Container Insights', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'pipestream-production',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  it('logs VPC flows', () => {
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });
});

describe('Stack: scaling alarms', () => {
  const prefix = 'pipestream-production';

  it.each([
    ['engine-cpu', 'CPUUtilization', 'AWS/ECS', 70, 5, 'missing'],
    ['engine-memory', 'MemoryUtilization', 'AWS/ECS', 80, 5, 'missing'],
    ['engine-consumerLag', 'ConsumerLag', 'Pipestream/Kafka', 1000, 5, 'missing'],
    ['gpu-modules-cpu', 'CPUUtilization', 'AWS/ECS', 70, 5, 'notBreaching'],
    ['gpu-modules-gpuUtilization', 'GPUUtilization', 'Pipestream/GPU', 80, 5, 'notBreaching'],
  ])('%s: %s (%s) > %d for %d of as many minutes, missing data %s', (name, metric, namespace, threshold, periods, missing) => {
    expect(alarm(`${prefix}-${name}`)).toMatchObject({
      MetricName: metric,
      Namespace: namespace,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 60,
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      TreatMissingData: missing,
    });
  });

  it.each([
    ['engine-grpcLatency', 'GrpcLatency', 'p99', 500],
    ['engine-latencyP95', 'Latency', 'p95', 100],
    ['engine-emergencyLatency', 'Latency', 'p95', 200],
    ['cpu-modules-processingLatency', 'Latency', 'p99', 2000],
    ['gpu-modules-processingLatency', 'Latency', 'p99', 10000],
  ])('%s: %s %s > %d ms for 3 of 3 minutes, never on missing data', (name, metric, stat, threshold) => {
    expect(alarm(`${prefix}-${name}`)).toMatchObject({
      MetricName: metric,
      ExtendedStatistic: stat,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('queue alarms compare pending work per running task with 10', () => {
    for (const name of ['cpu-modules-queueDepth', 'gpu-modules-queueDepth']) {
      const props = alarm(`${prefix}-${name}`);
      expect(props.Threshold).toBe(10);
      expect(props.EvaluationPeriods).toBe(5);
      expect(props.Metrics).toContainEqual(expect.objectContaining({ Expression: 'IF(running > 0, work / running, work)', ReturnData: true }));
    }
    expect(JSON.stringify(alarm(`${prefix}-gpu-modules-queueDepth`).Metrics)).toContain('"ConsumerLag"');
  });

  it('"no requests for 5 min" treats missing data as breaching, and skips the scale-to-zero pool', () => {
    expect(alarm(`${prefix}-engine-noRequests`)).toMatchObject({
      MetricName: 'RequestCount',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
    });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: `${prefix}-gpu-modules-noRequests` }, 0);
  });

  it('wires every alarm to the encrypted topic, and the emergency alarm also on OK', () => {
    const topicId = logicalId(template, 'AWS::SNS::Topic', 'Notifications');
    const runbookKind = new RegExp(`^${prefix}-(engine|cpu-modules|gpu-modules)-(${ALARM_KINDS.join('|')})$`);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).filter((a) =>
      runbookKind.test(a.Properties.AlarmName ?? ''),
    );
    // 7 for the engine, 5 for each module pool.
    expect(alarms.length).toBe(17);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(alarm(`${prefix}-engine-emergencyLatency`).OKActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });
});

describe('Stack: dashboard', () => {
  it('shows desired vs running tasks, CPU, memory, lag, latency and alarm states', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const needle of [
      'DesiredTaskCount',
      'RunningTaskCount',
      'CPUUtilization',
      'MemoryUtilization',
      'ConsumerLag',
      'Latency',
      'Alarm states',
      // Forecast against actual load for the pre-scaled pools, and the scalers' own health.
      'engine: forecast vs actual load',
      'ForecastLoad',
      'scalers: invocations and errors',
    ]) {
      expect(body).toContain(needle);
    }
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'pipestream-production' });
  });
});

describe('Stack: environments', () => {
  it('gives staging its low-cost preset and smaller engine', () => {
    const staging = synth(exampleConfig(), 'staging').template;
    staging.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'pipestream-staging' });
    const targets = Object.values(staging.findResources('AWS::ApplicationAutoScaling::ScalableTarget') as Record<string, Resource>).map(
      (t) => [t.Properties.MinCapacity, t.Properties.MaxCapacity],
    );
    expect(targets).toContainEqual([1, 4]);
  });
});

describe('Stack: an existing cluster, VPC and topic', () => {
  /** The example config with a Fargate scale-to-zero pool: GPU capacity needs a cluster the app defines. */
  function fargateOnly() {
    const config = exampleConfig();
    config.pools = config.pools.map((p) => (p.kind === 'scale-to-zero' ? { ...p, cpu: 1024, memoryMiB: 2048, compute: { type: 'fargate' as const } } : p));
    return parseConfig(config).environments.find((e) => e.name === 'production')!;
  }

  function existing(build: (stack: Stack) => Partial<MlscaleStackProps>, environment = fargateOnly()) {
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const scope = new Stack(app, 'Shared', { env: { account: '123456789012', region: 'eu-west-1' } });
    const stack = new MlscaleStack(app, 'Inference', { env: { account: '123456789012', region: 'eu-west-1' }, environment, ...build(scope) });
    return { stack, template: () => Template.fromStack(stack) };
  }

  const vpcOf = (scope: Stack) =>
    ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
      vpcId: 'vpc-0abc1234def567890',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
    });

  it('runs the pools in the cluster given and creates no network, cluster or topic; alarms go to the topic given', () => {
    const t = existing((scope) => ({
      cluster: ecs.Cluster.fromClusterAttributes(scope, 'Cluster', { clusterName: 'pipestream-production', vpc: vpcOf(scope) }),
      topic: sns.Topic.fromTopicArn(scope, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
    })).template();
    for (const type of ['AWS::EC2::VPC', 'AWS::ECS::Cluster', 'AWS::SNS::Topic', 'AWS::KMS::Key']) t.resourceCountIs(type, 0);
    t.resourcePropertiesCountIs('AWS::ECS::Service', { Cluster: 'pipestream-production' }, 3);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-engine-cpu', AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'] });
  });

  it('puts a new cluster in the VPC given', () => {
    const t = existing((scope) => ({ vpc: vpcOf(scope) })).template();
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'pipestream-production' });
  });

  it('refuses a cluster that is not the environment\'s, and GPU capacity on an imported cluster', () => {
    expect(() => existing((scope) => ({ cluster: ecs.Cluster.fromClusterAttributes(scope, 'Cluster', { clusterName: 'other', vpc: vpcOf(scope) }) }))).toThrow(
      /cluster must be the environment's clusterName pipestream-production, got other/,
    );
    const gpu = parseConfig(exampleConfig()).environments.find((e) => e.name === 'production')!;
    expect(() => existing((scope) => ({ cluster: ecs.Cluster.fromClusterAttributes(scope, 'Cluster', { clusterName: 'pipestream-production', vpc: vpcOf(scope) }) }), gpu)).toThrow(
      /pool gpu-modules runs on ec2-gpu, which needs a cluster defined in this app/,
    );
  });
});

/** config/examples/batch.json: the engine with scaleOnLagGrowth, and a batch pool on Fargate. */
function batchExample(): ConfigInput {
  return JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'batch.json'), 'utf8')) as ConfigInput;
}

describe('Stack: batch pool and lag growth (config/examples/batch.json)', () => {
  let t: Template;
  let stack: MlscaleStack;
  const prefix = 'pipestream-production';
  const queueName = 'pipestream-production-batch-embedder';
  beforeAll(() => {
    ({ template: t, stack } = synth(batchExample(), 'production'));
  });
  const policiesOfService = (name: string) => {
    const service = Object.keys(t.findResources('AWS::ECS::Service', { Properties: { ServiceName: name } }))[0]!;
    const [targetId] = Object.entries(t.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).find(([, x]) => JSON.stringify(x).includes(`"${service}"`))!;
    return Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy') as Record<string, Resource>).filter((p) => p.Properties.ScalingTargetId?.Ref === targetId);
  };
  const alarmNamed = (name: string) => {
    const found = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }) as Record<string, Resource>);
    expect(found, `alarm ${name}`).toHaveLength(1);
    return found[0]!.Properties;
  };

  it('deploys the batch pool like a scale-to-zero pool: Fargate, in place, starting at 0, between 0 and 8 tasks', () => {
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'batch-embedder',
      LaunchType: 'FARGATE',
      DesiredCount: 0,
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 8, ResourceId: Match.anyValue() });
    t.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
  });

  it('creates its queue from the config: named <pipeline>-<env>-<pool>, encrypted, TLS only, a dead-letter queue after 3 receives, 900 s visibility, 14 days', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: queueName,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 900,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: `${queueName}-dlq`, SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    // Both queues refuse requests without TLS (beside the scalers' own dead-letter queues).
    const policies = Object.keys(t.findResources('AWS::SQS::QueuePolicy')).filter((id) => id.startsWith('batchembedderqueue'));
    expect(policies).toHaveLength(2);
    expect(stack.batchQueues).toHaveLength(1);
    expect(stack.pools.find((p) => p.serviceName === 'batch-embedder')!.queue).toBe(stack.batchQueues[0]!.queue);
  });

  it('tracks visible messages per running task at messagesPerTask (20), nothing else', () => {
    const policies = policiesOfService('batch-embedder');
    expect(policies).toHaveLength(1);
    const config = policies[0]!.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(config.TargetValue).toBe(20);
    expect(config.CustomizedMetricSpecification.Metrics[0]).toEqual({
      Id: 'queue',
      MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: queueName }] }, Stat: 'Maximum' },
      ReturnData: false,
    });
  });

  it("gives the worker's task role the queue and its own tasks' scale-in protection, nothing more", () => {
    const role = principalFromTemplate(t, logicalId(t, 'AWS::IAM::Role', 'batchembedderpoolTaskDefinitionTaskRole'));
    const queueArn = `arn:aws:sqs:eu-west-1:123456789012:${queueName}`;
    const task = (cluster: string) => `arn:aws:ecs:eu-west-1:123456789012:task/${cluster}/0123456789abcdef0123456789abcdef`;
    const allowed = (action: string, resource: string) => evaluate(role, { action, resources: [resource], context: {} }).allowed;
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']) {
      expect(allowed(action, queueArn), action).toBe(true);
    }
    expect(allowed('sqs:SendMessage', queueArn)).toBe(false);
    expect(allowed('sqs:PurgeQueue', queueArn)).toBe(false);
    expect(allowed('sqs:ReceiveMessage', `${queueArn}-dlq`)).toBe(false);
    expect(allowed('ecs:UpdateTaskProtection', task('pipestream-production'))).toBe(true);
    expect(allowed('ecs:GetTaskProtection', task('pipestream-production'))).toBe(true);
    expect(allowed('ecs:UpdateTaskProtection', task('pipestream-staging'))).toBe(false);
    expect(allowed('ecs:StopTask', task('pipestream-production'))).toBe(false);
    // The always-on pool's tasks get neither.
    const engine = principalFromTemplate(t, logicalId(t, 'AWS::IAM::Role', 'enginepoolTaskDefinitionTaskRole'));
    expect(evaluate(engine, { action: 'ecs:UpdateTaskProtection', resources: [task('pipestream-production')], context: {} }).allowed).toBe(false);
  });

  it('tells the worker containers the queue URL and name', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'worker',
          Environment: [
            { Name: 'MLSCALE_QUEUE_URL', Value: { Ref: Match.stringLikeRegexp('^batchembedderqueueQueue') } },
            { Name: 'MLSCALE_QUEUE_NAME', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^batchembedderqueueQueue'), 'QueueName'] } },
          ],
        }),
      ],
    });
  });

  it('alarms on the oldest message (AWS/SQS ApproximateAgeOfOldestMessage > 1800 s, 5 of 5) and per-task backlog > 20; no "no requests" alarm', () => {
    expect(alarmNamed(`${prefix}-batch-embedder-oldestMessageAge`)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      Statistic: 'Maximum',
      Threshold: 1800,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
    const backlog = alarmNamed(`${prefix}-batch-embedder-queueDepth`);
    expect(backlog.Threshold).toBe(20);
    expect(JSON.stringify(backlog.Metrics)).toContain('"ApproximateNumberOfMessagesVisible"');
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: `${prefix}-batch-embedder-noRequests` }, 0);
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: `${prefix}-batch-embedder-emergencyLatency` }, 0);
    // Dead letters reach the operators too.
    expect(alarmNamed(`${prefix}-batch-embedder-dead-letters`).AlarmActions).toEqual([{ Ref: logicalId(t, 'AWS::SNS::Topic', 'Notifications') }]);
  });

  it("shows the batch pool's visible and in-flight messages and the oldest message's age on the dashboard", () => {
    const body = JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard'));
    for (const needle of ['batch-embedder: queue messages and oldest message age (s)', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateAgeOfOldestMessage', 'in flight']) {
      expect(body).toContain(needle);
    }
  });

  it('renders the batch target for the reconciler: its queue and its work', () => {
    expect(stack.targets.find((x) => x.name === 'batch-embedder')).toMatchObject({
      pool: 'batch',
      minCapacity: 0,
      maxCapacity: 8,
      queue: queueName,
      work: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queueName } },
    });
  });

  it("steps the engine out on the lag's growth rate, with exactly lagGrowthPolicy()'s numbers, beside CPU tracking", () => {
    const env = stack.envConfig;
    const engine = env.pools.find((p) => p.name === 'engine')!;
    const policy = lagGrowthPolicy({
      capacityPerTask: engine.capacityPerTask,
      targetUtilization: env.thresholds.cpuPercent / 100,
      startupSeconds: engine.startupSeconds,
      scaleOutCooldownSeconds: engine.scaleOutCooldownSeconds,
    });
    const policies = policiesOfService('engine');
    expect(policies.map((p) => p.Properties.PolicyName).sort()).toEqual(['engine-lag-growth', 'engine-step-scale-in', expect.stringContaining('CpuTracking')].sort());
    const step = policies.find((p) => p.Properties.PolicyName === 'engine-lag-growth')!.Properties;
    expect(step.PolicyName).toBe('engine-lag-growth');
    expect(step.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ChangeInCapacity',
      Cooldown: policy.cooldownSeconds,
      StepAdjustments: policy.steps.map((s) => ({ MetricIntervalLowerBound: s.lower, ...(s.upper !== undefined ? { MetricIntervalUpperBound: s.upper } : {}), ScalingAdjustment: s.change })),
    });
    const [alarmId] = Object.entries(t.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).find(([id]) => id.startsWith('enginepoolLagGrowthStepScalingAlarm'))!;
    expect((t.findResources('AWS::CloudWatch::Alarm')[alarmId] as Resource).Properties).toMatchObject({
      Threshold: policy.threshold,
      EvaluationPeriods: policy.evaluationPeriods,
      DatapointsToAlarm: policy.datapointsToAlarm,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^enginepoolLagGrowthStepScalingPolicy/) }],
    });
  });
});

describe('Stack: batch pool variants', () => {
  const withBatch = (batch: Record<string, unknown>) => {
    const config = batchExample();
    config.pools = config.pools.map((p) => (p.kind === 'batch' ? ({ ...p, ...batch } as typeof p) : p));
    return config;
  };

  it('imports an existing queue by name (its ARN from the stack account and region, no lookup) and creates none', () => {
    const { template: t, stack } = synth(withBatch({ queue: { name: 'jobs-from-elsewhere', existing: true } }));
    // The scalers' dead-letter queues only.
    expect(Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('batchembedder'))).toEqual([]);
    expect(Object.keys(t.findResources('AWS::SQS::Queue')).length).toBe(Object.keys(template.findResources('AWS::SQS::Queue')).length);
    expect(stack.batchQueues).toEqual([]);
    const role = principalFromTemplate(t, logicalId(t, 'AWS::IAM::Role', 'batchembedderpoolTaskDefinitionTaskRole'));
    expect(evaluate(role, { action: 'sqs:ReceiveMessage', resources: ['arn:aws:sqs:eu-west-1:123456789012:jobs-from-elsewhere'], context: {} }).allowed).toBe(true);
    expect(JSON.stringify(t.findResources('AWS::ECS::TaskDefinition'))).toContain('jobs-from-elsewhere');
    // The alarms and the scaling read the queue's own metrics, by its name.
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: 'jobs-from-elsewhere' }] });
  });

  it('runs on GPU capacity with compute ec2-gpu: its own capacity provider, EC2 tasks with a GPU, the GPU alarm', () => {
    const { template: t } = synth(withBatch({ compute: { type: 'ec2-gpu', instanceType: 'g5.xlarge', gpusPerTask: 1 }, cpu: 3072, memoryMiB: 12288 }));
    t.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    t.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'batch-embedder', DesiredCount: 0, CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })] });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      ContainerDefinitions: [Match.objectLike({ Name: 'worker', ResourceRequirements: [{ Type: 'GPU', Value: '1' }], Environment: Match.arrayWith([Match.objectLike({ Name: 'MLSCALE_QUEUE_URL' })]) })],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-batch-embedder-gpuUtilization' });
  });

  function onImportedCluster(config: ConfigInput) {
    const environment = parseConfig(config).environments.find((e) => e.name === 'production')!;
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const env = { account: '123456789012', region: 'eu-west-1' };
    const shared = new Stack(app, 'Shared', { env });
    const vpc = ec2.Vpc.fromVpcAttributes(shared, 'Vpc', {
      vpcId: 'vpc-0abc1234def567890',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
    });
    const cluster = ecs.Cluster.fromClusterAttributes(shared, 'Cluster', { clusterName: 'pipestream-production', vpc });
    return () => new MlscaleStack(app, 'Inference', { env, environment, cluster });
  }

  it("works on an imported cluster: task protection on that cluster's tasks, by name", () => {
    const stack = onImportedCluster(withBatch({ queue: { name: 'jobs', existing: true } }))();
    const t = Template.fromStack(stack);
    const role = principalFromTemplate(t, logicalId(t, 'AWS::IAM::Role', 'batchembedderpoolTaskDefinitionTaskRole'));
    const task = 'arn:aws:ecs:eu-west-1:123456789012:task/pipestream-production/0123456789abcdef0123456789abcdef';
    expect(evaluate(role, { action: 'ecs:UpdateTaskProtection', resources: [task], context: {} }).allowed).toBe(true);
    t.resourcePropertiesCountIs('AWS::ECS::Service', { Cluster: 'pipestream-production', ServiceName: 'batch-embedder' }, 1);
  });

  it('inferencePoolProps refuses a batch pool without its queue, and a queue for another kind of pool', () => {
    const env = parseConfig(batchExample()).environments.find((e) => e.name === 'production')!;
    const scope = new Stack(new App(), 'Scope', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: 'vpc-0abc1234def567890', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-0a1b2c3d4e5f60718'] });
    const cluster = ecs.Cluster.fromClusterAttributes(scope, 'Cluster', { clusterName: 'pipestream-production', vpc });
    const queue = sqs.Queue.fromQueueArn(scope, 'Queue', 'arn:aws:sqs:eu-west-1:123456789012:jobs');
    const [engine, batch] = [env.pools.find((p) => p.kind === 'always-on')!, env.pools.find((p) => p.kind === 'batch')!];
    expect(() => inferencePoolProps(batch, { cluster })).toThrow(/pool batch-embedder: a batch pool needs its queue/);
    expect(() => inferencePoolProps(engine, { cluster, queue })).toThrow(/pool engine: only batch pools take a queue, not always-on pools/);
    expect(inferencePoolProps(batch, { cluster, queue })).toMatchObject({ queue, minCapacity: 0, desiredCount: 0, minHealthyPercent: 0, maxHealthyPercent: 100 });
  });

  it('refuses a GPU batch pool on an imported cluster with a clear message, as for scale-to-zero', () => {
    const build = onImportedCluster(withBatch({ compute: { type: 'ec2-gpu', instanceType: 'g5.xlarge', gpusPerTask: 1 } }));
    expect(build).toThrow(/MlscaleStack Inference: pool batch-embedder runs on ec2-gpu, which needs a cluster defined in this app, not an imported one/);
  });
});
