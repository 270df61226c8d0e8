import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTargetsJson } from '../lambdas/core/config/document';
import { MAX_INLINE_CONFIG_BYTES } from '../lib/constructs/scaler-function';
import { deployed } from './templates';
import { exampleConfig, synth } from './util';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let template: Template;

beforeAll(() => {
  template = deployed('default').template;
});

/** The one Lambda function whose logical ID starts with `prefix`. */
function fn(prefix: string): [string, Props] {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return [found[0]![0], (found[0]![1] as { Properties: Props }).Properties];
}

/** Statements of the default policy of the role whose logical ID starts with `rolePrefix`. */
function policyStatements(rolePrefix: string, t: Template = template): Props[] {
  const policies = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(rolePrefix));
  expect(policies, rolePrefix).toHaveLength(1);
  return (policies[0]![1] as { Properties: Props }).Properties.PolicyDocument.Statement;
}

function actionsOn(statements: Props[], action: string): Props[] {
  return statements.filter((s) => [s.Action].flat().includes(action));
}

const FUNCTIONS = ['ReconcilerFunction', 'EmergencyFunction', 'PredictiveFunction', 'RunbooksPlanner'] as const;

describe('Scalers: common function settings', () => {
  it.each([
    ['ReconcilerFunction', 512, 55, 1],
    ['EmergencyFunction', 256, 60, undefined],
    ['PredictiveFunction', 512, 300, 1],
    ['RunbooksPlanner', 256, 30, undefined],
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

  it('gives every function the rendered targets document, which carries everything a handler needs', () => {
    for (const prefix of FUNCTIONS) {
      const [, props] = fn(prefix);
      const vars = props.Environment.Variables as Record<string, unknown>;
      const doc = parseTargetsJson(vars.MLSCALE_CONFIG as string);
      expect(doc.targets.map((t) => [t.name, t.kind, t.pool, t.minCapacity, t.maxCapacity])).toEqual([
        ['engine', 'ecs-service', 'always-on', 2, 10],
        ['cpu-modules', 'ecs-service', 'demand', 1, 20],
        ['gpu-modules', 'ecs-service', 'scale-to-zero', 0, 5],
      ]);
      expect(doc).toMatchObject({ holdsTable: 'pipestream-production-holds', emergency: { stableMinutes: 15 } });
      // No side variables: the document is the configuration (the runbook Lambda also gets the emergency runbook's ARN).
      expect(Object.keys(vars).filter((k) => k.startsWith('MLSCALE_')).sort()).toEqual(
        prefix === 'RunbooksPlanner' ? ['MLSCALE_CONFIG', 'MLSCALE_EMERGENCY_RUNBOOK_ARN'] : ['MLSCALE_CONFIG'],
      );
    }
  });

  it('sends failed async invocations to an encrypted, SSL-only dead-letter queue; the reconciler never retries a minute', () => {
    for (const prefix of FUNCTIONS) {
      const [id] = fn(prefix);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id },
        MaximumRetryAttempts: prefix === 'ReconcilerFunction' ? 0 : 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 4);
  });

  it('watches itself: errors, dead letters and missed schedules alarm to the topic', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: Props }).Properties.AlarmName);
    for (const scaler of ['reconcile', 'emergency', 'predictive', 'runbook']) {
      expect(names).toContain(`pipestream-production-${scaler}-errors`);
      expect(names).toContain(`pipestream-production-${scaler}-dead-letters`);
    }
    expect(names).toContain('pipestream-production-reconcile-missed-schedule');
    expect(names).toContain('pipestream-production-predictive-missed-schedule');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-reconcile-errors',
      EvaluationPeriods: 3,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('^NotificationsTopic') })],
    });
  });
});

