/** The IAM model itself: evaluator, resolver, KMS rule and request mapping, checked so the contract tests cannot pass vacuously. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeholderArn } from '../runbooks/definition';
import { authorize } from './kms';
import {
  ACCOUNT,
  conditionsHold,
  environmentOf,
  evaluate,
  type IamRequest,
  parseStatements,
  type Principal,
  principalFromTemplate,
  principalOfFunction,
  REGION,
  resolve,
  servicePrincipal,
} from './policy';
import { isMapped, NODEGROUP_UUID, requestsFor, requestsForTask } from './requests';

const EMPTY = Template.fromJSON({ Resources: {} });

/** A role principal with hand-written identity statements. */
function principalWith(statements: readonly Record<string, unknown>[]): Principal {
  return {
    kind: 'role',
    name: 'hand-written',
    arn: `arn:aws:iam::${ACCOUNT}:role/hand-written`,
    assumedBy: ['lambda.amazonaws.com'],
    statements: parseStatements(EMPTY, { Statement: statements }, 'test'),
    context: { 'aws:SecureTransport': 'true' },
    template: EMPTY,
  };
}

const req = (action: string, resources: string[] = ['*'], context: Record<string, string> = {}): IamRequest => ({ action, resources, context });
const allowed = (p: Principal, r: IamRequest) => evaluate(p, r).allowed;

