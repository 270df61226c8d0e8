import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  type DescribeScalableTargetsCommandInput,
  type ScalableTarget as AasTarget,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type DescribeServicesCommandInput, ECSClient, UpdateServiceCommand, type UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import { DescribeNodegroupCommand, type DescribeNodegroupCommandInput, EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { handler } from '../../lambdas/scale-to-zero';
import { serviceUnavailable, throttling } from './aws-errors';
import { DESIGN_EMBEDDER, DESIGN_ENGINE, DESIGN_GPU_WORKERS, workMetric } from '../fixtures/design-example';

const ecs = mockClient(ECSClient);
const eks = mockClient(EKSClient);
const cloudwatch = mockClient(CloudWatchClient);
const autoscaling = mockClient(ApplicationAutoScalingClient);
const allMocks = [ecs, eks, cloudwatch, autoscaling];

const MINUTE = 60_000;
/** "Now" of every test: half a minute into 12:00 UTC. */
const NOW = Date.parse('2026-03-10T12:00:30Z');
const NOW_MINUTE = Math.floor(NOW / MINUTE) * MINUTE;


/** The DESIGN.md example document. */
const ENGINE = DESIGN_ENGINE;
const EMBEDDER = DESIGN_EMBEDDER;
const GPU_WORKERS = DESIGN_GPU_WORKERS;
const RERANKER = { ...EMBEDDER, name: 'reranker', cluster: 'gpu-cluster', service: 'reranker', work: workMetric('reranker') };
const DOC = { targets: [ENGINE, EMBEDDER, GPU_WORKERS] };

type Suspended = { DynamicScalingInSuspended: boolean; DynamicScalingOutSuspended: boolean; ScheduledScalingSuspended: boolean };

/**
 * What the fake AWS account holds. Work series are per-minute values, oldest
 * first, the newest one minute before "now"; 'InternalError' makes the
 * query's result carry that status code (with zeros as partial data).
 */
interface World {
  services: Map<string, number>;
  scalableTargets: Map<string, { min: number; max: number; suspended?: Suspended }>;
  nodegroups: Map<string, { desired: number; min: number; max: number; tags?: Record<string, string> }>;
  work: Map<string, readonly number[] | 'InternalError'>;
  failDescribeServicesIn: Set<string>;
  throttleOnce: Set<'GetMetricData' | 'DescribeServices' | 'UpdateService'>;
  /** Successful UpdateService calls. */
  serviceUpdates: number;
}

let world: World;

const zeros = (minutes: number) => new Array<number>(minutes).fill(0);

function series(values: readonly number[] | 'InternalError'): MetricDataResult {
  if (values === 'InternalError') {
    const partial = zeros(8);
    return {
      StatusCode: 'InternalError',
      Messages: [{ Code: 'InternalError', Value: 'Internal service error' }],
      Timestamps: partial.map((_, i) => new Date(NOW_MINUTE - (partial.length - i) * MINUTE)),
      Values: partial,
    };
  }
  return {
    StatusCode: 'Complete',
    Timestamps: values.map((_, i) => new Date(NOW_MINUTE - (values.length - i) * MINUTE)),
    Values: [...values],
  };
}

function installWorld(): void {
  cloudwatch.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => {
    if (world.throttleOnce.delete('GetMetricData')) throw throttling();
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const group = q.MetricStat?.Metric?.Dimensions?.find((d) => d.Name === 'ConsumerGroup')?.Value ?? '';
        return { Id: q.Id, Label: group, ...series(world.work.get(group) ?? []) };
      }),
    };
  });
  ecs.on(DescribeServicesCommand).callsFake(async (input: DescribeServicesCommandInput) => {
    if (world.throttleOnce.delete('DescribeServices')) throw throttling();
    if (world.failDescribeServicesIn.has(input.cluster ?? '')) throw serviceUnavailable();
    const services = (input.services ?? []).flatMap((name) => {
      const desired = world.services.get(`${input.cluster}/${name}`);
      return desired === undefined ? [] : [{ serviceName: name, status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 }];
    });
    return { services, failures: [] };
  });
  ecs.on(UpdateServiceCommand).callsFake(async (input: UpdateServiceCommandInput) => {
    if (world.throttleOnce.delete('UpdateService')) throw throttling();
    world.services.set(`${input.cluster}/${input.service}`, input.desiredCount!);
    world.serviceUpdates++;
    return { service: { serviceName: input.service, desiredCount: input.desiredCount } };
  });
  autoscaling.on(DescribeScalableTargetsCommand).callsFake(async (input: DescribeScalableTargetsCommandInput) => {
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
              RoleARN: 'arn:aws:iam::123456789012:role/aas',
              CreationTime: new Date(0),
              ...(t.suspended ? { SuspendedState: t.suspended } : {}),
            },
          ]
        : [];
    });
    return { ScalableTargets };
  });
  eks.on(DescribeNodegroupCommand).callsFake(async (input: DescribeNodegroupCommandInput) => {
    const ng = world.nodegroups.get(`${input.clusterName}/${input.nodegroupName}`);
    if (!ng) throw Object.assign(new Error('No node group found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    return {
      nodegroup: {
        clusterName: input.clusterName,
        nodegroupName: input.nodegroupName,
        status: 'ACTIVE',
        scalingConfig: { desiredSize: ng.desired, minSize: ng.min, maxSize: ng.max },
        tags: ng.tags ?? {},
      },
    };
  });
  eks.on(UpdateNodegroupConfigCommand).resolves({ update: { id: 'update-1', status: 'InProgress' } });
}

