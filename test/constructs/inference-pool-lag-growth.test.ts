import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LAG_GROWTH_ADJUSTMENT_TYPE,
  LAG_GROWTH_COMPARISON,
  LAG_GROWTH_EXPRESSION,
  LAG_GROWTH_PERIOD_SECONDS,
  LAG_GROWTH_TREAT_MISSING_DATA,
  lagGrowthPolicy,
  type LagGrowthPolicy,
} from '../../lambdas/core/lag-growth';
import { GpuCapacityProvider } from '../../lib/constructs/gpu-capacity-provider';
import { InferencePool, type InferencePoolProps } from '../../lib/constructs/inference-pool';
import { LagGrowthStepScaling } from '../../lib/constructs/lag-growth-step-scaling';
import { existingCluster, freshStack } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable');
const lag = (statistic = 'Maximum', period = Duration.minutes(1)) =>
  new cloudwatch.Metric({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensionsMap: { ConsumerGroup: 'engine' }, statistic, period });

function pool(props: Partial<InferencePoolProps> = {}) {
  const stack = freshStack();
  const p = new InferencePool(stack, 'Engine', {
    cluster: existingCluster(stack),
    serviceName: 'engine',
    minCapacity: 2,
    maxCapacity: 10,
    containers: [{ name: 'engine', image }],
    ...props,
  });
  return { stack, pool: p, template: () => Template.fromStack(stack) };
}

function only(template: Template, type: string): Props {
  const found = Object.values(template.findResources(type)) as { Properties: Props }[];
  expect(found, type).toHaveLength(1);
  return found[0]!.Properties;
}

/** What the template must say for `policy`: derived from lagGrowthPolicy(), never a copy of its numbers. */
function expectDeployed(t: Template, policy: LagGrowthPolicy, statistic = 'Maximum') {
  const config = only(t, 'AWS::ApplicationAutoScaling::ScalingPolicy');
  expect(config.PolicyType).toBe('StepScaling');
  expect(config.StepScalingPolicyConfiguration).toEqual({
    AdjustmentType: LAG_GROWTH_ADJUSTMENT_TYPE,
    Cooldown: policy.cooldownSeconds,
    MetricAggregationType: 'Maximum',
    StepAdjustments: policy.steps.map((s) => ({
      MetricIntervalLowerBound: s.lower,
      ...(s.upper !== undefined ? { MetricIntervalUpperBound: s.upper } : {}),
      ScalingAdjustment: s.change,
    })),
  });
  const alarm = only(t, 'AWS::CloudWatch::Alarm');
  expect(alarm).toMatchObject({
    Threshold: policy.threshold,
    ComparisonOperator: LAG_GROWTH_COMPARISON,
    EvaluationPeriods: policy.evaluationPeriods,
    DatapointsToAlarm: policy.datapointsToAlarm,
    TreatMissingData: LAG_GROWTH_TREAT_MISSING_DATA,
  });
  expect(alarm.Metrics).toEqual([
    { Id: expect.any(String), Expression: LAG_GROWTH_EXPRESSION, Label: 'Lag growth per second', ReturnData: true },
    {
      Id: 'lag',
      MetricStat: {
        Metric: { Namespace: 'Pipestream/Kafka', MetricName: 'ConsumerLag', Dimensions: [{ Name: 'ConsumerGroup', Value: 'engine' }] },
        Period: LAG_GROWTH_PERIOD_SECONDS,
        Stat: statistic,
      },
      ReturnData: false,
    },
  ]);
  return { config, alarm };
}

