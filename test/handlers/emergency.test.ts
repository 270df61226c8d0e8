import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  type DescribeScalableTargetsCommandInput,
  RegisterScalableTargetCommand,
  type RegisterScalableTargetCommandInput,
  type ScalableTarget as AasTarget,
} from '@aws-sdk/client-application-auto-scaling';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type DescribeServicesCommandInput, ECSClient, UpdateServiceCommand, type UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import {
  DescribeNodegroupCommand,
  type DescribeNodegroupCommandInput,
  EKSClient,
  UpdateNodegroupConfigCommand,
  type UpdateNodegroupConfigCommandInput,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import type { IncidentRecord } from '../../lambdas/core/emergency';
import { handler } from '../../lambdas/emergency';
import { awsError, invalidParameter, serviceUnavailable, throttling } from './aws-errors';
import { DESIGN_ENGINE, DESIGN_GPU_WORKERS } from '../fixtures/design-example';

const ecs = mockClient(ECSClient);
const eks = mockClient(EKSClient);
const autoscaling = mockClient(ApplicationAutoScalingClient);
const dynamodb = mockClient(DynamoDBClient);
const allMocks = [ecs, eks, autoscaling, dynamodb];

const TABLE = 'mlscale-incidents';
const NOW = new Date('2026-03-10T09:41:07.000Z');
const ALARM = 'engine-consumer-lag-critical';
const ENGINE_ID = 'service/pipestream/engine';

const ENGINE = { ...DESIGN_ENGINE, alarms: [ALARM] };
const GPU_WORKERS = { ...DESIGN_GPU_WORKERS, alarms: ['gpu-queue-critical'] };
const DOC = { targets: [ENGINE, GPU_WORKERS] };

interface Suspension {
  DynamicScalingInSuspended: boolean;
  DynamicScalingOutSuspended: boolean;
  ScheduledScalingSuspended: boolean;
}
const NONE_SUSPENDED: Suspension = { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false };
const INCIDENT_SUSPENSION: Suspension = { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true };

type Call =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DescribeServices'
  | 'UpdateService'
  | 'DescribeScalableTargets'
  | 'RegisterScalableTarget'
  | 'DeregisterScalableTarget'
  | 'DescribeNodegroup'
  | 'UpdateNodegroupConfig';

/** A small stateful fake of the account: the handler's changes are visible to its next reads. */
interface World {
  services: Map<string, number>;
  scalableTargets: Map<string, { min: number; max: number; suspended: Suspension }>;
  nodegroups: Map<string, { desired: number; min: number; max: number }>;
  table: Map<string, Record<string, AttributeValue>>;
  throttleOnce: Set<Call>;
  failAlways: Map<Call, () => Error>;
  /** PutItem: another trigger's claim lands just before this one (a lost race). */
  loseClaimRace: boolean;
  /** PutItem: the next put takes effect but its response is lost (a 500). */
  losePutResponse: boolean;
  /** Mutating calls that took effect, in order. */
  applied: Call[];
}

let world: World;

function guard(call: Call): void {
  if (world.throttleOnce.delete(call)) throw throttling();
  const fail = world.failAlways.get(call);
  if (fail) throw fail();
}

function conditionFailed(item?: Record<string, AttributeValue>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item ? { Item: structuredClone(item) } : {}),
  });
}

function itemFor(record: IncidentRecord): Record<string, AttributeValue> {
  return { target: { S: record.target }, status: { S: record.status }, incidentId: { S: record.incidentId }, record: { S: JSON.stringify(record) } };
}

