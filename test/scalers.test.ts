import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTargetsJson } from '../lambdas/core/targets';
import { MAX_INLINE_CONFIG_BYTES } from '../lib/constructs/scaler-function';
import { exampleConfig, synth } from './util';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let template: Template;

beforeAll(() => {
  template = synth(exampleConfig(), 'production').template;
});

/** The one scaler function whose logical ID starts with `prefix`. */
function fn(prefix: string): [string, Props] {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return [found[0]![0], (found[0]![1] as { Properties: Props }).Properties];
}

function policyStatements(rolePrefix: string): Props[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(rolePrefix));
  expect(policies).toHaveLength(1);
  return (policies[0]![1] as { Properties: Props }).Properties.PolicyDocument.Statement;
}

function actionsOn(statements: Props[], action: string): Props[] {
  return statements.filter((s) => [s.Action].flat().includes(action));
}

describe('Scalers: common function settings', () => {
  it.each([
    ['ScaleToZeroScalerFunction', 256, 55, 1],
    ['EmergencyScalerFunction', 256, 60, undefined],
    ['PredictiveScalerFunction', 512, 300, 1],
  ])('%s runs Node.js 22 on arm64 with %d MB, %d s, reserved concurrency %s', (prefix, memory, timeout, reserved) => {
    const [, props] = fn(prefix);
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.MemorySize).toBe(memory);
    expect(props.Timeout).toBe(timeout);
    expect(props.ReservedConcurrentExecutions).toBe(reserved);
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    expect(props.Environment.Variables.AWS_MAX_ATTEMPTS).toBe('1');
  });

  it('gives every function the rendered targets document (the DESIGN.md contract)', () => {
    const [, props] = fn('ScaleToZeroScalerFunction');
    const doc = parseTargetsJson(props.Environment.Variables.MLSCALE_CONFIG);
    expect(doc.targets.map((t) => [t.name, t.kind, t.pool, t.minCapacity, t.maxCapacity])).toEqual([
      ['engine', 'ecs-service', 'always-on', 2, 10],
      ['cpu-modules', 'ecs-service', 'demand', 1, 20],
      ['gpu-modules', 'ecs-service', 'scale-to-zero', 0, 5],
    ]);
    const gpu = doc.targets.find((t) => t.name === 'gpu-modules')!;
    expect(gpu).toMatchObject({
      cluster: 'pipestream-production',
      service: 'gpu-modules',
      idleMinutes: 5,
      work: { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'gpu-modules' }, statistic: 'Maximum' },
    });
    expect(doc.targets.find((t) => t.name === 'engine')!.alarms).toEqual(['pipestream-production-engine-emergencyLatency']);
  });

  it('sends failed async invocations to an encrypted, SSL-only dead-letter queue', () => {
    for (const prefix of ['ScaleToZeroScalerFunction', 'EmergencyScalerFunction', 'PredictiveScalerFunction']) {
      const [id] = fn(prefix);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
    // One per scaler, and one for the runbook planner.
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 4);
  });

  it('watches itself: errors, dead letters and missed schedules alarm to the topic', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: Props }).Properties.AlarmName);
    for (const name of [
      'pipestream-production-scale-to-zero-errors',
      'pipestream-production-scale-to-zero-dead-letters',
      'pipestream-production-scale-to-zero-missed-schedule',
      'pipestream-production-emergency-errors',
      'pipestream-production-predictive-missed-schedule',
    ]) {
      expect(names).toContain(name);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-scale-to-zero-missed-schedule',
      MetricName: 'Invocations',
      Namespace: 'AWS/Lambda',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Period: 60,
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-scale-to-zero-errors',
      MetricName: 'Errors',
      EvaluationPeriods: 3,
    });
  });
});

