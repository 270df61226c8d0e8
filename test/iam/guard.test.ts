/** The guard wired into send.ts and the runbook-model wrapper, on a hand-written template. */
import { ECSClient, RunTaskCommand, UpdateServiceCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeServices } from '../../lambdas/aws/ecs';
import { setServiceDesired } from '../../lambdas/aws/limits-writer';
import { send } from '../../lambdas/aws/send';
import {
  bindLambdaPrincipals,
  calls,
  deniedCalls,
  guardTask,
  harnessProblems,
  iamCheckedWorld,
  installIamGuard,
  isAccessDenied,
  principalForLambda,
  taskErrorName,
  uninstallIamGuard,
  withPrincipal,
  type World,
} from './guard';
import { ACCOUNT, principalFromTemplate, principalOfStateMachine, REGION } from './policy';

const SERVICE_A = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/a`;
const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const role = (service: string) => ({
  Type: 'AWS::IAM::Role',
  Properties: { AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] } },
});
const policy = (roleId: string, statements: unknown[]) => ({ Type: 'AWS::IAM::Policy', Properties: { PolicyName: `${roleId}Policy`, Roles: [{ Ref: roleId }], PolicyDocument: { Statement: statements } } });

/** A scaler Lambda, a runbook state machine and an encrypted topic whose key only delegates to IAM. */
const TEMPLATE = Template.fromJSON({
  Resources: {
    Key: {
      Type: 'AWS::KMS::Key',
      Properties: { KeyPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: join('arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root') }, Action: 'kms:*', Resource: '*' }] } },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: arnOf('Key') } },
    ScalerRole: role('lambda.amazonaws.com'),
    ScalerPolicy: policy('ScalerRole', [
      { Effect: 'Allow', Action: 'ecs:DescribeServices', Resource: join('arn:aws:ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':service/prod/a') },
      { Effect: 'Allow', Action: ['application-autoscaling:DescribeScalableTargets', 'sns:Publish'], Resource: '*' },
    ]),
    ScalerFunction1234: { Type: 'AWS::Lambda::Function', Properties: { Role: arnOf('ScalerRole') } },
    MachineRole: role('states.amazonaws.com'),
    MachinePolicy: policy('MachineRole', [
      { Effect: 'Allow', Action: 'ecs:DescribeServices', Resource: SERVICE_A },
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [arnOf('ScalerFunction1234'), join(arnOf('ScalerFunction1234'), ':*')] },
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'Topic' } },
    ]),
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'prod-runbook', RoleArn: arnOf('MachineRole') } },
  },
});

const ecs = mockClient(ECSClient);
const sns = mockClient(SNSClient);
const scaler = () => principalForLambda(TEMPLATE, 'ScalerFunction');
const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:Topic`;