function installWorld(): void {
  dynamodb.on(GetItemCommand).callsFake(async (input: GetItemCommandInput) => {
    guard('GetItem');
    const item = world.table.get(input.Key?.target?.S ?? '');
    return item ? { Item: structuredClone(item) } : {};
  });
  dynamodb.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    guard('PutItem');
    const key = input.Item?.target?.S ?? '';
    if (world.loseClaimRace) {
      world.loseClaimRace = false;
      world.table.set(key, itemFor({ ...openIncident(), incidentId: 'engine-winner' }));
    }
    // The handler's condition: no item, or its incident neither open nor being opened (unless that claim went stale).
    const existing = world.table.get(key);
    const stale = Number(existing?.claimedAt?.N ?? Infinity) < Number(input.ExpressionAttributeValues?.[':stale']?.N ?? -Infinity);
    if ((existing?.status?.S === 'open' || existing?.status?.S === 'opening') && !stale) {
      throw conditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? existing : undefined);
    }
    world.table.set(key, structuredClone(input.Item!));
    world.applied.push('PutItem');
    if (world.losePutResponse) {
      world.losePutResponse = false;
      throw awsError('InternalServerError', 500, 'Internal server error');
    }
    return {};
  });
  dynamodb.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
    guard('UpdateItem');
    const key = input.Key?.target?.S ?? '';
    const item = world.table.get(key);
    const values = input.ExpressionAttributeValues!;
    if (!item || item.incidentId?.S !== values[':id']?.S) throw conditionFailed();
    // Opening an incident (SET status = :open) requires the claim to be still 'opening'.
    if (values[':opening'] && item.status?.S !== 'opening') throw conditionFailed();
    world.table.set(key, { ...item, status: values[':status'] ?? values[':open']!, record: values[':record']! });
    world.applied.push('UpdateItem');
    return {};
  });
  ecs.on(DescribeServicesCommand).callsFake(async (input: DescribeServicesCommandInput) => {
    guard('DescribeServices');
    const services = (input.services ?? []).flatMap((name) => {
      const desired = world.services.get(`${input.cluster}/${name}`);
      return desired === undefined ? [] : [{ serviceName: name, status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 }];
    });
    return { services, failures: [] };
  });
  ecs.on(UpdateServiceCommand).callsFake(async (input: UpdateServiceCommandInput) => {
    guard('UpdateService');
    world.services.set(`${input.cluster}/${input.service}`, input.desiredCount!);
    world.applied.push('UpdateService');
    return { service: { serviceName: input.service, desiredCount: input.desiredCount } };
  });
  autoscaling.on(DescribeScalableTargetsCommand).callsFake(async (input: DescribeScalableTargetsCommandInput) => {
    guard('DescribeScalableTargets');
    const ScalableTargets: AasTarget[] = (input.ResourceIds ?? []).flatMap((id) => {
      const t = world.scalableTargets.get(id);
      return t
        ? [
            {
              ServiceNamespace: 'ecs',
              ScalableDimension: 'ecs:service:DesiredCount',
              ResourceId: id,
              MinCapacity: t.min,
              MaxCapacity: t.max,
              SuspendedState: { ...t.suspended },
              RoleARN: 'arn:aws:iam::123456789012:role/aas',
              CreationTime: new Date(0),
            },
          ]
        : [];
    });
    return { ScalableTargets };
  });
  autoscaling.on(RegisterScalableTargetCommand).callsFake(async (input: RegisterScalableTargetCommandInput) => {
    guard('RegisterScalableTarget');
    const id = input.ResourceId!;
    const before = world.scalableTargets.get(id);
    const s = input.SuspendedState;
    world.scalableTargets.set(id, {
      min: input.MinCapacity ?? before!.min,
      max: input.MaxCapacity ?? before!.max,
      suspended: s
        ? {
            DynamicScalingInSuspended: s.DynamicScalingInSuspended!,
            DynamicScalingOutSuspended: s.DynamicScalingOutSuspended!,
            ScheduledScalingSuspended: s.ScheduledScalingSuspended!,
          }
        : (before?.suspended ?? NONE_SUSPENDED),
    });
    world.applied.push('RegisterScalableTarget');
    return {};
  });
  autoscaling.on(DeregisterScalableTargetCommand).callsFake(async (input: { ResourceId?: string }) => {
    guard('DeregisterScalableTarget');
    world.scalableTargets.delete(input.ResourceId!);
    world.applied.push('DeregisterScalableTarget');
    return {};
  });
  eks.on(DescribeNodegroupCommand).callsFake(async (input: DescribeNodegroupCommandInput) => {
    guard('DescribeNodegroup');
    const ng = world.nodegroups.get(`${input.clusterName}/${input.nodegroupName}`)!;
    return {
      nodegroup: {
        clusterName: input.clusterName,
        nodegroupName: input.nodegroupName,
        status: 'ACTIVE',
        scalingConfig: { desiredSize: ng.desired, minSize: ng.min, maxSize: ng.max },
      },
    };
  });
  eks.on(UpdateNodegroupConfigCommand).callsFake(async (input: UpdateNodegroupConfigCommandInput) => {
    guard('UpdateNodegroupConfig');
    const key = `${input.clusterName}/${input.nodegroupName}`;
    const ng = world.nodegroups.get(key)!;
    const sc = input.scalingConfig ?? {};
    world.nodegroups.set(key, { desired: sc.desiredSize ?? ng.desired, min: sc.minSize ?? ng.min, max: sc.maxSize ?? ng.max });
    world.applied.push('UpdateNodegroupConfig');
    return { update: { id: 'update-1', status: 'InProgress' } };
  });
}