describe('Construct: InferencePool.scaleOnLagGrowth', () => {
  const spec = { capacityPerTask: 50, targetUtilization: 0.7 };

  it('deploys lagGrowthPolicy() exactly: one alarm on RATE(lag), steps as offsets from its threshold, the policy cooldown', () => {
    const { pool: p, template } = pool();
    const scaling = p.scaleOnLagGrowth({ lagMetric: lag(), ...spec, startupSeconds: 60 });
    expect(scaling).toBeInstanceOf(LagGrowthStepScaling);
    expect(p.lagGrowthScaling).toBe(scaling);
    const policy = lagGrowthPolicy({ ...spec, startupSeconds: 60, scaleOutCooldownSeconds: 60 });
    expect(scaling.policy).toEqual(policy);
    // A draining backlog has a negative rate: below a positive threshold, it never alarms.
    expect(policy.threshold).toBeGreaterThan(0);
    const { config, alarm } = expectDeployed(template(), policy);
    expect(config.PolicyName).toBe('engine-lag-growth');
    expect(config.ScalingTargetId).toEqual({ Ref: expect.stringMatching(/^EngineServiceTaskCountTarget/) });
    // The alarm invokes the step policy, and nothing else.
    expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^EngineLagGrowthStepScalingPolicy/) }]);
    expect(alarm.AlarmDescription).toMatch(/^engine: Kafka lag growing >= [\d.]+ messages\/s for 2 of 2 one-minute periods/);
  });

  it('scales out only: every step adds tasks, the first starts at the threshold, and there is no lower alarm or scale-in step', () => {
    const { pool: p, template } = pool();
    p.scaleOnLagGrowth({ lagMetric: lag(), ...spec });
    const t = template();
    const steps = only(t, 'AWS::ApplicationAutoScaling::ScalingPolicy').StepScalingPolicyConfiguration.StepAdjustments as Props[];
    expect(steps.every((s) => s.ScalingAdjustment > 0)).toBe(true);
    expect(steps[0]!.MetricIntervalLowerBound).toBe(0);
    expect(steps.every((s) => s.MetricIntervalLowerBound >= 0)).toBe(true);
    expect(steps.at(-1)!.MetricIntervalUpperBound).toBeUndefined();
    // Contiguous: each step starts where the last ended (Application Auto Scaling rejects gaps and overlaps).
    steps.slice(1).forEach((s, i) => expect(s.MetricIntervalLowerBound).toBe(steps[i]!.MetricIntervalUpperBound));
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ComparisonOperator: Match.not(Match.stringLikeRegexp('LessThan')) });
  });

  it('reads the lag at Maximum over one minute whatever the metric given says (the simulator models exactly that)', () => {
    const { pool: p, template } = pool();
    p.scaleOnLagGrowth({ lagMetric: lag('Average', Duration.minutes(5)), ...spec });
    expectDeployed(template(), lagGrowthPolicy({ ...spec, startupSeconds: 60, scaleOutCooldownSeconds: 60 }), 'Maximum');
  });

  it('defaults start-up to the compute: 60 s on Fargate, 300 s on GPU capacity; the pool or verb scale-out cooldown is the floor', () => {
    const fargate = pool({ scaleOutCooldown: Duration.minutes(10) });
    fargate.pool.scaleOnLagGrowth({ lagMetric: lag(), ...spec });
    expectDeployed(fargate.template(), lagGrowthPolicy({ ...spec, startupSeconds: 60, scaleOutCooldownSeconds: 600 }));
    expect(only(fargate.template(), 'AWS::ApplicationAutoScaling::ScalingPolicy').StepScalingPolicyConfiguration.Cooldown).toBe(600);

    const verb = pool();
    verb.pool.scaleOnLagGrowth({ lagMetric: lag(), ...spec, scaleOutCooldown: Duration.minutes(7) });
    expect(only(verb.template(), 'AWS::ApplicationAutoScaling::ScalingPolicy').StepScalingPolicyConfiguration.Cooldown).toBe(
      lagGrowthPolicy({ ...spec, startupSeconds: 60, scaleOutCooldownSeconds: 420 }).cooldownSeconds,
    );

    const stack = freshStack();
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { natGateways: 1 }) });
    const capacity = new GpuCapacityProvider(stack, 'Gpu', { cluster, instanceType: new ec2.InstanceType('g5.xlarge'), maxInstances: 2 });
    const gpu = new InferencePool(stack, 'Engine', {
      cluster,
      serviceName: 'engine',
      minCapacity: 1,
      maxCapacity: 2,
      containers: [{ name: 'engine', image }],
      gpuCapacityProvider: capacity.capacityProvider,
    });
    gpu.scaleOnLagGrowth({ lagMetric: lag(), ...spec });
    const gpuPolicy = lagGrowthPolicy({ ...spec, startupSeconds: 300, scaleOutCooldownSeconds: 60 });
    expect(gpuPolicy.cooldownSeconds).toBeGreaterThan(lagGrowthPolicy({ ...spec, startupSeconds: 60, scaleOutCooldownSeconds: 60 }).cooldownSeconds);
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyName: 'engine-lag-growth',
      StepScalingPolicyConfiguration: Match.objectLike({ Cooldown: gpuPolicy.cooldownSeconds }),
    });
  });

  it('adds to the other verbs: one scalable target, CPU tracking and the step policy', () => {
    const { pool: p, template } = pool();
    p.scaleOnCpu({ targetUtilizationPercent: 70 });
    p.scaleOnLagGrowth({ lagMetric: lag(), ...spec });
    const t = template();
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
  });

  it('refuses metric math as the lag, and names every bad number at once', () => {
    const { pool: p } = pool();
    const math = new cloudwatch.MathExpression({ expression: 'l * 2', usingMetrics: { l: lag() } });
    expect(() => p.scaleOnLagGrowth({ lagMetric: math, ...spec })).toThrow(/lagMetric must be a plain metric, not metric math/);
    expect(() => p.scaleOnLagGrowth({ lagMetric: lag(), capacityPerTask: 0, targetUtilization: 1.5, startupSeconds: -1 })).toThrow(
      /InferencePool Engine: scaleOnLagGrowth: capacityPerTask must be > 0, got 0; targetUtilization must be above 0 and at most 1, got 1.5; startupSeconds must be >= 0, got -1/,
    );
  });

  it('property: for any pool size, the deployed threshold, steps and cooldown are lagGrowthPolicy()', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 5_000, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 900 }),
        fc.integer({ min: 0, max: 900 }),
        (capacityPerTask, targetUtilization, startupSeconds, cooldown) => {
          const { pool: p, template } = pool({ scaleOutCooldown: Duration.seconds(cooldown) });
          p.scaleOnLagGrowth({ lagMetric: lag(), capacityPerTask, targetUtilization, startupSeconds });
          expectDeployed(template(), lagGrowthPolicy({ capacityPerTask, targetUtilization, startupSeconds, scaleOutCooldownSeconds: cooldown }));
        },
      ),
      { numRuns: 15 },
    );
  });
});