describe('Scalers: scale-to-zero', () => {
  it('runs every minute from an EventBridge schedule', () => {
    const [id] = fn('ScaleToZeroScalerFunction');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('is woken at once by an alarm on the GPU pool work metric (> 0, 1 of 1)', () => {
    const [id] = fn('ScaleToZeroScalerFunction');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-gpu-modules-work-present',
      Namespace: 'Pipestream/Kafka',
      MetricName: 'ConsumerLag',
      Dimensions: [{ Name: 'ConsumerGroup', Value: 'gpu-modules' }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ 'Fn::GetAtt': [id, 'Arn'] }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [id, 'Arn'] },
      Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
    });
  });

  it('may update only the scale-to-zero service', () => {
    const statements = actionsOn(policyStatements('ScaleToZeroScalerRole'), 'ecs:UpdateService');
    expect(statements).toHaveLength(1);
    const resources = JSON.stringify(statements[0]!.Resource);
    expect(resources).toContain(':service/pipestream-production/gpu-modules');
    expect(resources).not.toContain('/engine');
    expect(resources).not.toContain('/cpu-modules');
  });
});

describe('Scalers: emergency', () => {
  it('keeps incidents in a DynamoDB table with point-in-time recovery, conditional writes only', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    const [, props] = fn('EmergencyScalerFunction');
    expect(props.Environment.Variables.MLSCALE_INCIDENT_TABLE).toEqual({ Ref: expect.stringMatching(/^EmergencyIncidents/) });
    const ddb = policyStatements('EmergencyScalerRole').filter((s) => String(s.Action).includes('dynamodb'));
    expect(ddb.flatMap((s) => [s.Action].flat()).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  it('is not triggered by the alarm directly: the emergency runbook takes the alarm and calls it', () => {
    const [id] = fn('EmergencyScalerFunction');
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as { Properties: Props }[];
    expect(rules.some((r) => JSON.stringify(r.Properties.Targets ?? []).includes(id))).toBe(false);
  });

  it('may update the emergency-enabled services, not the scale-to-zero one', () => {
    const resources = JSON.stringify(actionsOn(policyStatements('EmergencyScalerRole'), 'ecs:UpdateService')[0]!.Resource);
    expect(resources).toContain('/engine');
    expect(resources).toContain('/cpu-modules');
    expect(resources).not.toContain('/gpu-modules');
    const aas = actionsOn(policyStatements('EmergencyScalerRole'), 'application-autoscaling:RegisterScalableTarget');
    expect(aas).toHaveLength(1);
  });
});

describe('Scalers: predictive', () => {
  it('runs hourly and may write only its own metric namespace', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    const put = actionsOn(policyStatements('PredictiveScalerRole'), 'cloudwatch:PutMetricData');
    expect(put).toEqual([expect.objectContaining({ Condition: { StringEquals: { 'cloudwatch:namespace': 'mlscale/Predictive' } } })]);
    const scheduled = actionsOn(policyStatements('PredictiveScalerRole'), 'application-autoscaling:PutScheduledAction');
    expect(scheduled).toHaveLength(1);
    expect(JSON.stringify(policyStatements('PredictiveScalerRole'))).not.toContain('ecs:UpdateService');
  });

  it('is left out when no pool is predictive and none has events or peak hours', () => {
    const config = exampleConfig();
    for (const pool of config.pools) pool.predictive = { enabled: false };
    config.plannedEvents = [];
    config.peakHours = [];
    const t = synth(config, 'production').template;
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('Predictive'))).toEqual([]);
  });
});

describe('Scalers: a large targets document', () => {
  it(`is compiled into the bundle instead of the environment above ${MAX_INLINE_CONFIG_BYTES} bytes`, () => {
    const config = exampleConfig();
    // Many planned events make the document large without changing anything else.
    config.plannedEvents = Array.from({ length: 40 }, (_, i) => ({
      name: `event-${String(i).padStart(2, '0')}`,
      pool: 'engine',
      start: '2027-01-01T10:00:00Z',
      end: '2027-01-01T12:00:00Z',
      replicas: 6,
    }));
    const t = synth(config, 'production').template;
    const props = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('PredictiveScalerFunction'))![1] as {
      Properties: Props;
    };
    expect(props.Properties.Environment.Variables.MLSCALE_CONFIG).toBeUndefined();
  });
});