describe('the SDK call guard', () => {
  beforeEach(() => {
    ecs.reset();
    sns.reset();
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'a', status: 'ACTIVE', desiredCount: 1 }] });
    ecs.on(UpdateServiceCommand).resolves({});
    installIamGuard(TEMPLATE);
  });
  afterEach(() => {
    // Tests that misuse the harness on purpose clear the problems first.
    uninstallIamGuard();
  });

  it('lets a granted call through to the client and records it', async () => {
    const read = await withPrincipal(scaler(), () => describeServices([{ cluster: 'prod', service: 'a' }]));
    expect([...read.found.keys()]).toEqual(['service/prod/a']);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(calls()).toEqual([
      expect.objectContaining({ principal: 'ScalerRole', via: 'sdk', call: 'ECS DescribeServices', action: 'ecs:DescribeServices', resource: SERVICE_A, allowed: true }),
    ]);
  });

  it('fails a call without a grant as AWS does, before it reaches the client', async () => {
    const err = await withPrincipal(scaler(), () => setServiceDesired({ cluster: 'prod', service: 'a' }, 2)).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/ScalerRole/x is not authorized to perform: ecs:UpdateService on resource: ${SERVICE_A} because no identity-based policy allows the ecs:UpdateService action`,
    });
    expect(isAccessDenied(err)).toBe(true);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(deniedCalls()).toEqual([expect.objectContaining({ action: 'ecs:UpdateService', resource: SERVICE_A, allowed: false })]);
  });

  it('applies the KMS rule: sns:Publish granted but not the key is KMSAccessDeniedException', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const client = new SNSClient({ region: REGION });
    const err = await withPrincipal(scaler(), () => send(client, new PublishCommand({ TopicArn: topicArn, Message: 'x' }))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KMSAccessDeniedException', message: expect.stringContaining('is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:') });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(calls().map((c) => [c.action, c.allowed])).toEqual([
      ['sns:Publish', true],
      ['kms:GenerateDataKey', false],
    ]);
  });

  it('refuses calls outside any principal and operations with no mapping, and uninstall reports them even when swallowed', async () => {
    const read = await describeServices([{ cluster: 'prod', service: 'a' }]);
    expect(read.failed.get('service/prod/a')?.message).toContain('AWS call outside any principal: ECS DescribeServices');
    await expect(withPrincipal(scaler(), () => send(new ECSClient({ region: REGION }), new RunTaskCommand({ taskDefinition: 'x' })))).rejects.toThrow('no IAM mapping for ECS RunTask');
    expect(ecs).not.toHaveReceivedAnyCommand();
    expect(harnessProblems()).toHaveLength(2);
    expect(() => uninstallIamGuard()).toThrow(/AWS call outside any principal.*no IAM mapping for ECS RunTask/);
    // The throw cleared them; reinstall so afterEach has a guard to remove.
    installIamGuard(TEMPLATE);
  });

  it('keeps principals apart across concurrent async work', async () => {
    const machine = principalOfStateMachine(TEMPLATE, 'prod-runbook');
    const both = await Promise.allSettled([
      withPrincipal(scaler(), () => setServiceDesired({ cluster: 'prod', service: 'a' }, 1)),
      withPrincipal(machine, () => describeServices([{ cluster: 'prod', service: 'a' }])),
    ]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(calls().map((c) => [c.principal, c.action, c.allowed])).toEqual(
      expect.arrayContaining([
        ['ScalerRole', 'ecs:UpdateService', false],
        ['MachineRole', 'ecs:DescribeServices', true],
      ]),
    );
  });
});

describe('state machine Tasks', () => {
  const machine = () => principalOfStateMachine(TEMPLATE, 'prod-runbook');

  it('guardTask passes granted Tasks and fails the others with a Step Functions error name', () => {
    expect(() => guardTask(machine(), 'arn:aws:states:::aws-sdk:ecs:describeServices', { Cluster: 'prod', Services: ['a'] })).not.toThrow();
    expect(() => guardTask(machine(), 'arn:aws:states:::aws-sdk:ecs:updateService', { Cluster: 'prod', Service: 'a', DesiredCount: 2 })).toThrow(
      expect.objectContaining({ name: 'Ecs.AccessDeniedException', message: expect.stringContaining('assumed-role/MachineRole/x is not authorized to perform: ecs:UpdateService') }),
    );
    expect(() => guardTask(machine(), 'arn:aws:states:::sns:publish', { TopicArn: topicArn, Message: {} })).toThrow(expect.objectContaining({ name: 'Sns.KMSAccessDeniedException' }));
    expect(taskErrorName('arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget')).toBe('ApplicationAutoScaling.AccessDeniedException');
  });

  /** Just enough of the runbook model: records what reaches it, serves `lambda:<name>` from `lambdas`. */
  function fakeWorld(): { world: World; served: string[] } {
    const served: string[] = [];
    const lambdas = new Map<string, (payload: unknown) => Promise<unknown>>();
    const world = {
      lambdas,
      async invoke(call: string, input: unknown): Promise<unknown> {
        served.push(call);
        const fn = call.startsWith('lambda:') ? lambdas.get(call.slice('lambda:'.length)) : undefined;
        return fn ? fn(input) : { ok: call };
      },
    } as unknown as World;
    return { world, served };
  }

  it('iamCheckedWorld checks the state machine role per Task and the Lambda role per Lambda call', async () => {
    const { world, served } = fakeWorld();
    const checked = iamCheckedWorld(world, TEMPLATE, 'prod-runbook', { lambdas: { scaler: 'ScalerFunction' } });
    checked.lambdas.set('scaler', async () => {
      await checked.invoke('applicationautoscaling:describeScalableTargets', { ServiceNamespace: 'ecs', ResourceIds: ['service/prod/a'] }, 'lambda');
      return checked.invoke('applicationautoscaling:registerScalableTarget', { ServiceNamespace: 'ecs', ResourceId: 'service/prod/a', MinCapacity: 2 }, 'lambda');
    });
    bindLambdaPrincipals(checked, TEMPLATE, { scaler: 'ScalerFunction' });

    await expect(checked.invoke('ecs:describeServices', { Cluster: 'prod', Services: ['a'] }, 'state-machine')).resolves.toEqual({ ok: 'ecs:describeServices' });
    await expect(checked.invoke('ecs:updateService', { Cluster: 'prod', Service: 'a', DesiredCount: 3 }, 'state-machine')).rejects.toMatchObject({ name: 'Ecs.AccessDeniedException' });
    // The state machine may invoke the Lambda; the Lambda's own call is then judged against the Lambda's role.
    await expect(checked.invoke('lambda:scaler', {}, 'state-machine')).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('assumed-role/ScalerRole/x is not authorized to perform: application-autoscaling:RegisterScalableTarget'),
    });
    expect(served).toEqual(['ecs:describeServices', 'lambda:scaler', 'applicationautoscaling:describeScalableTargets']);
    expect(principalFromTemplate(TEMPLATE, 'ScalerRole').name).toBe('ScalerRole');
  });

  it('a call from a Lambda outside any principal is a harness error', async () => {
    installIamGuard(TEMPLATE);
    const { world } = fakeWorld();
    const checked = iamCheckedWorld(world, TEMPLATE, 'prod-runbook', { lambdas: {} });
    await expect(checked.invoke('ecs:describeServices', { Cluster: 'prod', Services: ['a'] }, 'lambda')).rejects.toThrow('outside any principal');
    await expect(checked.invoke('lambda:unknown', {}, 'state-machine')).rejects.toThrow('no Lambda function for model call lambda:unknown');
    expect(() => uninstallIamGuard()).toThrow('outside any principal');
  });
});