function freshWorld(): World {
  return {
    services: new Map([['pipestream/engine', 3]]),
    scalableTargets: new Map([[ENGINE_ID, { min: 2, max: 10, suspended: { ...NONE_SUSPENDED } }]]),
    nodegroups: new Map([['ml-prod/gpu-workers', { desired: 3, min: 0, max: 4 }]]),
    table: new Map(),
    throttleOnce: new Set(),
    failAlways: new Map(),
    loseClaimRace: false,
    losePutResponse: false,
    applied: [],
  };
}

/** An open incident of `engine` as the handler records it: doubled 3 -> 6 from min 2 / max 10. */
function openIncident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    target: 'engine',
    incidentId: 'engine-20260310-0900',
    status: 'open',
    openedAt: '2026-03-10T09:00:00.000Z',
    trigger: `EventBridge: ${ALARM}`,
    before: { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: true, scheduled: false }, registered: true },
    after: { desired: 6, min: 6, max: 10 },
    ...overrides,
  };
}

/** The target's state during the incident of openIncident(). */
function enterIncident(): void {
  world.services.set('pipestream/engine', 6);
  world.scalableTargets.set(ENGINE_ID, {
    min: 6,
    max: 10,
    suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true },
  });
}

function expectNoMutatingCall(): void {
  expect(world.applied).toEqual([]);
  expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  expect(autoscaling).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
  expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the handler to throw');
    },
    (err: unknown) => err as Error,
  );
}

// ---- the trigger shapes -------------------------------------------------------------------------

function eventBridgeAlarm(alarmName: string, state = 'ALARM') {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: NOW.toISOString(),
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint [25000.0] was greater than the threshold (20000.0).', timestamp: NOW.toISOString() },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2026-03-10T08:00:00.000+0000' },
      configuration: { metrics: [] },
    },
  };
}