describe('evaluate: actions and resources', () => {
  const p = principalWith([
    { Effect: 'Allow', Action: ['ecs:Describe*', 'application-autoscaling:DescribeScalableTargets'], Resource: '*' },
    { Effect: 'Allow', Action: 'ecs:UpdateService', Resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/gpu-?` },
    { Effect: 'Allow', Action: 'eks:DescribeNodegroup', Resource: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/prod/gpu/*` },
  ]);
  const service = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/${name}`;

  it('matches actions case-insensitively, with * and ?', () => {
    expect(allowed(p, req('ecs:DescribeServices', [service('x')]))).toBe(true);
    expect(allowed(p, req('ECS:describeservices', [service('x')]))).toBe(true);
    expect(allowed(p, req('ecs:UpdateService', [service('gpu-a')]))).toBe(true);
    expect(allowed(p, req('ecs:UpdateService', [service('gpu-ab')]))).toBe(false);
    expect(allowed(p, req('application-autoscaling:RegisterScalableTarget'))).toBe(false);
  });

  it('matches resources case-sensitively; a statement scoped to ARNs does not cover a `*` request', () => {
    expect(allowed(p, req('ecs:UpdateService', [service('GPU-a')]))).toBe(false);
    expect(allowed(p, req('ecs:UpdateService', ['*']))).toBe(false);
    expect(allowed(p, req('eks:DescribeNodegroup', [`arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/prod/gpu/${NODEGROUP_UUID}`]))).toBe(true);
    expect(allowed(p, req('eks:DescribeNodegroup', [`arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/prod/cpu/${NODEGROUP_UUID}`]))).toBe(false);
  });

  it('needs every resource of a request allowed, and names the first one denied', () => {
    const d = evaluate(p, req('ecs:UpdateService', [service('gpu-a'), service('engine')]));
    expect(d).toMatchObject({ allowed: false, deniedResource: service('engine') });
    expect(d.reason).toContain('no identity-based policy');
  });

  it('lets an explicit Deny win over any Allow', () => {
    const withDeny = principalWith([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'ecs:Update*', Resource: service('engine'), Sid: 'NoEngine' },
    ]);
    expect(allowed(withDeny, req('ecs:UpdateService', [service('gpu-a')]))).toBe(true);
    expect(evaluate(withDeny, req('ecs:UpdateService', [service('engine')]))).toMatchObject({ allowed: false, explicitDeny: true });
    expect(evaluate(withDeny, req('ecs:UpdateService', [service('engine')])).reason).toContain('test[NoEngine]');
  });

  it('refuses what it cannot model instead of guessing', () => {
    expect(() => principalWith([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }])).toThrow('NotAction is not supported');
    expect(() => principalWith([{ Effect: 'Allow', Action: '*', NotResource: '*' }])).toThrow('NotResource is not supported');
    const variable = principalWith([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' }]);
    expect(() => evaluate(variable, req('s3:GetObject', ['arn:aws:s3:::b/x/y']))).toThrow('policy variables are not supported');
  });
});

describe('evaluate: conditions', () => {
  const allow = (condition: Record<string, unknown>) => principalWith([{ Effect: 'Allow', Action: 'x:Do', Resource: '*', Condition: condition }]);
  const check = (condition: Record<string, unknown>, context: Record<string, string>) => allowed(allow(condition), req('x:Do', ['*'], context));
  const ns = 'application-autoscaling:service-namespace';

  it('StringEquals: exact and case-sensitive; any listed value; a missing key is false', () => {
    expect(check({ StringEquals: { [ns]: 'ecs' } }, { [ns]: 'ecs' })).toBe(true);
    expect(check({ StringEquals: { [ns]: 'ecs' } }, { [ns]: 'ECS' })).toBe(false);
    expect(check({ StringEquals: { [ns]: ['dynamodb', 'ecs'] } }, { [ns]: 'ecs' })).toBe(true);
    expect(check({ StringEquals: { [ns]: 'ecs' } }, {})).toBe(false);
  });

  it('condition keys are case-insensitive; every key and every operator must hold', () => {
    expect(check({ StringEquals: { 'Application-AutoScaling:Service-Namespace': 'ecs' } }, { [ns]: 'ecs' })).toBe(true);
    const both = { StringEquals: { [ns]: 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' } };
    expect(check(both, { [ns]: 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' })).toBe(true);
    expect(check(both, { [ns]: 'ecs' })).toBe(false);
    expect(check({ StringEquals: { [ns]: 'ecs' }, Bool: { 'aws:SecureTransport': 'true' } }, { [ns]: 'ecs', 'aws:SecureTransport': 'false' })).toBe(false);
  });

  it('StringLike: wildcards', () => {
    expect(check({ StringLike: { 'cloudwatch:namespace': 'mlscale/*' } }, { 'cloudwatch:namespace': 'mlscale/Predictive' })).toBe(true);
    expect(check({ StringLike: { 'cloudwatch:namespace': 'mlscale/?' } }, { 'cloudwatch:namespace': 'mlscale/ab' })).toBe(false);
    expect(check({ StringLike: { 'cloudwatch:namespace': 'mlscale/*' } }, {})).toBe(false);
  });

  it('StringNotEquals: true when no value matches, and when the key is missing', () => {
    expect(check({ StringNotEquals: { [ns]: 'ecs' } }, { [ns]: 'dynamodb' })).toBe(true);
    expect(check({ StringNotEquals: { [ns]: ['ecs', 'dynamodb'] } }, { [ns]: 'dynamodb' })).toBe(false);
    expect(check({ StringNotEquals: { [ns]: 'ecs' } }, {})).toBe(true);
  });

  it('ArnLike and ArnEquals: wildcards within each ARN field', () => {
    const cluster = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
    expect(check({ ArnLike: { 'ecs:cluster': `arn:aws:ecs:*:${ACCOUNT}:cluster/*` } }, { 'ecs:cluster': cluster })).toBe(true);
    expect(check({ ArnEquals: { 'ecs:cluster': cluster } }, { 'ecs:cluster': cluster })).toBe(true);
    expect(check({ ArnEquals: { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other` } }, { 'ecs:cluster': cluster })).toBe(false);
    // `*` in the region field does not swallow the account field.
    expect(check({ ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:cluster/prod' } }, { 'ecs:cluster': cluster })).toBe(false);
    expect(check({ ArnLike: { 'ecs:cluster': `arn:aws:ecs:*:${ACCOUNT}:cluster/*` } }, { 'ecs:cluster': 'not-an-arn' })).toBe(false);
    expect(check({ ArnLike: { 'ecs:cluster': `arn:aws:ecs:*:${ACCOUNT}:cluster/*` } }, {})).toBe(false);
  });

  it('Bool: case-insensitive true/false; a missing key is false', () => {
    expect(check({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'TRUE' })).toBe(true);
    expect(check({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(false);
    expect(check({ Bool: { 'aws:ViaAWSService': 'true' } }, {})).toBe(false);
  });

  it('...IfExists: true when the key is missing, the base operator when it is present', () => {
    expect(check({ StringEqualsIfExists: { [ns]: 'ecs' } }, {})).toBe(true);
    expect(check({ StringEqualsIfExists: { [ns]: 'ecs' } }, { [ns]: 'dynamodb' })).toBe(false);
    expect(check({ StringLikeIfExists: { [ns]: 'e*' } }, { [ns]: 'ecs' })).toBe(true);
    expect(check({ ArnLikeIfExists: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/prod' } }, {})).toBe(true);
    expect(check({ BoolIfExists: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' })).toBe(false);
    expect(check({ StringNotEqualsIfExists: { [ns]: 'ecs' } }, { [ns]: 'ecs' })).toBe(false);
  });

  it('applies conditions to Deny statements too: a Deny whose condition fails does not deny', () => {
    const p = principalWith([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
      { Effect: 'Deny', Action: 'sns:Publish', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    expect(allowed(p, req('sns:Publish', ['arn:aws:sns:eu-west-1:123456789012:t']))).toBe(true);
    expect(allowed(p, req('sns:Publish', ['arn:aws:sns:eu-west-1:123456789012:t'], { 'aws:SecureTransport': 'false' }))).toBe(false);
  });

  it('throws for operators it does not implement', () => {
    expect(() => conditionsHold({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } }, {})).toThrow('unsupported condition operator ForAnyValue:StringEquals');
    expect(() => conditionsHold({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['a'] } }, {})).toThrow('unsupported');
    expect(() => conditionsHold({ NumericLessThan: { 'x:n': ['3'] } }, { 'x:n': '1' })).toThrow('unsupported condition operator NumericLessThan');
  });
});

describe('templates: principals, intrinsics, KMS', () => {
  let t: Template;
  const ids: Record<string, string> = {};

  beforeAll(() => {
    const stack = new Stack(new App(), 'IamModel');
    const key = new kms.Key(stack, 'TopicKey');
    const topic = new sns.Topic(stack, 'Alarms', { masterKey: key });
    const table = new dynamodb.Table(stack, 'Holds', {
      tableName: 'pipestream-production-holds',
      partitionKey: { name: 'target', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'holder', type: dynamodb.AttributeType.STRING },
    });
    const lambdaRole = () => ({ assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const publishOnly = (role: iam.Role) => role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));

    // Grants through IAM: CDK's grantPublish also grants the key (the account root statement lets IAM do so).
    const reader = new iam.Role(stack, 'Reader', {
      ...lambdaRole(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
      inlinePolicies: {
        metrics: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': 'mlscale' } } })],
        }),
      },
    });
    table.grantReadData(reader);
    topic.grantPublish(reader);

    // Named by the key policy, nothing about KMS in IAM.
    const namedByKey = new iam.Role(stack, 'NamedByKey', lambdaRole());
    publishOnly(namedByKey);
    key.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.ArnPrincipal(namedByKey.roleArn)], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }));

    // Only sns:Publish: the key policy's root statement alone must not let it through.
    publishOnly(new iam.Role(stack, 'PublishOnly', lambdaRole()));

    // GenerateDataKey but no Decrypt.
    const halfKey = new iam.Role(stack, 'HalfKey', lambdaRole());
    publishOnly(halfKey);
    halfKey.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey*'], resources: [key.keyArn] }));

    // A key whose policy does not delegate to IAM: IAM grants on it count for nothing.
    const strictKey = new kms.CfnKey(stack, 'StrictKey', {
      keyPolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }],
      },
    });
    const strictTopic = new sns.CfnTopic(stack, 'StrictTopic', { kmsMasterKeyId: strictKey.attrArn });
    const allOnStrict = new iam.Role(stack, 'AllOnStrict', lambdaRole());
    allOnStrict.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish', 'kms:*'], resources: [strictTopic.ref, strictKey.attrArn] }));
    new sns.CfnTopicPolicy(stack, 'StrictTopicPolicy', {
      topics: [strictTopic.ref],
      policyDocument: {
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: strictTopic.ref },
          { Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Resource: strictTopic.ref, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
      },
    });

    new iam.Role(stack, 'ReadOnly', { ...lambdaRole(), managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')] });

    const fn = new lambda.Function(stack, 'HoldsFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      environment: { HOLDS_TABLE: table.tableName, TOPIC: topic.topicArn, KEY: key.keyId, SUB: `${stack.account}/${stack.region}` },
    });
    table.grantReadWriteData(fn);

    t = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true });
    const idOf = (type: string, prefix: string) => {
      const found = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
      expect(found, `${type} ${prefix}`).toHaveLength(1);
      return found[0]!;
    };
    Object.assign(ids, {
      key: idOf('AWS::KMS::Key', 'TopicKey'),
      topic: idOf('AWS::SNS::Topic', 'Alarms'),
      table: idOf('AWS::DynamoDB::Table', 'Holds'),
      strictKey: 'StrictKey',
      strictTopic: 'StrictTopic',
      reader: idOf('AWS::IAM::Role', 'Reader'),
      namedByKey: idOf('AWS::IAM::Role', 'NamedByKey'),
      publishOnly: idOf('AWS::IAM::Role', 'PublishOnly'),
      halfKey: idOf('AWS::IAM::Role', 'HalfKey'),
      allOnStrict: idOf('AWS::IAM::Role', 'AllOnStrict'),
      readOnly: idOf('AWS::IAM::Role', 'ReadOnly'),
    });
  });

  const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/pipestream-production-holds`;
  const topicArn = () => resolve(t, { Ref: ids.topic });
  const keyArn = () => resolve(t, { 'Fn::GetAtt': [ids.key, 'Arn'] });

  describe('resolving intrinsics', () => {
    it('pseudo parameters, Fn::Join, Fn::Sub, Fn::Select/Fn::Split', () => {
      expect(resolve(t, { Ref: 'AWS::Region' })).toBe(REGION);
      expect(resolve(t, { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'iam', '', { Ref: 'AWS::AccountId' }, 'root']] })).toBe(`arn:aws:iam::${ACCOUNT}:root`);
      expect(resolve(t, { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q-${!Literal}' })).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:q-\${Literal}`);
      expect(resolve(t, { 'Fn::Sub': [`\${T}/x/\${${ids.table}.Arn}`, { T: { Ref: ids.table } }] })).toBe(`pipestream-production-holds/x/${tableArn}`);
      expect(resolve(t, { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
      expect(() => resolve(t, { 'Fn::If': ['C', 'a', 'b'] })).toThrow('unsupported intrinsic Fn::If');
    });

    it('Ref and Fn::GetAtt as CloudFormation returns them per type', () => {
      expect(resolve(t, { Ref: ids.table })).toBe('pipestream-production-holds');
      expect(resolve(t, { 'Fn::GetAtt': [ids.table, 'Arn'] })).toBe(tableArn);
      expect(topicArn()).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:${ids.topic}`);
      // The same placeholder the runbook definitions get, so a Task's TopicArn and a grant agree.
      expect(topicArn()).toBe(placeholderArn(t, ids.topic!));
      const keyId = resolve(t, { Ref: ids.key });
      expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(keyArn()).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`);
      expect(resolve(t, { 'Fn::GetAtt': [ids.reader, 'Arn'] })).toBe(`arn:aws:iam::${ACCOUNT}:role/${ids.reader}`);
    });

    it("a function's environment as deployed: table Refs are names, topic Refs ARNs", () => {
      expect(environmentOf(t, 'HoldsFunction')).toEqual({ HOLDS_TABLE: 'pipestream-production-holds', TOPIC: topicArn(), KEY: resolve(t, { Ref: ids.key }), SUB: `${ACCOUNT}/${REGION}` });
    });
  });

  describe('principals', () => {
    it('collects the attached policies, inline policies and known managed policies of a role', () => {
      const reader = principalFromTemplate(t, ids.reader!);
      expect(reader.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/${ids.reader}`);
      expect(reader.assumedBy).toEqual(['lambda.amazonaws.com']);
      expect(allowed(reader, req('dynamodb:GetItem', [tableArn]))).toBe(true);
      expect(allowed(reader, req('dynamodb:Query', [tableArn]))).toBe(true);
      expect(allowed(reader, req('dynamodb:PutItem', [tableArn]))).toBe(false);
      expect(allowed(reader, req('dynamodb:GetItem', [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/other`]))).toBe(false);
      expect(allowed(reader, req('logs:PutLogEvents', ['arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x:*']))).toBe(true);
      expect(allowed(reader, req('cloudwatch:PutMetricData', ['*'], { 'cloudwatch:namespace': 'mlscale' }))).toBe(true);
      expect(allowed(reader, req('cloudwatch:PutMetricData', ['*'], { 'cloudwatch:namespace': 'other' }))).toBe(false);
      expect(allowed(reader, req('cloudwatch:PutMetricData', ['*']))).toBe(false);
    });

    it("a function's principal is its role", () => {
      const p = principalOfFunction(t, 'HoldsFunction');
      expect(p.roleLogicalId).toMatch(/^HoldsFunctionServiceRole/);
      expect(allowed(p, req('dynamodb:PutItem', [tableArn]))).toBe(true);
      expect(allowed(p, req('sns:Publish', [topicArn()]))).toBe(false);
    });

    it('an AWS managed policy it does not know is an error, not a silent grant or denial', () => {
      expect(() => principalFromTemplate(t, ids.readOnly!)).toThrow('unknown managed policy arn:aws:iam::aws:policy/ReadOnlyAccess');
    });
  });

  describe('the KMS rule for publishing to an encrypted topic', () => {
    const publish = (role: string, topic = topicArn()) => authorize(principalFromTemplate(t, ids[role]!), req('sns:Publish', [topic]));

    it('allowed when IAM grants GenerateDataKey* and Decrypt on the key and the key policy lets IAM grant', () => {
      const a = publish('reader');
      expect(a.allowed, a.reason).toBe(true);
      expect(a.checks.map((c) => [c.action, c.resource])).toEqual([
        ['sns:Publish', topicArn()],
        ['kms:GenerateDataKey', keyArn()],
        ['kms:Decrypt', keyArn()],
      ]);
    });

    it('allowed when the key policy names the role, with nothing about KMS in IAM', () => {
      const a = publish('namedByKey');
      expect(a.allowed, a.reason).toBe(true);
      expect(a.reason).toContain('allowed by the key policy');
    });

    it('denied with only sns:Publish: the root statement only delegates to IAM, which grants nothing', () => {
      const p = principalFromTemplate(t, ids.publishOnly!);
      expect(evaluate(p, req('sns:Publish', [topicArn()])).allowed).toBe(true);
      const a = authorize(p, req('sns:Publish', [topicArn()]));
      expect(a).toMatchObject({ allowed: false, kmsDenied: true, deniedAction: 'kms:GenerateDataKey', deniedResource: keyArn(), policyType: 'identity-based' });
      expect(a.reason).toContain('only lets IAM policies grant it');
    });

    it('denied with GenerateDataKey* but no Decrypt', () => {
      expect(publish('halfKey')).toMatchObject({ allowed: false, kmsDenied: true, deniedAction: 'kms:Decrypt' });
    });

    it('denied when the key policy neither names the role nor delegates to IAM, whatever IAM says', () => {
      const strictTopic = resolve(t, { Ref: ids.strictTopic });
      const a = publish('allOnStrict', strictTopic);
      expect(a).toMatchObject({ allowed: false, kmsDenied: true, deniedAction: 'kms:GenerateDataKey', policyType: 'resource-based' });
      expect(a.reason).toContain('neither names');
    });

    it('an unencrypted publish needs no key; an unknown action on the key is still judged by the key policy', () => {
      const reader = principalFromTemplate(t, ids.reader!);
      expect(authorize(reader, req('kms:Decrypt', [keyArn()])).allowed).toBe(true);
      expect(authorize(reader, req('kms:ScheduleKeyDeletion', [keyArn()])).allowed).toBe(false);
    });

    it('a service principal needs the topic policy and the key policy to name it', () => {
      const strictTopic = resolve(t, { Ref: ids.strictTopic });
      expect(authorize(servicePrincipal(t, 'cloudwatch.amazonaws.com'), req('sns:Publish', [strictTopic])).allowed).toBe(true);
      expect(authorize(servicePrincipal(t, 'events.amazonaws.com'), req('sns:Publish', [strictTopic]))).toMatchObject({ allowed: false, deniedAction: 'sns:Publish', policyType: 'resource-based' });
      // The topic policy's SSL-only Deny applies to everyone.
      expect(authorize(servicePrincipal(t, 'cloudwatch.amazonaws.com', { 'aws:SecureTransport': 'false' }), req('sns:Publish', [strictTopic]))).toMatchObject({ allowed: false, explicitDeny: true });
      // The CDK topic has no topic policy: CloudWatch may not publish to it, and its key does not name CloudWatch either.
      expect(authorize(servicePrincipal(t, 'cloudwatch.amazonaws.com'), req('sns:Publish', [topicArn()])).allowed).toBe(false);
    });
  });
});

describe('requests: what AWS authorizes for a call', () => {
  const call = (service: string, operation: string, input: Record<string, unknown>) => requestsFor({ service, operation, input });
  const svc = (cluster: string, service: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${service}`;

  it('an operation with no mapping throws, so a new call cannot slip through', () => {
    expect(() => call('ECS', 'RunTask', {})).toThrow('no IAM mapping for ECS RunTask');
    expect(() => call('S3', 'GetObject', {})).toThrow('no IAM mapping for S3 GetObject');
    expect(() => requestsForTask('arn:aws:states:::ecs:runTask.sync', {})).toThrow('no IAM mapping for Task resource arn:aws:states:::ecs:runTask.sync');
    expect(() => requestsForTask('arn:aws:states:::aws-sdk:s3:getObject', {})).toThrow('no IAM mapping for Task resource');
  });

  it('ECS: service ARNs (camelCase from the SDK, PascalCase from Step Functions) with the cluster as condition key', () => {
    const expected = [{ action: 'ecs:DescribeServices', resources: [svc('prod', 'a'), svc('prod', 'b')], context: { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod` } }];
    expect(call('ECS', 'DescribeServices', { cluster: 'prod', services: ['a', 'b'] })).toEqual(expected);
    expect(requestsForTask('arn:aws:states:::aws-sdk:ecs:describeServices', { Cluster: 'prod', Services: ['a', 'b'] })).toEqual(expected);
    expect(call('ECS', 'UpdateService', { cluster: 'prod', service: 'a', desiredCount: 1 })[0]).toMatchObject({ action: 'ecs:UpdateService', resources: [svc('prod', 'a')] });
    expect(() => call('ECS', 'UpdateService', { cluster: 'prod' })).toThrow('input has no service');
  });

  it('Application Auto Scaling: `*` with the namespace and dimension as condition keys', () => {
    expect(call('Application Auto Scaling', 'RegisterScalableTarget', { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/prod/a' })).toEqual([
      {
        action: 'application-autoscaling:RegisterScalableTarget',
        resources: ['*'],
        context: { 'application-autoscaling:service-namespace': 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' },
      },
    ]);
    expect(requestsForTask('arn:aws:states:::aws-sdk:applicationautoscaling:describeScalableTargets', { ServiceNamespace: 'ecs' })[0]!.action).toBe(
      'application-autoscaling:DescribeScalableTargets',
    );
  });

  it('EKS: node group ARNs end in a fixed id that `.../*` grants match; ListNodegroups is on the cluster', () => {
    const [r] = call('EKS', 'UpdateNodegroupConfig', { clusterName: 'ml', nodegroupName: 'gpu', scalingConfig: {} });
    expect(r!.resources).toEqual([`arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/ml/gpu/${NODEGROUP_UUID}`]);
    expect(call('EKS', 'ListNodegroups', { clusterName: 'ml' })[0]!.resources).toEqual([`arn:aws:eks:${REGION}:${ACCOUNT}:cluster/ml`]);
    expect(requestsForTask('arn:aws:states:::aws-sdk:eks:describeNodegroup', { ClusterName: 'ml', NodegroupName: 'gpu' })[0]!.action).toBe('eks:DescribeNodegroup');
  });

  it('CloudWatch: alarm ARNs for DescribeAlarms (`*` without names), the namespace for PutMetricData', () => {
    expect(call('CloudWatch', 'DescribeAlarms', { AlarmNames: ['a', 'b'] })[0]!.resources).toEqual([
      `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:a`,
      `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:b`,
    ]);
    expect(call('CloudWatch', 'DescribeAlarms', {})[0]!.resources).toEqual(['*']);
    expect(call('CloudWatch', 'PutMetricData', { Namespace: 'mlscale/Predictive', MetricData: [] })[0]!.context).toEqual({ 'cloudwatch:namespace': 'mlscale/Predictive' });
    expect(call('CloudWatch', 'GetMetricData', {})[0]).toEqual({ action: 'cloudwatch:GetMetricData', resources: ['*'], context: {} });
  });

  it('DynamoDB, Step Functions, SNS, Lambda', () => {
    expect(call('DynamoDB', 'Scan', { TableName: 'holds' })[0]).toMatchObject({ action: 'dynamodb:Scan', resources: [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/holds`] });
    const machine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:m`;
    expect(call('SFN', 'StartExecution', { stateMachineArn: machine, name: 'x' })[0]).toMatchObject({ action: 'states:StartExecution', resources: [machine] });
    const execution = `arn:aws:states:${REGION}:${ACCOUNT}:execution:m:x`;
    expect(call('SFN', 'GetExecutionHistory', { executionArn: execution })[0]).toMatchObject({ action: 'states:GetExecutionHistory', resources: [execution] });
    expect(requestsForTask('arn:aws:states:::sns:publish', { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', Message: {} })).toEqual([
      { action: 'sns:Publish', resources: ['arn:aws:sns:eu-west-1:123456789012:t'], context: {} },
    ]);
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:planner`;
    expect(call('Lambda', 'Invoke', { FunctionName: 'planner' })[0]).toMatchObject({ action: 'lambda:InvokeFunction', resources: [fn] });
    expect(requestsForTask(fn, { action: 'plan' })).toEqual([{ action: 'lambda:InvokeFunction', resources: [fn], context: {} }]);
    expect(requestsForTask('arn:aws:states:::lambda:invoke', { FunctionName: fn, Qualifier: 'live' })[0]!.resources).toEqual([`${fn}:live`]);
    expect(requestsForTask('arn:aws:states:::dynamodb:putItem', { TableName: 'holds', Item: {} })[0]!.action).toBe('dynamodb:PutItem');
  });

  it('every command the code constructs (lambdas/, src/) has a mapping', () => {
    const root = path.join(__dirname, '..', '..');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        return statSync(full).isDirectory() ? files(full) : /\.ts$/.test(name) ? [full] : [];
      });
    const SERVICE_OF_PACKAGE: Record<string, string> = {
      'client-ecs': 'ECS',
      'client-eks': 'EKS',
      'client-application-auto-scaling': 'Application Auto Scaling',
      'client-cloudwatch': 'CloudWatch',
      'client-dynamodb': 'DynamoDB',
      'client-sfn': 'SFN',
      'client-sns': 'SNS',
      'client-lambda': 'Lambda',
      'client-auto-scaling': 'Auto Scaling',
    };
    const used = new Set<string>();
    for (const file of [...files(path.join(root, 'lambdas')), ...files(path.join(root, 'src'))]) {
      const text = readFileSync(file, 'utf8');
      const packageOf = new Map<string, string>();
      for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/([a-z-]+)'/g)) {
        for (const name of m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!)) packageOf.set(name, m[2]!);
      }
      for (const m of text.matchAll(/new (\w+)Command\(/g)) {
        const pkg = packageOf.get(`${m[1]}Command`);
        expect(pkg, `${path.relative(root, file)}: ${m[1]}Command is not imported from an @aws-sdk client`).toBeDefined();
        const service = SERVICE_OF_PACKAGE[pkg!];
        expect(service, `${path.relative(root, file)}: unknown SDK package ${pkg}`).toBeDefined();
        used.add(`${service} ${m[1]}`);
      }
    }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((op) => !isMapped(op.slice(0, op.lastIndexOf(' ')), op.slice(op.lastIndexOf(' ') + 1)))).toEqual([]);
  });
});

