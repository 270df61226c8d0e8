import {
  ApplicationAutoScalingClient,
  DeleteScheduledActionCommand,
  type DeleteScheduledActionCommandInput,
  DescribeScalableTargetsCommand,
  type DescribeScalableTargetsCommandInput,
  DescribeScheduledActionsCommand,
  type DescribeScheduledActionsCommandInput,
  PutScheduledActionCommand,
  type PutScheduledActionCommandInput,
  RegisterScalableTargetCommand,
  type ScalableTarget as AasTarget,
  type ScheduledAction,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type DescribeServicesCommandInput, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { handler } from '../../lambdas/predictive';
import { accessDenied, serviceUnavailable } from './aws-errors';

const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const autoscaling = mockClient(ApplicationAutoScalingClient);
const allMocks = [ecs, cloudwatch, autoscaling];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** "Now" of every test: Tuesday 06:17 UTC, on the rising edge of the daily pattern. */
const NOW = Date.parse('2026-03-10T06:17:00Z');
const CURRENT_HOUR = Date.parse('2026-03-10T06:00:00Z');
const ENGINE_ID = 'service/pipestream/engine';
const LAUNCH_ID = 'service/pipestream/search';

const LOAD = { namespace: 'Pipestream/Gateway', metricName: 'RequestCount', dimensions: { Service: 'engine' }, statistic: 'Sum' };

/** A predictive target: 10 req/s per replica, 10 % headroom, 14 days of history, 6 hours ahead. */
const ENGINE = {
  name: 'engine',
  kind: 'ecs-service',
  cluster: 'pipestream',
  service: 'engine',
  pool: 'always-on',
  minCapacity: 2,
  maxCapacity: 10,
  predictive: { load: LOAD, targetPerReplica: 10, headroom: 0.1, mode: 'forecast-and-scale', historyDays: 14, horizonHours: 6 },
};
/** A target with planned events only (no forecast). */
const SEARCH = {
  name: 'search',
  kind: 'ecs-service',
  cluster: 'pipestream',
  service: 'search',
  pool: 'demand',
  minCapacity: 2,
  maxCapacity: 20,
  plannedEvents: [{ name: 'product-launch', start: '2026-03-10T09:00:00Z', end: '2026-03-10T10:00:00Z', replicas: 8 }],
};

/**
 * Requests per second at time t: 5 req/s at night, a half-sine day peaking at
 * 60 req/s at 12:00 UTC (7 replicas at 10 req/s + 10 %; 1 replica at night,
 * below the configured minimum of 2).
 */
function rate(t: number): number {
  const hour = (t % DAY) / HOUR;
  return 5 + 55 * Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
}

interface World {
  services: Map<string, number>;
  scalableTargets: Map<string, { min: number; max: number; suspended?: AasTarget['SuspendedState'] }>;
  actions: Map<string, ScheduledAction[]>;
  /** Hours of load history CloudWatch holds before the current hour. */
  historyHours: number;
  failGetMetricData?: () => Error;
}

let world: World;

function installWorld(): void {
  cloudwatch.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => {
    if (world.failGetMetricData) throw world.failGetMetricData();
    const from = Math.max(new Date(input.StartTime!).getTime(), CURRENT_HOUR - world.historyHours * HOUR);
    const to = new Date(input.EndTime!).getTime();
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const period = q.MetricStat!.Period! * 1_000;
        const timestamps: Date[] = [];
        const values: number[] = [];
        for (let t = Math.ceil(from / period) * period; t < to; t += period) {
          timestamps.push(new Date(t));
          values.push(rate(t) * (period / 1_000)); // Sum of requests over the period
        }
        return { Id: q.Id, StatusCode: 'Complete', Timestamps: timestamps, Values: values };
      }),
    };
  });
  cloudwatch.on(PutMetricDataCommand).resolves({});
  ecs.on(DescribeServicesCommand).callsFake(async (input: DescribeServicesCommandInput) => ({
    services: (input.services ?? []).flatMap((name) => {
      const desired = world.services.get(`${input.cluster}/${name}`);
      return desired === undefined ? [] : [{ serviceName: name, status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 }];
    }),
  }));
  autoscaling.on(DescribeScalableTargetsCommand).callsFake(async (input: DescribeScalableTargetsCommandInput) => ({
    ScalableTargets: (input.ResourceIds ?? []).flatMap((id): AasTarget[] => {
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
    }),
  }));
  autoscaling.on(DescribeScheduledActionsCommand).callsFake(async (input: DescribeScheduledActionsCommandInput) => ({
    ScheduledActions: structuredClone(world.actions.get(input.ResourceId!) ?? []),
  }));
  autoscaling.on(PutScheduledActionCommand).callsFake(async (input: PutScheduledActionCommandInput) => {
    const list = (world.actions.get(input.ResourceId!) ?? []).filter((a) => a.ScheduledActionName !== input.ScheduledActionName);
    list.push({
      ScheduledActionName: input.ScheduledActionName,
      ScheduledActionARN: `arn:aws:autoscaling:eu-west-1:123456789012:scheduledAction:${input.ScheduledActionName}`,
      ServiceNamespace: 'ecs',
      Schedule: input.Schedule,
      Timezone: input.Timezone,
      ResourceId: input.ResourceId,
      ScalableDimension: input.ScalableDimension,
      ScalableTargetAction: input.ScalableTargetAction,
      CreationTime: new Date(NOW),
    });
    world.actions.set(input.ResourceId!, list);
    return {};
  });
  autoscaling.on(DeleteScheduledActionCommand).callsFake(async (input: DeleteScheduledActionCommandInput) => {
    world.actions.set(input.ResourceId!, (world.actions.get(input.ResourceId!) ?? []).filter((a) => a.ScheduledActionName !== input.ScheduledActionName));
    return {};
  });
}

