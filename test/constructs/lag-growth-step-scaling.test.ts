import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { lagGrowthPolicy, type LagGrowthPolicy } from '../../lambdas/core/lag-growth';
import { LagGrowthStepScaling } from '../../lib/constructs/lag-growth-step-scaling';
import { engineScalableTarget, freshStack } from './fixtures';

/** The engine's numbers: 50 req/s a task at 70 %, Fargate start-up 60 s, scale-out cooldown 60 s. */
const ENGINE = lagGrowthPolicy({ capacityPerTask: 50, targetUtilization: 0.7, startupSeconds: 60, scaleOutCooldownSeconds: 60 });
const lag = new cloudwatch.Metric({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensionsMap: { ConsumerGroup: 'engine' }, statistic: 'Average' });

function build(policy: LagGrowthPolicy = ENGINE, lagMetric: cloudwatch.IMetric = lag) {
  const stack = freshStack();
  const scalingTarget = engineScalableTarget(stack);
  new LagGrowthStepScaling(stack, 'LagGrowth', { scalingTarget, lagMetric, policy, subject: 'engine' });
  return Template.fromStack(stack);
}

describe('Construct: LagGrowthStepScaling (alone, in a fresh Stack)', () => {
  it("a step policy that only adds tasks, one per task's worth of growth, invoked by an alarm on RATE(lag) at Maximum", () => {
    const t = build();
    const [policy] = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    const config = policy!.Properties.StepScalingPolicyConfiguration;
    expect(config).toMatchObject({ AdjustmentType: 'ChangeInCapacity', Cooldown: ENGINE.cooldownSeconds, MetricAggregationType: 'Maximum' });
    expect(config.StepAdjustments.map((s: { ScalingAdjustment: number }) => s.ScalingAdjustment)).toEqual(ENGINE.steps.map((s) => s.change));
    expect(config.StepAdjustments.every((s: { ScalingAdjustment: number }) => s.ScalingAdjustment > 0)).toBe(true);

    const [alarm] = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarm!.Properties).toMatchObject({
      Threshold: ENGINE.threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: ENGINE.evaluationPeriods,
      DatapointsToAlarm: ENGINE.datapointsToAlarm,
      TreatMissingData: 'notBreaching',
    });
    const queries = alarm!.Properties.Metrics as { Expression?: string; MetricStat?: { Stat: string; Period: number } }[];
    expect(queries.find((q) => q.Expression)!.Expression).toBe('RATE(lag)');
    // Whatever statistic the metric was given: the policy's numbers are for the group's maximum lag each minute.
    expect(queries.find((q) => q.MetricStat)!.MetricStat).toMatchObject({ Stat: 'Maximum', Period: 60 });
  });

  it('refuses metric math, a policy without steps, or a step that removes capacity, naming each', () => {
    expect(() => build(ENGINE, new cloudwatch.MathExpression({ expression: 'lag * 2', usingMetrics: { lag } }))).toThrow(
      'LagGrowthStepScaling LagGrowth: lagMetric must be a plain metric, not metric math',
    );
    expect(() => build({ ...ENGINE, steps: [] })).toThrow('LagGrowthStepScaling LagGrowth: policy.steps must name at least one step, got none');
    expect(() => build({ ...ENGINE, steps: [{ lower: 0, change: -1 }] })).toThrow('policy.steps must all add capacity: the policy scales out only');
  });
});