function freshWorld(): World {
  return {
    services: new Map([
      ['pipestream/engine', 4],
      ['pipestream/embedder', 0],
      ['gpu-cluster/reranker', 0],
    ]),
    scalableTargets: new Map([
      ['service/pipestream/engine', { min: 2, max: 10 }],
      ['service/pipestream/embedder', { min: 0, max: 5 }],
      ['service/gpu-cluster/reranker', { min: 0, max: 5 }],
    ]),
    nodegroups: new Map([['ml-prod/gpu-workers', { desired: 0, min: 0, max: 4 }]]),
    work: new Map(),
    failDescribeServicesIn: new Set(),
    throttleOnce: new Set(),
    serviceUpdates: 0,
  };
}

const useDoc = (doc: unknown) => vi.stubEnv('MLSCALE_CONFIG', JSON.stringify(doc));
const decisionOf = (result: Awaited<ReturnType<typeof handler>>, target: string) => result.decisions.find((d) => d.target === target);

beforeAll(() => {
  configureRetries({ baseDelayMs: 1 });
});

beforeEach(() => {
  vi.setSystemTime(NOW);
  world = freshWorld();
  installWorld();
  useDoc(DOC);
});

afterEach(() => {
  for (const m of allMocks) m.reset();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe('Function: scale-to-zero handler', () => {
  it('scales an ECS service and an EKS node group from 0 to 1 when work appears', async () => {
    world.work.set('embedder', [0, 0, 5]);
    world.work.set('gpu-workers', [3]);

    const result = await handler({});

    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'embedder', desiredCount: 1 });
    expect(eks).toHaveReceivedCommandTimes(UpdateNodegroupConfigCommand, 1);
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, {
      clusterName: 'ml-prod',
      nodegroupName: 'gpu-workers',
      scalingConfig: { desiredSize: 1 },
    });
    expect(result.decisions).toHaveLength(2);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 1, reason: expect.stringMatching(/work appeared/) });
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 0, to: 1, reason: expect.stringMatching(/work appeared/) });
  });

  it('never touches a target outside the scale-to-zero pool', async () => {
    world.work.set('embedder', [5]);

    const result = await handler({});

    expect(decisionOf(result, 'engine')).toBeUndefined();
    expect(ecs).not.toHaveReceivedCommandWith(UpdateServiceCommand, { service: 'engine' });
    expect(ecs).not.toHaveReceivedCommandWith(DescribeServicesCommand, { services: expect.arrayContaining(['engine']) });
  });

  it('scales both targets to 0 after 5 minutes of zero datapoints', async () => {
    world.services.set('pipestream/embedder', 2);
    world.nodegroups.set('ml-prod/gpu-workers', { desired: 3, min: 0, max: 4 });
    world.work.set('embedder', zeros(8));
    world.work.set('gpu-workers', zeros(8));

    const result = await handler({});

    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'embedder', desiredCount: 0 });
    expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, {
      clusterName: 'ml-prod',
      nodegroupName: 'gpu-workers',
      scalingConfig: { desiredSize: 0 },
    });
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 0, reason: expect.stringMatching(/no work for 5 minutes/) });
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 3, to: 0, reason: expect.stringMatching(/no work for 5 minutes/) });
  });

  it('keeps capacity when work was seen within the idle window', async () => {
    world.services.set('pipestream/embedder', 2);
    world.work.set('embedder', [0, 0, 0, 0, 2, 0, 0, 0]); // 2 pending four minutes ago

    const result = await handler({});

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(decisionOf(result, 'embedder')).toMatchObject({ from: 2, to: 2 });
  });

  it('does not scale down when datapoints are missing', async () => {
    world.services.set('pipestream/embedder', 2);
    world.nodegroups.set('ml-prod/gpu-workers', { desired: 1, min: 0, max: 4 });
    world.work.set('embedder', []); // no datapoints at all
    world.work.set('gpu-workers', [0, 0, 0]); // three minutes of zeros is not five

    const result = await handler({});

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 2, reason: expect.stringMatching(/no work datapoints/) });
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 1, to: 1, reason: expect.stringMatching(/gap/) });
  });

  it('holds a target whose GetMetricData query returns InternalError while the others act', async () => {
    world.services.set('pipestream/embedder', 2);
    world.work.set('embedder', 'InternalError'); // with zeros as partial data: must not read as idle
    world.work.set('gpu-workers', [4]);

    const result = await handler({});

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 2, reason: expect.stringMatching(/unreadable \(InternalError/) });
    expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, { scalingConfig: { desiredSize: 1 } });
    expect(decisionOf(result, 'gpu-workers')).toMatchObject({ from: 0, to: 1 });
  });

  it('reports a target whose DescribeServices batch fails after retries and still scales the others', async () => {
    useDoc({ targets: [ENGINE, EMBEDDER, RERANKER, GPU_WORKERS] });
    world.failDescribeServicesIn.add('pipestream');
    world.work.set('embedder', [5]);
    world.work.set('reranker', [5]);
    world.work.set('gpu-workers', [5]);

    const result = await handler({});

    expect(ecs.commandCalls(DescribeServicesCommand, { cluster: 'pipestream' })).toHaveLength(retryPolicy.attempts);
    expect(decisionOf(result, 'embedder')).toMatchObject({ target: 'embedder', from: 0, to: 0, error: expect.stringMatching(/Service unavailable/) });
    expect(ecs).not.toHaveReceivedCommandWith(UpdateServiceCommand, { service: 'embedder' });
    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { cluster: 'gpu-cluster', service: 'reranker', desiredCount: 1 });
    expect(eks).toHaveReceivedCommandExactlyOnceWith(UpdateNodegroupConfigCommand, { scalingConfig: { desiredSize: 1 } });
    expect(decisionOf(result, 'reranker')).toEqual({ target: 'reranker', from: 0, to: 1, reason: expect.any(String) });
  });

  it('holds a target paused by an operator (all suspended states true) even with work pending', async () => {
    world.scalableTargets.set('service/pipestream/embedder', {
      min: 0,
      max: 5,
      suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true },
    });
    world.nodegroups.set('ml-prod/gpu-workers', { desired: 0, min: 0, max: 4, tags: { 'mlscale:paused': 'true' } });
    world.work.set('embedder', [9]);
    world.work.set('gpu-workers', [9]);

    const result = await handler({});

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 0, reason: 'paused by an operator' });
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 0, to: 0, reason: 'paused by an operator' });
  });

  it('still scales a target whose scale-in alone is suspended (an incident, not a pause)', async () => {
    world.scalableTargets.set('service/pipestream/embedder', {
      min: 0,
      max: 5,
      suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true },
    });
    world.work.set('embedder', [9]);

    await handler({});

    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { service: 'embedder', desiredCount: 1 });
  });

  it('retries throttled GetMetricData, DescribeServices and UpdateService and applies the change once', async () => {
    world.throttleOnce = new Set(['GetMetricData', 'DescribeServices', 'UpdateService']);
    world.work.set('embedder', [5]);

    const result = await handler({});

    expect(cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    expect(world.serviceUpdates).toBe(1);
    expect(world.services.get('pipestream/embedder')).toBe(1);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 1, reason: expect.any(String) });
  });

  it('reads 1,000 ECS targets with 2 GetMetricData calls of 500 queries and 100 DescribeServices calls', async () => {
    const targets = Array.from({ length: 1_000 }, (_, i) => ({
      ...EMBEDDER,
      name: `module-${i}`,
      cluster: 'gpu-fleet',
      service: `module-${i}`,
      work: workMetric(`module-${i}`),
    }));
    for (const t of targets) world.services.set(`gpu-fleet/${t.service}`, 0);
    world.work.set('module-777', [3]); // in the second metric batch: its query ids restart at m0
    useDoc({ targets });

    const result = await handler({});

    const metricCalls = cloudwatch.commandCalls(GetMetricDataCommand);
    expect(metricCalls).toHaveLength(2);
    expect(metricCalls.map((c) => c.args[0].input.MetricDataQueries?.length)).toEqual([500, 500]);
    const describeCalls = ecs.commandCalls(DescribeServicesCommand);
    expect(describeCalls).toHaveLength(100);
    expect(new Set(describeCalls.flatMap((c) => c.args[0].input.services ?? [])).size).toBe(1_000);
    expect(describeCalls.every((c) => (c.args[0].input.services?.length ?? 0) <= 10)).toBe(true);
    expect(result.decisions).toHaveLength(1_000);
    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { service: 'module-777', desiredCount: 1 });
    expect(result.decisions.filter((d) => d.to !== d.from).map((d) => d.target)).toEqual(['module-777']);
  });

  describe('malformed MLSCALE_CONFIG', () => {
    it.each([
      ['unset', undefined, /^Invalid MLSCALE_CONFIG: is not set/],
      ['not JSON', '{ targets: [', /^Invalid MLSCALE_CONFIG: is not valid JSON/],
      [
        'missing work on a scale-to-zero target',
        JSON.stringify({ targets: [ENGINE, { ...EMBEDDER, work: undefined }] }),
        /^Invalid MLSCALE_CONFIG: targets\[1\]\.work: required for a scale-to-zero target/,
      ],
      ['a negative minCapacity', JSON.stringify({ targets: [{ ...EMBEDDER, minCapacity: -1 }] }), /^Invalid MLSCALE_CONFIG: targets\[0\]\.minCapacity: /],
    ])('throws a one-line error naming the field and makes no AWS call when it is %s', async (_case, value, message) => {
      vi.stubEnv('MLSCALE_CONFIG', value);
      vi.stubEnv('MLSCALE_CONFIG_BUNDLED', undefined);
      world.work.set('embedder', [5]);

      const error = await handler({}).then(
        () => undefined,
        (err: unknown) => err as Error,
      );

      expect(error).toBeInstanceOf(Error);
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('\n');
      for (const m of allMocks) expect(m).not.toHaveReceivedAnyCommand();
    });
  });
});