function freshWorld(): World {
  return {
    services: new Map([
      ['pipestream/engine', 2],
      ['pipestream/search', 4],
    ]),
    scalableTargets: new Map([
      [ENGINE_ID, { min: 2, max: 10 }],
      [LAUNCH_ID, { min: 2, max: 20 }],
    ]),
    actions: new Map(),
    historyHours: 14 * 24,
  };
}

const FOREIGN_ACTION: ScheduledAction = {
  ScheduledActionName: 'nightly-batch',
  ScheduledActionARN: 'arn:aws:autoscaling:eu-west-1:123456789012:scheduledAction:nightly-batch',
  ServiceNamespace: 'ecs',
  Schedule: 'cron(0 2 * * ? *)',
  ResourceId: ENGINE_ID,
  ScalableDimension: 'ecs:service:DesiredCount',
  ScalableTargetAction: { MinCapacity: 3 },
  CreationTime: new Date(0),
};
const STALE_ACTION: ScheduledAction = {
  ...FOREIGN_ACTION,
  ScheduledActionName: 'mlscale-prescale-202603090600',
  Schedule: 'at(2026-03-09T06:00:00)',
  ScalableTargetAction: { MinCapacity: 5 },
};

const useDoc = (doc: unknown) => vi.stubEnv('MLSCALE_CONFIG', JSON.stringify(doc));
const puts = (resourceId?: string) =>
  autoscaling.commandCalls(PutScheduledActionCommand, resourceId ? { ResourceId: resourceId } : undefined).map((c) => c.args[0].input);
/** `at(2026-03-10T08:30:00)` in UTC -> epoch ms. */
const atTime = (schedule: string | undefined) => Date.parse(`${/^at\((.+)\)$/.exec(schedule ?? '')?.[1]}Z`);
const resultOf = (r: Awaited<ReturnType<typeof handler>>, target: string) => r.targets.find((t) => t.target === target);

function expectNoScheduledActionChange(): void {
  expect(autoscaling).not.toHaveReceivedCommand(PutScheduledActionCommand);
  expect(autoscaling).not.toHaveReceivedCommand(DeleteScheduledActionCommand);
  expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
}

beforeAll(() => {
  configureRetries({ baseDelayMs: 1 });
});

