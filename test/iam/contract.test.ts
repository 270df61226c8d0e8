/**
 * The IAM contract of the deployed app (config/mlscale.json, production):
 * what the code calls, checked against the roles the synthesized template
 * gives its callers. Some tests here document grants that are missing today
 * (issue #8) and now assert they are granted.
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHoldStore } from '../../lambdas/aws/holds-store';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { parseTargetsJson, type TargetSpec } from '../../lambdas/core/config/document';
import { reconcileTargets } from '../../lambdas/reconcile/run';
import { runbook, taskStates } from '../runbooks/definition';
import { synth } from '../util';
import { calls, deniedCalls, guardTask, installIamGuard, taskErrorName, uninstallIamGuard, withPrincipal } from './guard';
import { authorize, topics } from './kms';
import { ACCOUNT, environmentOf, evaluate, principalOfFunction, principalOfStateMachine, REGION, resourcesOf, servicePrincipal } from './policy';
import { requestsForTask } from './requests';

/**
 * The Lambda that runs the reconcile pass for scale-to-zero targets: the
 * scale-to-zero scaler, or (after the holds rework) the reconciler. The first
 * prefix the template has is used.
 */
const RECONCILING_FUNCTION_PREFIXES = ['ScaleToZeroScalerFunction', 'ReconcilerFunction'];

let template: Template;
let targets: TargetSpec[];
let reconcilingFunction: string;

beforeAll(() => {
  const synthesized = synth();
  template = synthesized.template;
  const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
  reconcilingFunction = RECONCILING_FUNCTION_PREFIXES.find((p) => functions.some((id) => id.startsWith(p))) ?? RECONCILING_FUNCTION_PREFIXES[0]!;
  const json = functions.some((id) => id.startsWith(reconcilingFunction)) ? environmentOf(template, reconcilingFunction).MLSCALE_CONFIG : undefined;
  targets = parseTargetsJson(json ?? JSON.stringify({ targets: synthesized.stack.targets })).targets;
});

