import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseTargetsJson } from '../../lambdas/core/config/document';
import { MAX_INLINE_CONFIG_BYTES, ScalerFunction, type ScalerFunctionProps } from '../../lib/constructs/scaler-function';
import { allowing, designDocument, existingTopic, freshStack, statementsOf } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function scaler(props: Partial<ScalerFunctionProps> = {}) {
  const stack = freshStack();
  const fn = new ScalerFunction(stack, 'Scaler', { handlerDir: 'reconcile', document: designDocument(), topic: existingTopic(stack), alarmPrefix: 'pipestream-production-reconcile', ...props });
  return { stack, fn, template: () => Template.fromStack(stack) };
}

function functionProps(t: Template): Props {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')) as { Properties: Props }[];
  expect(fns).toHaveLength(1);
  return fns[0]!.Properties;
}

describe('Construct: ScalerFunction', () => {
  it('runs Node.js 22 on arm64 with X-Ray tracing, its own log group and the targets document in MLSCALE_CONFIG', () => {
    const t = scaler().template();
    const props = functionProps(t);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 60, TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/^ScalerLogs/) } });
    const vars = props.Environment.Variables as Record<string, string>;
    expect(parseTargetsJson(vars.MLSCALE_CONFIG).targets.map((x) => x.name)).toEqual(['engine', 'embedder', 'gpu-workers']);
    // One layer of retries (lambdas/aws/retry.ts), not the SDK's as well.
    expect(vars).toMatchObject({ AWS_MAX_ATTEMPTS: '1', POWERTOOLS_METRICS_NAMESPACE: 'mlscale', NODE_OPTIONS: '--enable-source-maps' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    // X-Ray: the tracer in lambdas/aws/clients sends SDK subsegments under this role.
    const xray = allowing(statementsOf(t, 'ScalerRole'), 'xray:PutTraceSegments');
    expect(xray).toHaveLength(1);
  });

  it('may only write its own logs and traces until a bind method grants more', () => {
    const actions = statementsOf(scaler().template(), 'ScalerRole').flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => !/^(logs|xray|sqs):/.test(a))).toEqual([]);
  });

  it('sends failed async invocations to an encrypted dead-letter queue and alarms on it, on errors and a missed schedule', () => {
    const t = scaler({ scheduleMinutes: 1, errorPeriods: 3, asyncRetries: 0 }).template();
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: Match.anyValue() } } });
    const alarm = (name: string) => t.hasResourceProperties('AWS::CloudWatch::Alarm', Match.objectLike({ AlarmName: name, AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'] }));
    alarm('pipestream-production-reconcile-errors');
    alarm('pipestream-production-reconcile-dead-letters');
    alarm('pipestream-production-reconcile-missed-schedule');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-reconcile-errors', EvaluationPeriods: 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-reconcile-missed-schedule', EvaluationPeriods: 3, TreatMissingData: 'breaching' });
  });

  it(`compiles a document above ${MAX_INLINE_CONFIG_BYTES} bytes into the bundle instead of the environment`, () => {
    const document = designDocument((doc) => {
      doc.targets[0] = { ...doc.targets[0]!, alarms: Array.from({ length: 120 }, (_, i) => `pipestream-production-engine-alarm-${i}`) } as never;
    });
    expect(Buffer.byteLength(JSON.stringify(document))).toBeGreaterThan(MAX_INLINE_CONFIG_BYTES);
    expect(functionProps(scaler({ document }).template()).Environment.Variables.MLSCALE_CONFIG).toBeUndefined();
  });

  it('bindTargets: describe only, or describe and change, exactly the targets; RegisterScalableTarget only for ECS desired counts', () => {
    const read = scaler();
    read.fn.bindTargets(designDocument().targets, { write: false });
    const readOnly = statementsOf(read.template(), 'ScalerRole');
    expect(allowing(readOnly, 'ecs:UpdateService')).toEqual([]);
    expect(allowing(readOnly, 'eks:UpdateNodegroupConfig')).toEqual([]);
    expect([allowing(readOnly, 'ecs:DescribeServices')[0]!.Resource].flat().sort()).toEqual([
      'arn:aws:ecs:eu-west-1:123456789012:service/pipestream/embedder',
      'arn:aws:ecs:eu-west-1:123456789012:service/pipestream/engine',
    ]);

    const write = scaler();
    write.fn.bindTargets(designDocument().targets, { write: true });
    const statements = statementsOf(write.template(), 'ScalerRole');
    expect(allowing(statements, 'ecs:UpdateService')).toHaveLength(1);
    expect(allowing(statements, 'eks:UpdateNodegroupConfig')[0]!.Resource).toBe('arn:aws:eks:eu-west-1:123456789012:nodegroup/ml-prod/gpu-workers/*');
    expect(allowing(statements, 'application-autoscaling:RegisterScalableTarget')[0]).toMatchObject({
      Resource: '*',
      Condition: { StringEquals: { 'application-autoscaling:service-namespace': 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' } },
    });
  });

  it('bindHolds, bindMetrics, bindAlarms, bindStateMachine: each grants exactly its calls', () => {
    const { stack, fn, template } = scaler();
    const table = dynamodb.Table.fromTableName(stack, 'Holds', 'pipestream-production-holds');
    fn.bindHolds(table, { write: false });
    fn.bindMetrics();
    fn.bindMetrics({ putNamespace: 'mlscale/Predictive' });
    fn.bindAlarms(['pipestream-production-engine-emergencyLatency', 'pipestream-production-engine-emergencyLatency']);
    fn.bindStateMachine('arn:aws:states:eu-west-1:123456789012:stateMachine:pipestream-production-emergency-scale-up', 'MLSCALE_EMERGENCY_RUNBOOK_ARN');
    const t = template();
    const statements = statementsOf(t, 'ScalerRole');
    const [holds] = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect([holds!.Action].flat().sort()).toEqual(['dynamodb:Query', 'dynamodb:Scan']);
    // GetMetricData once, however often it is asked for; PutMetricData into one namespace only.
    expect(allowing(statements, 'cloudwatch:GetMetricData')).toHaveLength(1);
    expect(allowing(statements, 'cloudwatch:PutMetricData')[0]).toMatchObject({ Condition: { StringEquals: { 'cloudwatch:namespace': 'mlscale/Predictive' } } });
    expect(allowing(statements, 'cloudwatch:DescribeAlarms')[0]!.Resource).toBe('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipestream-production-engine-emergencyLatency');
    expect(allowing(statements, 'states:StartExecution')[0]!.Resource).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:pipestream-production-emergency-scale-up');
    expect(functionProps(t).Environment.Variables.MLSCALE_EMERGENCY_RUNBOOK_ARN).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:pipestream-production-emergency-scale-up');
  });

  it('bindReconcile: targets, holds, and the metrics of scale-to-zero targets', () => {
    const { stack, fn, template } = scaler({ timeout: Duration.seconds(55), memorySize: 512, reservedConcurrentExecutions: 1 });
    fn.bindReconcile(designDocument().targets, dynamodb.Table.fromTableName(stack, 'Holds', 'pipestream-production-holds'));
    const t = template();
    expect(functionProps(t)).toMatchObject({ Timeout: 55, MemorySize: 512, ReservedConcurrentExecutions: 1 });
    const statements = statementsOf(t, 'ScalerRole');
    expect(allowing(statements, 'ecs:UpdateService')).toHaveLength(1);
    expect([allowing(statements, 'dynamodb:PutItem')[0]!.Resource].flat()).toContain('arn:aws:dynamodb:eu-west-1:123456789012:table/pipestream-production-holds');
    expect(allowing(statements, 'cloudwatch:GetMetricData')).toHaveLength(1);
  });
});