function alarmAction(alarmName: string, state = 'ALARM') {
  return {
    source: 'aws.cloudwatch',
    alarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`,
    accountId: '123456789012',
    time: NOW.toISOString(),
    region: 'eu-west-1',
    alarmData: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed', timestamp: NOW.toISOString() },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2026-03-10T08:00:00.000+0000' },
      configuration: { metrics: [] },
    },
  };
}

function snsAlarm(alarmName: string, state = 'ALARM') {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:mlscale-alarms:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55',
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:mlscale-alarms',
          Subject: `${state}: "${alarmName}" in EU (Ireland)`,
          Message: JSON.stringify({
            AlarmName: alarmName,
            AlarmDescription: 'Consumer lag critical',
            AWSAccountId: '123456789012',
            NewStateValue: state,
            NewStateReason: 'Threshold Crossed',
            StateChangeTime: '2026-03-10T09:41:07.000+0000',
            Region: 'EU (Ireland)',
            OldStateValue: 'OK',
            Trigger: { MetricName: 'ConsumerLag', Namespace: 'Pipestream/Kafka' },
          }),
          Timestamp: NOW.toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
          UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

const useDoc = (doc: unknown) => vi.stubEnv('MLSCALE_CONFIG', JSON.stringify(doc));
const storedRecord = (target = 'engine') => JSON.parse(world.table.get(target)!.record!.S!) as IncidentRecord;

beforeAll(() => {
  configureRetries({ baseDelayMs: 1 });
});

beforeEach(() => {
  vi.setSystemTime(NOW);
  world = freshWorld();
  installWorld();
  useDoc(DOC);
  vi.stubEnv('MLSCALE_INCIDENT_TABLE', TABLE);
});

afterEach(() => {
  for (const m of allMocks) m.reset();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe('Function: emergency handler', () => {
  describe('triggers', () => {
    it.each([
      ['an EventBridge "CloudWatch Alarm State Change" event', eventBridgeAlarm(ALARM), `EventBridge: ${ALARM}`],
      ['a CloudWatch alarm direct Lambda action', alarmAction(ALARM), `alarm action: ${ALARM}`],
      ['an SNS-wrapped alarm message', snsAlarm(ALARM), `SNS: ${ALARM}`],
      ['a direct { target } call', { target: 'engine' }, 'direct call'],
    ])('doubles the target once when invoked by %s', async (_shape, event, trigger) => {
      const result = await handler(event);

      expect(result).toMatchObject({ target: 'engine', outcome: 'doubled', from: 3, to: 6, min: 6, max: 20 });
      expect(world.applied).toEqual(['PutItem', 'UpdateItem', 'RegisterScalableTarget', 'UpdateService']);
      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'engine', desiredCount: 6 });
      expect(storedRecord()).toMatchObject({ status: 'open', trigger });
    });

    it.each([
      ['EventBridge', eventBridgeAlarm(ALARM, 'OK')],
      ['alarm action', alarmAction(ALARM, 'OK')],
      ['SNS', snsAlarm(ALARM, 'OK')],
      ['EventBridge (INSUFFICIENT_DATA)', eventBridgeAlarm(ALARM, 'INSUFFICIENT_DATA')],
    ])('ignores a %s alarm event that is not in ALARM and makes no AWS call', async (_shape, event) => {
      const result = await handler(event);

      expect(result).toEqual({ ignored: expect.stringMatching(/not ALARM/) });
      for (const m of allMocks) expect(m).not.toHaveReceivedAnyCommand();
    });

    it.each([
      ['an alarm no target lists (EventBridge)', eventBridgeAlarm('someone-elses-alarm'), /alarm 'someone-elses-alarm' belongs to no target/],
      ['an alarm no target lists (SNS)', snsAlarm('someone-elses-alarm'), /alarm 'someone-elses-alarm' belongs to no target/],
      ['an unknown target', { target: 'nope' }, /unknown target 'nope' \(known: engine, gpu-workers\)/],
      ['an unrecognised event', { hello: 'world' }, /unrecognised event/],
    ])('throws a one-line error and makes no AWS call for %s', async (_case, event, message) => {
      const error = await failureOf(handler(event));

      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
      for (const m of allMocks) expect(m).not.toHaveReceivedAnyCommand();
    });

    it('refuses a target with emergencyEnabled false and changes nothing', async () => {
      useDoc({ targets: [{ ...ENGINE, emergencyEnabled: false }] });

      const error = await failureOf(handler({ target: 'engine' }));

      expect(error.message).toMatch(/disabled for target 'engine'/);
      expectNoMutatingCall();
    });

    it('throws a one-line error naming the field and makes no AWS call when MLSCALE_CONFIG is malformed', async () => {
      useDoc({ targets: [{ ...ENGINE, maxCapacity: 'ten' }] });

      const error = await failureOf(handler({ target: 'engine' }));

      expect(error.message).toMatch(/^Invalid MLSCALE_CONFIG: targets\[0\]\.maxCapacity: /);
      expect(error.message).not.toContain('\n');
      for (const m of allMocks) expect(m).not.toHaveReceivedAnyCommand();
    });
  });

  describe('doubling', () => {
    it('raises min to the new desired, max to the emergency ceiling, suspends scale-in and scheduled scaling, then sets desired', async () => {
      await handler(eventBridgeAlarm(ALARM));

      expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(RegisterScalableTargetCommand, {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: ENGINE_ID,
        MinCapacity: 6,
        MaxCapacity: 20,
        SuspendedState: INCIDENT_SUSPENSION,
      });
      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 6 });
    });

    it('keeps scale-out suspended when it already was before the incident', async () => {
      world.scalableTargets.set(ENGINE_ID, {
        min: 2,
        max: 10,
        suspended: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: false },
      });

      await handler({ target: 'engine' });

      expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, {
        SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true },
      });
    });

    it('raises MaxCapacity to the emergency ceiling so target tracking may add more, never past it', async () => {
      world.services.set('pipestream/engine', 8);

      const result = await handler({ target: 'engine' });

      expect(result).toMatchObject({ outcome: 'doubled', from: 8, to: 16, min: 16, max: 20 });
      expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { MinCapacity: 16, MaxCapacity: 20 });
      expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 16 });
    });

    it('caps at maxCapacity x 2 when no emergencyCeiling is given', async () => {
      world.services.set('pipestream/engine', 11);
      world.scalableTargets.set(ENGINE_ID, { min: 2, max: 12, suspended: { ...NONE_SUSPENDED } }); // an operator raised max to 12

      const result = await handler({ target: 'engine' });

      expect(result).toMatchObject({ outcome: 'at-ceiling', from: 11, to: 20, max: 20 });
      expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { MinCapacity: 20, MaxCapacity: 20 });
      expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 20 });
    });

    it('caps at the target emergencyCeiling when given', async () => {
      useDoc({ targets: [{ ...ENGINE, emergencyCeiling: 14 }] });
      world.services.set('pipestream/engine', 8);

      const result = await handler({ target: 'engine' });

      expect(result).toMatchObject({ outcome: 'at-ceiling', from: 8, to: 14, min: 14, max: 14 });
      expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { MinCapacity: 14, MaxCapacity: 14 });
      expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 14 });
    });

    it('claims the incident with a conditional PutItem recording the state before', async () => {
      const result = await handler({ target: 'engine' });

      expect(dynamodb).toHaveReceivedCommandExactlyOnceWith(PutItemCommand, {
        TableName: TABLE,
        ConditionExpression:
          'attribute_not_exists(#target) OR (#status <> :open AND #status <> :opening) OR (#status = :opening AND #claimedAt < :stale)',
        ExpressionAttributeValues: expect.objectContaining({ ':open': { S: 'open' }, ':opening': { S: 'opening' } }),
      });
      // Then the claim becomes an open incident, conditional on still being this claim.
      expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
        ConditionExpression: '#incidentId = :id AND #status = :opening',
        ExpressionAttributeValues: expect.objectContaining({ ':id': { S: 'engine-20260310-094107' } }),
      });
      expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { target: { S: 'engine' } }, ConsistentRead: true });
      expect(storedRecord()).toMatchObject({
        incidentId: 'engine-20260310-094107',
        status: 'open',
        before: { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false }, registered: true },
        after: { desired: 6, min: 6, max: 20 },
      });
      expect(result).toMatchObject({ incidentId: 'engine-20260310-094107' });
    });

    it('doubles an EKS node group with one UpdateNodegroupConfig setting min, max and desired', async () => {
      const result = await handler(eventBridgeAlarm('gpu-queue-critical'));

      // maxCapacity 4, so the emergency ceiling is 8.
      expect(result).toMatchObject({ target: 'gpu-workers', outcome: 'doubled', from: 3, to: 6, min: 6, max: 8 });
      expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, {
        clusterName: 'ml-prod',
        nodegroupName: 'gpu-workers',
        scalingConfig: { minSize: 6, maxSize: 8, desiredSize: 6 },
      });
      expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
      expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    });
  });

  describe('idempotency', () => {
    it('returns already-open and makes no mutating call when an incident is open', async () => {
      world.table.set('engine', itemFor(openIncident()));
      enterIncident();

      const result = await handler(eventBridgeAlarm(ALARM));

      expect(result).toMatchObject({ target: 'engine', outcome: 'already-open', incidentId: 'engine-20260310-0900' });
      expectNoMutatingCall();
    });

    it('returns already-open without touching ECS or Application Auto Scaling when PutItem fails its condition', async () => {
      world.loseClaimRace = true;

      const result = await handler(eventBridgeAlarm(ALARM));

      expect(result).toMatchObject({ outcome: 'already-open', incidentId: 'engine-winner' });
      expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
      expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
      expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    });

    it('doubles when its own claim took effect but the PutItem response was lost and the retry fails the condition', async () => {
      world.losePutResponse = true;

      const result = await handler(eventBridgeAlarm(ALARM));

      expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 2);
      expect(result).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 6 });
      expect(storedRecord()).toMatchObject({ status: 'open', incidentId: 'engine-20260310-094107' });
    });

    it('doubles once when two triggers of one incident arrive together', async () => {
      const results = await Promise.all([handler(eventBridgeAlarm(ALARM)), handler(snsAlarm(ALARM))]);

      expect(results.map((r) => ('outcome' in r ? r.outcome : r.ignored)).sort()).toEqual(['already-open', 'doubled']);
      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 6 });
      expect(world.services.get('pipestream/engine')).toBe(6);
    });

    it('opens a new incident after the previous one was resumed', async () => {
      world.table.set('engine', itemFor(openIncident({ status: 'resumed', closedAt: '2026-03-10T09:30:00.000Z' })));

      const result = await handler({ target: 'engine' });

      expect(result).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
    });
  });

  describe('resume', () => {
    it('restores exactly the recorded min, max and suspension and settles the incident as resumed', async () => {
      world.table.set('engine', itemFor(openIncident()));
      enterIncident();

      const result = await handler({ action: 'resume', target: 'engine' });

      expect(result).toMatchObject({ target: 'engine', outcome: 'resumed', incidentId: 'engine-20260310-0900', min: 2, max: 10 });
      expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(RegisterScalableTargetCommand, {
        ResourceId: ENGINE_ID,
        MinCapacity: 2,
        MaxCapacity: 10,
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: false },
      });
      expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
      expect(dynamodb).toHaveReceivedCommandExactlyOnceWith(UpdateItemCommand, {
        TableName: TABLE,
        Key: { target: { S: 'engine' } },
        ConditionExpression: '#incidentId = :id',
        ExpressionAttributeValues: expect.objectContaining({ ':status': { S: 'resumed' }, ':id': { S: 'engine-20260310-0900' } }),
      });
      expect(storedRecord()).toMatchObject({ status: 'resumed', closedAt: NOW.toISOString() });
    });

    it('also restores the recorded desired count when restoreDesired is true', async () => {
      world.table.set('engine', itemFor(openIncident()));
      enterIncident();

      await handler({ action: 'resume', target: 'engine', restoreDesired: true });

      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'engine', desiredCount: 3 });
      expect(world.applied).toEqual(['RegisterScalableTarget', 'UpdateService', 'UpdateItem']);
    });

    it('deregisters the scalable target again when there was none before the incident', async () => {
      world.table.set('engine', itemFor(openIncident({ before: { ...openIncident().before!, registered: false } })));
      enterIncident();

      await handler({ action: 'resume', target: 'engine' });

      expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(DeregisterScalableTargetCommand, { ResourceId: ENGINE_ID });
      expect(world.scalableTargets.has(ENGINE_ID)).toBe(false);
    });

    it.each([
      ['no incident was ever recorded', undefined],
      ['the last incident was already resumed', openIncident({ status: 'resumed' })],
      ['the last incident failed', openIncident({ status: 'failed' })],
    ])('does nothing when %s', async (_case, record) => {
      if (record) world.table.set('engine', itemFor(record));

      const result = await handler({ action: 'resume', target: 'engine' });

      expect(result).toMatchObject({ target: 'engine', outcome: 'no-open-incident' });
      expectNoMutatingCall();
    });
  });

  describe('failures', () => {
    it.each([
      ['a non-retryable error', invalidParameter, 1],
      ['a 5xx on every attempt', serviceUnavailable, retryPolicy.attempts],
    ])('puts the recorded limits back, settles the incident as failed and throws when UpdateService fails with %s', async (_case, error, attempts) => {
      world.failAlways.set('UpdateService', error);

      const thrown = await failureOf(handler(eventBridgeAlarm(ALARM)));

      expect(thrown.name).toBe(error().name);
      expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, attempts);
      expect(autoscaling).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 2);
      expect(autoscaling).toHaveReceivedNthCommandWith(RegisterScalableTargetCommand, 1, { MinCapacity: 6, MaxCapacity: 20, SuspendedState: INCIDENT_SUSPENSION });
      expect(autoscaling).toHaveReceivedNthCommandWith(RegisterScalableTargetCommand, 2, {
        ResourceId: ENGINE_ID,
        MinCapacity: 2,
        MaxCapacity: 10,
        SuspendedState: NONE_SUSPENDED,
      });
      expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeValues: expect.objectContaining({ ':status': { S: 'failed' } }) });
      expect(world.scalableTargets.get(ENGINE_ID)).toEqual({ min: 2, max: 10, suspended: NONE_SUSPENDED });
      expect(world.services.get('pipestream/engine')).toBe(3);
      expect(storedRecord().status).toBe('failed');
    });

    it('deregisters the scalable target it registered when the change fails on a service that had none', async () => {
      world.scalableTargets.delete(ENGINE_ID);
      world.failAlways.set('UpdateService', invalidParameter);

      await failureOf(handler({ target: 'engine' }));

      expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(DeregisterScalableTargetCommand, { ResourceId: ENGINE_ID });
      expect(world.scalableTargets.has(ENGINE_ID)).toBe(false);
      expect(storedRecord().status).toBe('failed');
    });

    it('reports a compensation failure when the limits cannot be put back either', async () => {
      world.failAlways.set('UpdateService', invalidParameter);
      let registers = 0;
      autoscaling.on(RegisterScalableTargetCommand).callsFake(async () => {
        if (++registers > 1) throw awsError('ValidationException', 400, 'restore rejected');
        return {};
      });

      const thrown = await failureOf(handler({ target: 'engine' }));

      expect(thrown.name).toBe('CompensationError');
      expect(thrown.message).toMatch(/restoring min 2 \/ max 10 also failed/);
      expect(storedRecord().status).toBe('failed');
    });

    it('retries throttling on every call of a trigger and doubles once', async () => {
      world.throttleOnce = new Set<Call>(['GetItem', 'DescribeServices', 'DescribeScalableTargets', 'PutItem', 'RegisterScalableTarget', 'UpdateService']);

      const result = await handler(eventBridgeAlarm(ALARM));

      expect(result).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      // The first read is throttled once; the check after the change reads once more.
      expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 3);
      expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
      expect(autoscaling).toHaveReceivedCommandTimes(DescribeScalableTargetsCommand, 2);
      expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 2);
      expect(autoscaling).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 2);
      expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
      expect(world.applied).toEqual(['PutItem', 'UpdateItem', 'RegisterScalableTarget', 'UpdateService']);
    });

    it('retries throttling on every call of a resume and restores once', async () => {
      world.table.set('engine', itemFor(openIncident()));
      enterIncident();
      world.throttleOnce = new Set<Call>(['GetItem', 'RegisterScalableTarget', 'UpdateService', 'UpdateItem']);

      const result = await handler({ action: 'resume', target: 'engine', restoreDesired: true });

      expect(result).toMatchObject({ outcome: 'resumed' });
      expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 2);
      expect(autoscaling).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 2);
      expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
      expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
      expect(world.applied).toEqual(['RegisterScalableTarget', 'UpdateService', 'UpdateItem']);
    });

    it('retries throttling on DescribeNodegroup and UpdateNodegroupConfig for an EKS target', async () => {
      world.throttleOnce = new Set<Call>(['DescribeNodegroup', 'UpdateNodegroupConfig']);

      const result = await handler({ target: 'gpu-workers' });

      expect(result).toMatchObject({ outcome: 'doubled', to: 6 });
      expect(eks).toHaveReceivedCommandTimes(DescribeNodegroupCommand, 2);
      expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 2);
      expect(world.applied).toEqual(['PutItem', 'UpdateItem', 'UpdateNodegroupConfig']);
    });
  });

  describe('without MLSCALE_INCIDENT_TABLE', () => {
    it('doubles on the first trigger and does nothing on the second (scale-in now suspended)', async () => {
      vi.stubEnv('MLSCALE_INCIDENT_TABLE', undefined);

      const first = await handler(eventBridgeAlarm(ALARM));
      const second = await handler(eventBridgeAlarm(ALARM));

      expect(first).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(second).toMatchObject({ outcome: 'already-open' });
      expect(world.scalableTargets.get(ENGINE_ID)?.suspended.DynamicScalingInSuspended).toBe(true);
      expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 6 });
      expect(autoscaling).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 1);
      expect(dynamodb).not.toHaveReceivedAnyCommand();
    });

    it('doubles an EKS node group once (its raised minimum marks the incident)', async () => {
      vi.stubEnv('MLSCALE_INCIDENT_TABLE', undefined);

      await handler({ target: 'gpu-workers' });
      const second = await handler({ target: 'gpu-workers' });

      expect(second).toMatchObject({ outcome: 'already-open' });
      expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 1);
      expect(dynamodb).not.toHaveReceivedAnyCommand();
    });
  });
});
