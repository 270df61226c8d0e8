import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HoldsTable } from '../../lib/constructs/holds-table';
import { Reconciler, type ReconcilerProps } from '../../lib/constructs/reconciler';
import { allowing, designDocument, existingTopic, freshStack, statementsOf } from './fixtures';

function reconciler(props: Partial<ReconcilerProps> = {}) {
  const stack = freshStack();
  const holds = new HoldsTable(stack, 'Holds', { tableName: 'pipestream-production-holds' });
  const r = new Reconciler(stack, 'Reconciler', { document: designDocument(), holds: holds.table, topic: existingTopic(stack), namePrefix: 'pipestream-production', ...props });
  return { reconciler: r, template: Template.fromStack(stack) };
}

const functionId = (t: Template) => Object.keys(t.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('ReconcilerFunction'))!;

describe('Construct: Reconciler', () => {
  it('runs the reconcile handler every minute, one pass at a time, never retrying a minute', () => {
    const { template: t } = reconciler();
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 55, MemorySize: 512, ReservedConcurrentExecutions: 1 });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(t), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('is run at once when work appears on a scale-to-zero target (> 0, 1 of 1 minutes, no data is no work)', () => {
    const { reconciler: r, template: t } = reconciler();
    // embedder and the gpu-workers node group scale to zero; the engine does not.
    expect(r.workAlarms).toHaveLength(2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-embedder-work-present',
      Namespace: 'Pipestream/Kafka',
      MetricName: 'ConsumerLag',
      Dimensions: [{ Name: 'ConsumerGroup', Value: 'embedder' }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ 'Fn::GetAtt': [functionId(t), 'Arn'] }],
    });
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-engine-work-present' }, 0);
  });

  it('alarms per target on reconcile errors, drift and flapping, to the operators', () => {
    const { reconciler: r, template: t } = reconciler({ driftMinutes: 5 });
    expect(r.errorAlarms).toHaveLength(3);
    expect(r.driftAlarms).toHaveLength(3);
    expect(r.flappingAlarms).toHaveLength(3);
    expect(r.alarms).toHaveLength(3 + 3 + 3 + 3);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-engine-flapping',
      Namespace: 'mlscale',
      MetricName: 'Flapping',
      Dimensions: Match.arrayWith([{ Name: 'Target', Value: 'engine' }]),
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('more than 4 times in the last hour'),
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-gpu-workers-drift',
      Namespace: 'mlscale',
      MetricName: 'Drift',
      Dimensions: Match.arrayWith([{ Name: 'Target', Value: 'gpu-workers' }]),
      EvaluationPeriods: 5,
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-engine-reconcile-errors', MetricName: 'TargetErrors', EvaluationPeriods: 3 });
  });

  it('may change exactly the targets of the document and write their holds', () => {
    const statements = statementsOf(reconciler().template, 'ReconcilerFunctionRole');
    expect([allowing(statements, 'ecs:UpdateService')[0]!.Resource].flat().sort()).toEqual([
      'arn:aws:ecs:eu-west-1:123456789012:service/pipestream/embedder',
      'arn:aws:ecs:eu-west-1:123456789012:service/pipestream/engine',
    ]);
    expect(allowing(statements, 'eks:UpdateNodegroupConfig')[0]!.Resource).toBe('arn:aws:eks:eu-west-1:123456789012:nodegroup/ml-prod/gpu-workers/*');
    const [holds] = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect([holds!.Action].flat().sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan']);
    expect(allowing(statements, 'cloudwatch:GetMetricData')).toHaveLength(1);
  });

  it('runs every N minutes when told, with a timeout inside the interval', () => {
    const { template: t } = reconciler({ scheduleMinutes: 5 });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 55 });
  });

  it('refuses a schedule outside 1-60 minutes', () => {
    expect(() => reconciler({ scheduleMinutes: 0, driftMinutes: 0 })).toThrow(/Reconciler Reconciler: scheduleMinutes must be 1-60, got 0; driftMinutes must be >= 1, got 0/);
  });
});