const CLUSTER = 'pipestream-production';
const MINUTE = 60_000;
const NOW = Date.parse('2026-03-10T12:00:30Z');
const NOW_MINUTE = Math.floor(NOW / MINUTE) * MINUTE;
const serviceArn = (service: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${service}`;

/** Names of the runbook state machines of the template. */
const stateMachineNames = () =>
  Object.values(resourcesOf(template))
    .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map((r) => String(r.Properties?.StateMachineName));

/** The one KMS-encrypted topic: the alarm topic alarms and runbooks publish to. */
function alarmTopic(): { arn: string; keyArn: string } {
  const encrypted = [...topics(template).values()].filter((t) => t.key?.kind === 'template');
  expect(encrypted).toHaveLength(1);
  const t = encrypted[0]!;
  return { arn: t.arn, keyArn: t.key!.kind === 'template' ? t.key!.arn : '' };
}

describe('scale-to-zero: one reconcile pass as the deployed Lambda role', () => {
  const ecs = mockClient(ECSClient);
  const autoscaling = mockClient(ApplicationAutoScalingClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const saved = { ...retryPolicy };

  beforeEach(() => {
    configureRetries({ baseDelayMs: 0, maxDelayMs: 0 });
    for (const m of [ecs, autoscaling, cloudwatch]) m.reset();
    // gpu-modules at zero, registered with min 0 / max 5, and 5 requests of work in the newest datapoint.
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'gpu-modules', status: 'ACTIVE', desiredCount: 0, runningCount: 0, pendingCount: 0 }], failures: [] });
    ecs.on(UpdateServiceCommand).resolves({ service: { serviceName: 'gpu-modules', desiredCount: 1 } });
    autoscaling.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        {
          ServiceNamespace: 'ecs',
          ResourceId: `service/${CLUSTER}/gpu-modules`,
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: 0,
          MaxCapacity: 5,
          RoleARN: `arn:aws:iam::${ACCOUNT}:role/aas`,
          CreationTime: new Date(0),
        },
      ],
    });
    autoscaling.on(RegisterScalableTargetCommand).resolves({});
    const work = [0, 0, 0, 0, 0, 5];
    cloudwatch.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
        Id: q.Id,
        StatusCode: 'Complete',
        Timestamps: work.map((_, i) => new Date(NOW_MINUTE - (work.length - i) * MINUTE)),
        Values: work,
      })),
    }));
    installIamGuard(template);
  });
  afterEach(() => {
    configureRetries(saved);
    uninstallIamGuard();
  });

  it('the targets document names gpu-modules as a scale-to-zero ECS target', () => {
    const spec = targets.find((t) => t.name === 'gpu-modules');
    expect(spec).toMatchObject({ kind: 'ecs-service', cluster: CLUSTER, service: 'gpu-modules', pool: 'scale-to-zero', minCapacity: 0 });
  });

  it('wakes gpu-modules: application-autoscaling:RegisterScalableTarget is granted (issue #8: the old role lacked it)', async () => {
    const spec = targets.find((t) => t.name === 'gpu-modules')!;
    const principal = principalOfFunction(template, reconcilingFunction);
    const store = new MemoryHoldStore();

    const result = await withPrincipal(principal, () => reconcileTargets([spec], store, new Date(NOW)));
    const outcome = result.targets[0]!;

    // The reads it needs are granted.
    expect(outcome.work).toMatchObject({ state: 'work', pending: 5 });
    expect(calls().filter((c) => c.allowed).map((c) => [c.action, c.resource])).toEqual(
      expect.arrayContaining([
        ['ecs:DescribeServices', serviceArn('gpu-modules')],
        ['application-autoscaling:DescribeScalableTargets', '*'],
        ['cloudwatch:GetMetricData', '*'],
      ]),
    );
    // It decided to wake the target (a wake hold, min raised to 1) ...
    expect((await store.of('gpu-modules')).map((h) => h.holder)).toEqual(['wake']);
    // ... and applied it: limits first, then desired, each call allowed by the role.
    expect(outcome.error).toBeUndefined();
    expect(deniedCalls()).toEqual([]);
    expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { MinCapacity: 1 });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 1 });
    expect(outcome.changed).toEqual({ limits: true, desired: true });
  });

  it('the role is scoped, not open: UpdateService on gpu-modules is granted, on a service it does not manage it is not', () => {
    const principal = principalOfFunction(template, reconcilingFunction);
    const update = (service: string) => evaluate(principal, { action: 'ecs:UpdateService', resources: [serviceArn(service)], context: {} }).allowed;
    expect(update('gpu-modules')).toBe(true);
    expect(update('not-managed')).toBe(false);
    expect(evaluate(principal, { action: 'ecs:DeleteService', resources: [serviceArn('gpu-modules')], context: {} }).allowed).toBe(false);
  });
});

describe('runbook state machines and the KMS-encrypted alarm topic', () => {
  it('every runbook publishes to the alarm topic, and every Lambda Task may invoke its function', () => {
    const names = stateMachineNames();
    expect(names.length).toBeGreaterThanOrEqual(2);
    const topic = alarmTopic();
    for (const name of names) {
      const principal = principalOfStateMachine(template, name);
      const tasks = taskStates(runbook(template, name));
      const publishes = tasks.filter(([, s]) => s.Resource === 'arn:aws:states:::sns:publish');
      expect(publishes.length, name).toBeGreaterThan(0);
      for (const [, s] of publishes) expect(s.Parameters?.TopicArn, name).toBe(topic.arn);
      const lambdaTasks = tasks.filter(([, s]) => s.Resource!.startsWith('arn:aws:lambda:'));
      expect(lambdaTasks.length, name).toBeGreaterThan(0);
      for (const [state, s] of lambdaTasks) expect(() => guardTask(principal, s.Resource!, s.Parameters), `${name}: ${state}`).not.toThrow();
    }
  });

  it('each runbook role may sns:Publish to the topic and use its key (issue #8: it could not, so every notification failed)', () => {
    const topic = alarmTopic();
    for (const name of stateMachineNames()) {
      const principal = principalOfStateMachine(template, name);
      const [publish] = requestsForTask('arn:aws:states:::sns:publish', { TopicArn: topic.arn, Message: {} });
      // The sns:Publish grant itself is there.
      expect(evaluate(principal, publish!).allowed, name).toBe(true);
      const a = authorize(principal, publish!);
      expect(a.allowed, `${name}: ${a.reason}`).toBe(true);
      expect(() => guardTask(principal, 'arn:aws:states:::sns:publish', { TopicArn: topic.arn, Message: {} }), name).not.toThrow();
    }
  });

  it("lets CloudWatch alarms publish: the key names CloudWatch, and the topic policy allows it beside the SSL-only Deny", () => {
    const topic = alarmTopic();
    const alarms = Object.values(resourcesOf(template)).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties?.AlarmActions ?? []).includes(JSON.stringify({ Ref: topics(template).get(topic.arn)!.logicalId })),
    );
    expect(alarms.length).toBeGreaterThan(5);
    const cloudwatch = servicePrincipal(template, 'cloudwatch.amazonaws.com', {
      'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${String(alarms[0]!.Properties?.AlarmName)}`,
      'aws:SourceAccount': ACCOUNT,
    });
    const a = authorize(cloudwatch, { action: 'sns:Publish', resources: [topic.arn], context: {} });
    // The key policy names cloudwatch.amazonaws.com: KMS is not what stops it.
    expect(authorize(cloudwatch, { action: 'kms:GenerateDataKey', resources: [topic.keyArn], context: {} }).allowed).toBe(true);
    // An AWS::SNS::TopicPolicy replaces SNS's default topic policy (which let the account's services publish),
    // so the topic's own policy must allow CloudWatch, for this account only.
    expect(a.allowed, a.reason).toBe(true);
    const otherAccount = servicePrincipal(template, 'cloudwatch.amazonaws.com', { 'aws:SourceAccount': '999999999999' });
    expect(authorize(otherAccount, { action: 'sns:Publish', resources: [topic.arn], context: {} }).allowed).toBe(false);
  });

  it("a denied Task's error is retried or caught only by catch-alls, never as a transient error", () => {
    for (const name of stateMachineNames()) {
      for (const [state, s] of taskStates(runbook(template, name))) {
        const denied = [taskErrorName(s.Resource!), taskErrorName(s.Resource!, true)];
        const named = [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals).filter((e) => !['States.ALL', 'States.TaskFailed'].includes(e));
        expect(named.filter((e) => denied.includes(e)), `${name}: ${state}`).toEqual([]);
      }
    }
  });
});

afterAll(() => {
  // A guard left behind would judge every other file's AWS calls.
  uninstallIamGuard();
});