beforeEach(() => {
  vi.setSystemTime(NOW);
  world = freshWorld();
  installWorld();
  useDoc({ targets: [ENGINE] });
});

afterEach(() => {
  for (const m of allMocks) m.reset();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe('Function: predictive handler', () => {
  it('reads 14 days of 5-minute Sum history for the load metric in one GetMetricData call', async () => {
    await handler({});

    expect(cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
    const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(new Date(input.StartTime!).getTime()).toBe(CURRENT_HOUR - 14 * DAY);
    expect(new Date(input.EndTime!).getTime()).toBe(CURRENT_HOUR);
    expect(input.MetricDataQueries).toEqual([
      expect.objectContaining({
        MetricStat: {
          Metric: { Namespace: 'Pipestream/Gateway', MetricName: 'RequestCount', Dimensions: [{ Name: 'Service', Value: 'engine' }] },
          Period: 300,
          Stat: 'Sum',
        },
      }),
    ]);
  });

  it('pre-scales ahead of the forecast with future at() mlscale actions within [minCapacity, MaxCapacity] when in forecast-and-scale mode', async () => {
    const result = await handler({});

    const put = puts(ENGINE_ID);
    expect(put.length).toBeGreaterThanOrEqual(2);
    for (const a of put) {
      expect(a.ScheduledActionName).toMatch(/^mlscale-prescale-\d{12}$/);
      expect(a.Schedule).toMatch(/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)$/);
      expect(a.Timezone).toBe('UTC');
      expect(atTime(a.Schedule)).toBeGreaterThan(NOW);
      expect(a.ScheduledActionName).toBe(`mlscale-prescale-${new Date(atTime(a.Schedule)).toISOString().slice(0, 16).replace(/[-:T]/g, '')}`);
      expect(a.ScalableTargetAction?.MinCapacity).toBeGreaterThanOrEqual(ENGINE.minCapacity);
      expect(a.ScalableTargetAction?.MinCapacity).toBeLessThanOrEqual(10);
      expect(a.ScalableTargetAction?.MaxCapacity).toBeUndefined();
    }
    const mins = put.map((a) => a.ScalableTargetAction!.MinCapacity!);
    // The morning ramp (about 60 req/s by 11:00-12:00 -> 7 replicas) is pre-scaled, and the plan ends back at the minimum.
    expect(Math.max(...mins)).toBeGreaterThanOrEqual(6);
    expect(put.at(-1)?.ScalableTargetAction?.MinCapacity).toBe(ENGINE.minCapacity);
    expect(resultOf(result, 'engine')).toMatchObject({ target: 'engine', mode: 'forecast-and-scale', put: put.length, removed: 0 });
    expect(resultOf(result, 'engine')?.error).toBeUndefined();
  });

  it('never plans a minimum below the configured minimum, even where the forecast needs fewer replicas', async () => {
    vi.setSystemTime(Date.parse('2026-03-10T17:17:00Z')); // the evening fall into the night (1 replica of load)
    world.scalableTargets.set(ENGINE_ID, { min: 6, max: 10 });

    const result = await handler({});

    const mins = puts(ENGINE_ID).map((a) => a.ScalableTargetAction!.MinCapacity!);
    expect(mins.length).toBeGreaterThan(0);
    expect(Math.min(...mins)).toBe(ENGINE.minCapacity);
    expect(resultOf(result, 'engine')?.replicas?.every((r) => r >= ENGINE.minCapacity)).toBe(true);
  });

  it('never plans a minimum above the scalable target MaxCapacity', async () => {
    world.scalableTargets.set(ENGINE_ID, { min: 2, max: 4 });

    await handler({});

    const mins = puts(ENGINE_ID).map((a) => a.ScalableTargetAction!.MinCapacity!);
    expect(Math.max(...mins)).toBe(4);
  });

  it('deletes stale mlscale actions and leaves foreign actions untouched', async () => {
    world.actions.set(ENGINE_ID, [structuredClone(FOREIGN_ACTION), structuredClone(STALE_ACTION)]);

    const result = await handler({});

    expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(DeleteScheduledActionCommand, {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceId: ENGINE_ID,
      ScheduledActionName: 'mlscale-prescale-202603090600',
    });
    expect(autoscaling).not.toHaveReceivedCommandWith(DeleteScheduledActionCommand, { ScheduledActionName: 'nightly-batch' });
    expect(autoscaling).not.toHaveReceivedCommandWith(PutScheduledActionCommand, { ScheduledActionName: 'nightly-batch' });
    expect(world.actions.get(ENGINE_ID)).toContainEqual(FOREIGN_ACTION);
    expect(resultOf(result, 'engine')).toMatchObject({ removed: 1 });
  });

  it('changes nothing on a second run when the actions already match the plan', async () => {
    await handler({});
    const first = puts(ENGINE_ID).length;
    expect(first).toBeGreaterThan(0);
    autoscaling.resetHistory();

    const result = await handler({});

    expect(autoscaling).not.toHaveReceivedCommand(PutScheduledActionCommand);
    expect(autoscaling).not.toHaveReceivedCommand(DeleteScheduledActionCommand);
    expect(resultOf(result, 'engine')).toMatchObject({ put: 0, removed: 0 });
  });

  it('publishes the forecast to mlscale/Predictive in forecast-and-scale mode too', async () => {
    await handler({});

    expect(cloudwatch).toHaveReceivedCommandWith(PutMetricDataCommand, { Namespace: 'mlscale/Predictive' });
  });

  it('publishes the forecast but puts no scheduled action for it in forecast-only mode', async () => {
    useDoc({ targets: [{ ...ENGINE, predictive: { ...ENGINE.predictive, mode: 'forecast-only' } }] });

    const result = await handler({});

    expect(autoscaling).not.toHaveReceivedCommand(PutScheduledActionCommand);
    expect(cloudwatch).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    const data = cloudwatch.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    expect(data.Namespace).toBe('mlscale/Predictive');
    expect(data.MetricData?.map((d) => d.MetricName).sort()).toEqual(['ForecastLoad', 'ForecastLoad', 'ForecastReplicas', 'ForecastReplicas']);
    for (const d of data.MetricData ?? []) {
      expect(d.Dimensions).toEqual([{ Name: 'Target', Value: 'engine' }]);
      expect(d.Value).toBeGreaterThan(0);
      expect(new Date(d.Timestamp!).getTime()).toBeLessThanOrEqual(NOW + HOUR);
    }
    expect(resultOf(result, 'engine')).toMatchObject({ mode: 'forecast-only', put: 0, forecast: expect.any(Array) });
  });

  it('raises the minimum 30 minutes before a planned event and restores it after its end plus cooldown', async () => {
    useDoc({ targets: [SEARCH] });

    await handler({});

    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
    expect(puts(LAUNCH_ID)).toEqual([
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: LAUNCH_ID,
        ScheduledActionName: 'mlscale-prescale-202603100830',
        Schedule: 'at(2026-03-10T08:30:00)',
        Timezone: 'UTC',
        ScalableTargetAction: { MinCapacity: 8 },
      },
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: LAUNCH_ID,
        ScheduledActionName: 'mlscale-prescale-202603101020',
        Schedule: 'at(2026-03-10T10:20:00)',
        Timezone: 'UTC',
        ScalableTargetAction: { MinCapacity: 2 },
      },
    ]);
  });

  it('sizes a multiplier event from the running capacity and honours its own lead and cooldown', async () => {
    useDoc({
      targets: [
        {
          ...SEARCH,
          plannedEvents: [
            { name: 'campaign', start: '2026-03-10T08:00:00Z', end: '2026-03-10T08:45:00Z', multiplier: 1.5, leadMinutes: 15, cooldownMinutes: 5 },
          ],
        },
      ],
    });

    await handler({});

    expect(puts(LAUNCH_ID).map((a) => [a.Schedule, a.ScalableTargetAction?.MinCapacity])).toEqual([
      ['at(2026-03-10T07:45:00)', 6], // 1.5 x the 4 running
      ['at(2026-03-10T08:50:00)', 2],
    ]);
  });

  it('skips a target whose scheduled scaling is suspended and makes no mutating call', async () => {
    useDoc({ targets: [ENGINE, { ...SEARCH, name: 'search' }] });
    const suspended = { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true };
    world.scalableTargets.set(ENGINE_ID, { min: 6, max: 10, suspended });
    world.scalableTargets.set(LAUNCH_ID, { min: 2, max: 20, suspended });
    world.actions.set(ENGINE_ID, [structuredClone(STALE_ACTION)]);

    const result = await handler({});

    expect(resultOf(result, 'engine')).toMatchObject({ put: 0, removed: 0, skipped: expect.stringMatching(/scheduled scaling is suspended/) });
    expect(resultOf(result, 'search')).toMatchObject({ put: 0, removed: 0, skipped: expect.stringMatching(/scheduled scaling is suspended/) });
    expectNoScheduledActionChange();
    expect(cloudwatch).not.toHaveReceivedCommand(PutMetricDataCommand);
  });

  it('puts no forecast actions and reports why when there is under 24 hours of history', async () => {
    world.historyHours = 20;

    const result = await handler({});

    expect(resultOf(result, 'engine')).toMatchObject({ put: 0, skipped: expect.stringMatching(/under 24 hours of load history/) });
    expect(resultOf(result, 'engine')?.forecast).toBeUndefined();
    expect(resultOf(result, 'engine')?.error).toBeUndefined();
    expectNoScheduledActionChange();
    expect(cloudwatch).not.toHaveReceivedCommand(PutMetricDataCommand);
  });

  it('still applies planned events of a predictive target with under 24 hours of history', async () => {
    world.historyHours = 20;
    useDoc({ targets: [{ ...ENGINE, plannedEvents: SEARCH.plannedEvents }] });

    await handler({});

    expect(puts(ENGINE_ID).map((a) => [a.Schedule, a.ScalableTargetAction?.MinCapacity])).toEqual([
      ['at(2026-03-10T08:30:00)', 8],
      ['at(2026-03-10T10:20:00)', 2],
    ]);
  });

  it.each([
    ['a non-retryable error', accessDenied, 1, /AccessDeniedException/],
    ['a 5xx on every attempt', serviceUnavailable, retryPolicy.attempts, /ServiceUnavailableException/],
  ])('reports an error for the target and changes none of its scheduled actions when GetMetricData fails with %s', async (_case, error, calls, name) => {
    useDoc({ targets: [ENGINE, SEARCH] });
    world.failGetMetricData = error;
    world.actions.set(ENGINE_ID, [structuredClone(STALE_ACTION)]);

    const result = await handler({});

    expect(cloudwatch).toHaveReceivedCommandTimes(GetMetricDataCommand, calls);
    expect(resultOf(result, 'engine')).toMatchObject({ put: 0, removed: 0, error: expect.stringMatching(/^load history unreadable: /) });
    expect(resultOf(result, 'engine')?.error).toMatch(name);
    expect(autoscaling).not.toHaveReceivedCommandWith(PutScheduledActionCommand, { ResourceId: ENGINE_ID });
    expect(autoscaling).not.toHaveReceivedCommandWith(DeleteScheduledActionCommand, { ResourceId: ENGINE_ID });
    expect(cloudwatch).not.toHaveReceivedCommand(PutMetricDataCommand);
    // The other target goes on.
    expect(puts(LAUNCH_ID)).toHaveLength(2);
  });

  it('throws a one-line error naming the field and makes no AWS call when MLSCALE_CONFIG is malformed', async () => {
    useDoc({ targets: [{ ...ENGINE, predictive: { ...ENGINE.predictive, targetPerReplica: 0 } }] });

    const error = await handler({}).then(
      () => undefined,
      (err: unknown) => err as Error,
    );

    expect(error?.message).toMatch(/^Invalid MLSCALE_CONFIG: targets\[0\]\.predictive\.targetPerReplica: /);
    expect(error?.message).not.toContain('\n');
    for (const m of allMocks) expect(m).not.toHaveReceivedAnyCommand();
  });
});