describe('Scalers: the holds table', () => {
  it('is named for the environment, keyed by target and holder, expires holds by TTL, and is retained with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        TableName: 'pipestream-production-holds',
        KeySchema: [
          { AttributeName: 'target', KeyType: 'HASH' },
          { AttributeName: 'holder', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    // No other table: incidents are emergency holds now.
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });
});

describe('Scalers: the reconciler', () => {
  it('runs every minute from an EventBridge schedule, with no retries', () => {
    const [id] = fn('ReconcilerFunction');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  it('is run at once by an alarm on the GPU pool work metric (> 0, 1 of 1, no data is no work)', () => {
    const [id] = fn('ReconcilerFunction');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-gpu-modules-work-present',
      MetricName: 'ConsumerLag',
      Namespace: 'Pipestream/Kafka',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ 'Fn::GetAtt': [id, 'Arn'] }],
    });
  });

  it('alarms per target on its reconcile errors and on drift (3 of 3 minutes)', () => {
    for (const target of ['engine', 'cpu-modules', 'gpu-modules']) {
      for (const [suffix, metric] of [
        ['reconcile-errors', 'TargetErrors'],
        ['drift', 'Drift'],
      ] as const) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `pipestream-production-${target}-${suffix}`,
          Namespace: 'mlscale',
          MetricName: metric,
          Dimensions: Match.arrayWith([{ Name: 'Target', Value: target }]),
          EvaluationPeriods: 3,
          TreatMissingData: 'notBreaching',
        });
      }
    }
  });

  it('may change exactly the managed services, and register scalable targets only for ECS desired counts', () => {
    const statements = policyStatements('ReconcilerFunctionRole');
    const updates = actionsOn(statements, 'ecs:UpdateService');
    expect(updates).toHaveLength(1);
    expect(JSON.stringify(updates[0]!.Resource)).toMatch(/service\/pipestream-production\/engine/);
    expect([updates[0]!.Resource].flat()).toHaveLength(3);
    const [register] = actionsOn(statements, 'application-autoscaling:RegisterScalableTarget');
    expect(register).toMatchObject({
      Resource: '*',
      Condition: { StringEquals: { 'application-autoscaling:service-namespace': 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' } },
    });
    // Reads and writes the holds table; nothing else of DynamoDB.
    const [holds] = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect([holds!.Action].flat().sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan']);
    expect(actionsOn(statements, 'cloudwatch:GetMetricData')).toHaveLength(1);
  });
});

describe('Scalers: emergency', () => {
  it('writes holds and reconciles only the emergency-enabled services', () => {
    const statements = policyStatements('EmergencyFunctionRole');
    const services = JSON.stringify(actionsOn(statements, 'ecs:UpdateService')[0]!.Resource);
    expect(services).toContain('engine');
    expect(services).toContain('cpu-modules');
    expect(services).not.toContain('gpu-modules');
    expect(statements.some((s) => [s.Action].flat().includes('dynamodb:PutItem'))).toBe(true);
    // Not triggered by the alarm directly: the emergency runbook takes the alarm and calls it.
    const [id] = fn('EmergencyFunction');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r).includes(id));
    expect(rules).toEqual([]);
  });
});

describe('Scalers: predictive', () => {
  it('runs hourly, may write only its own metric namespace, and reconciles only its targets', () => {
    const [id] = fn('PredictiveFunction');
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })] });
    const statements = policyStatements('PredictiveFunctionRole');
    expect(actionsOn(statements, 'cloudwatch:PutMetricData')[0]).toMatchObject({ Condition: { StringEquals: { 'cloudwatch:namespace': 'mlscale/Predictive' } } });
    const services = JSON.stringify(actionsOn(statements, 'ecs:UpdateService')[0]!.Resource);
    expect(services).toContain('engine');
    expect(services).not.toContain('gpu-modules');
    // No scheduled actions any more: floors are holds.
    expect(statements.some((s) => JSON.stringify(s.Action).includes('ScheduledAction'))).toBe(false);
  });
});

describe('Scalers: the notification topic and its key', () => {
  it('lets CloudWatch and EventBridge use the key for this account only', () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key')) as { Properties: Props }[];
    const services = (key!.Properties.KeyPolicy.Statement as Props[]).filter((s) => s.Principal?.Service);
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
  });

  it('lets CloudWatch alarms publish though the SSL-only policy replaces the default one', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'AllowCloudWatchAlarms', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
        ]),
      },
    });
  });

  it('lets the runbooks publish: sns:Publish and the topic key (kms:GenerateDataKey*, kms:Decrypt)', () => {
    for (const machine of ['RunbooksScaleForEventStateMachineRole', 'RunbooksEmergencyScaleUpStateMachineRole']) {
      const statements = policyStatements(machine);
      expect(actionsOn(statements, 'sns:Publish')).toHaveLength(1);
      const [kms] = statements.filter((s) => [s.Action].flat().includes('kms:GenerateDataKey*'));
      expect([kms!.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(kms!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NotificationsKey/), 'Arn'] });
      // They change nothing directly: holds, through the runbook Lambda.
      expect(statements.some((s) => [s.Action].flat().some((a: string) => a.startsWith('application-autoscaling:') || a === 'ecs:UpdateService'))).toBe(false);
    }
  });

  it("scopes the GPU instances' ECS agent polling to their cluster", () => {
    const statements = policyStatements('gpumodulesgpucapacityInstancesInstanceRole');
    expect(actionsOn(statements, 'ecs:Poll')[0]).toMatchObject({ Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^PlatformCluster/), 'Arn'] } } } });
  });
});

describe('Scalers: a large targets document', () => {
  it(`is compiled into the bundle instead of the environment above ${MAX_INLINE_CONFIG_BYTES} bytes`, () => {
    const config = exampleConfig();
    config.plannedEvents = Array.from({ length: 40 }, (_, i) => ({
      name: `event-${String(i).padStart(2, '0')}`,
      pool: 'engine',
      start: '2030-01-01T10:00:00Z',
      end: '2030-01-01T12:00:00Z',
      replicas: 6,
    }));
    const big = synth(config, 'production').template;
    const props = Object.entries(big.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ReconcilerFunction'))![1] as { Properties: Props };
    expect(props.Properties.Environment.Variables.MLSCALE_CONFIG).toBeUndefined();
  });
});
