import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { PredictiveScaler, type PredictiveScalerProps } from '../../lib/constructs/predictive-scaler';
import { workMetric } from '../fixtures/design-example';
import { allowing, designDocument, existingTopic, freshStack, statementsOf } from './fixtures';

const predictiveEngine = () =>
  designDocument((doc) => {
    doc.targets[0] = { ...doc.targets[0]!, predictive: { load: { ...workMetric('engine'), namespace: 'Pipestream/Pipeline', metricName: 'RequestCount', statistic: 'Sum' }, targetPerReplica: 50 } } as never;
  });

function build(props: Partial<PredictiveScalerProps> = {}) {
  const stack = freshStack();
  const holds = dynamodb.Table.fromTableName(stack, 'Holds', 'pipestream-production-holds');
  new PredictiveScaler(stack, 'Predictive', { document: predictiveEngine(), holds, topic: existingTopic(stack), namePrefix: 'pipestream-production', ...props });
  return Template.fromStack(stack);
}

describe('Construct: PredictiveScaler', () => {
  it('runs hourly, one run at a time, and alarms when a run is missed', () => {
    const t = build();
    const [id] = Object.keys(t.findResources('AWS::Lambda::Function'));
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })] });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 300, MemorySize: 512, ReservedConcurrentExecutions: 1 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-predictive-missed-schedule', Period: 3600 });
  });

  it('pages when targets fail two runs in a row, though the handler keeps the other targets going (issue #8)', () => {
    build().hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-predictive-target-errors',
      Namespace: 'mlscale',
      MetricName: 'TargetErrors',
      Dimensions: [{ Name: 'service', Value: 'predictive' }],
      Period: 3600,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.anyValue(),
    });
  });

  it('writes forecasts into its own namespace only, and reconciles only the predictive targets', () => {
    const statements = statementsOf(build(), 'PredictiveFunctionRole');
    expect(allowing(statements, 'cloudwatch:PutMetricData')[0]).toMatchObject({ Condition: { StringEquals: { 'cloudwatch:namespace': 'mlscale/Predictive' } } });
    expect(allowing(statements, 'ecs:UpdateService')[0]!.Resource).toBe('arn:aws:ecs:eu-west-1:123456789012:service/pipestream/engine');
    expect(allowing(statements, 'eks:UpdateNodegroupConfig')).toEqual([]);
  });

  it('takes another schedule, and refuses one under 5 minutes or a document with nothing to forecast', () => {
    build({ scheduleMinutes: 30 }).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
    expect(() => build({ scheduleMinutes: 1, document: designDocument() })).toThrow(
      /PredictiveScaler Predictive: no target of the document has predictive settings; leave the construct out; scheduleMinutes must be >= 5, got 1/,
    );
  });
});
