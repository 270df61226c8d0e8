import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { scaleInExpressions, scaleInSteps, type ScaleInPolicy } from '../../lambdas/core/scale-in';
import { StepScaleIn } from '../../lib/constructs/step-scale-in';
import { engineScalableTarget, freshStack } from './fixtures';

const ENGINE: ScaleInPolicy = { cpuTarget: 70, minutes: 12, cooldownSeconds: 300 };
const cpu = new cloudwatch.Metric({ namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensionsMap: { ClusterName: 'pipestream', ServiceName: 'engine' }, statistic: 'Average' });
const tasks = new cloudwatch.Metric({ namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensionsMap: { ClusterName: 'pipestream', ServiceName: 'engine' }, statistic: 'Average' });
const lag = new cloudwatch.Metric({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensionsMap: { ConsumerGroup: 'engine' }, statistic: 'Maximum' });

function build(policy: ScaleInPolicy = ENGINE, lagMetric?: cloudwatch.IMetric) {
  const stack = freshStack();
  const scalingTarget = engineScalableTarget(stack);
  new StepScaleIn(stack, 'ScaleIn', { scalingTarget, cpuMetric: cpu, runningTasksMetric: tasks, ...(lagMetric ? { lagMetric } : {}), policy, subject: 'engine' });
  return Template.fromStack(stack);
}

type Query = { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { MetricName: string }; Stat: string; Period: number } };

describe('Construct: StepScaleIn (alone, in a fresh Stack)', () => {
  it('a step policy that only removes tasks, 0 to 19 by the datapoint, one step per cooldown, within 20 adjustments', () => {
    const t = build();
    const [policy] = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    const config = policy!.Properties.StepScalingPolicyConfiguration;
    expect(config).toMatchObject({ AdjustmentType: 'ChangeInCapacity', Cooldown: 300, MetricAggregationType: 'Minimum' });
    const steps = config.StepAdjustments as { MetricIntervalLowerBound: number; MetricIntervalUpperBound?: number; ScalingAdjustment: number }[];
    expect(steps).toHaveLength(20);
    expect(steps.map((s) => s.ScalingAdjustment)).toEqual(scaleInSteps().map((s) => s.change));
    expect(steps.every((s) => s.ScalingAdjustment <= 0)).toBe(true);
    expect(steps.map((s) => s.MetricIntervalLowerBound)).toEqual(scaleInSteps().map((s) => s.lower));
    expect(steps[19]!.MetricIntervalUpperBound).toBeUndefined();
  });

  it('is invoked by an alarm on the metric math, 1 + removable >= 1 for minutes of minutes, missing data not low', () => {
    const t = build();
    const [alarm] = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' } }));
    expect(alarm!.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 12,
      DatapointsToAlarm: 12,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm!.Properties.AlarmDescription).toContain('engine: CPU below 63 % for 12 of 12 one-minute periods');
    const queries = alarm!.Properties.Metrics as Query[];
    const e = scaleInExpressions(ENGINE);
    const returned = queries.filter((q) => q.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0]!.Expression).toBe(e.removable);
    expect(queries.map((q) => q.Expression).filter(Boolean)).toEqual(expect.arrayContaining([e.wanted, e.cap, e.removable]));
    expect(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat!.Metric.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual(
      expect.arrayContaining([
        ['cpu', 'CPUUtilization', 'Average', 60],
        ['tasks', 'RunningTaskCount', 'Average', 60],
      ]),
    );
    // The alarm's one action is the step policy.
    expect(alarm!.Properties.AlarmActions).toHaveLength(1);
  });

  it('a blind alarm: no RunningTaskCount samples for 15 of 15 minutes is ALARM (missing is the condition), paging the topic when given', () => {
    const blindOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'RunningTaskCount' } }));
    const [alone] = blindOf(build());
    expect(alone!.Properties).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      Statistic: 'SampleCount',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: 'breaching',
    });
    expect(alone!.Properties.AlarmActions).toBeUndefined();
    expect(alone!.Properties.AlarmDescription).toContain('engine: no Container Insights RunningTaskCount for 15 minutes');

    const stack = freshStack();
    const topic = new sns.Topic(stack, 'Topic');
    new StepScaleIn(stack, 'ScaleIn', { scalingTarget: engineScalableTarget(stack), cpuMetric: cpu, runningTasksMetric: tasks, policy: ENGINE, subject: 'engine', blindAlarmName: 'p-engine-scale-in-blind', alarmTopic: topic });
    const [paging] = blindOf(Template.fromStack(stack));
    expect(paging!.Properties).toMatchObject({ AlarmName: 'p-engine-scale-in-blind', AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }] });
  });

  it('with a tracked lag, the lag is in the expression and the query', () => {
    const t = build({ ...ENGINE, lagTarget: 1000 }, lag);
    const [alarm] = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' } }));
    const queries = alarm!.Properties.Metrics as Query[];
    expect(queries.find((q) => q.ReturnData !== false)!.Expression).toContain('AND (lag < 900)');
    expect(queries.some((q) => q.MetricStat?.Metric.MetricName === 'ConsumerLag')).toBe(true);
  });

  it('refuses 15 minutes or more (target tracking scales in then), a bad target, or a lag without its target, naming each', () => {
    expect(() => build({ ...ENGINE, minutes: 15 })).toThrow('StepScaleIn ScaleIn: policy.minutes must be a whole number from 1 to 14');
    expect(() => build({ ...ENGINE, minutes: 0 })).toThrow('got 0');
    expect(() => build({ ...ENGINE, cpuTarget: 0 })).toThrow('policy.cpuTarget must be above 0 and at most 100, got 0');
    expect(() => build(ENGINE, lag)).toThrow('give lagMetric exactly when policy.lagTarget is set');
  });
});
