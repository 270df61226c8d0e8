import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vi } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { exampleConfig, ROOT } from '../util';
import { deploy, entries, execute, inOrder, limits, runbookOf, seed, stubPlannerEnvironment, type Deployment } from './harness';
import { World, type EcsService, type Nodegroup } from './model';

const CLUSTER = 'pipestream-production';
const HOUR = 3_600_000;

/** An event one to two hours from now (the runbook refuses events that are over). */
function eventInput(fields: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  return { eventStart: new Date(now + HOUR).toISOString(), eventEnd: new Date(now + 2 * HOUR).toISOString(), ...fields };
}

const subjects = (world: World) => world.notifications.map((n) => n.subject);

describe('scale-for-event runbook on an ECS service (engine: min 2, max 10, ceiling 20)', () => {
  const d: Deployment = deploy(exampleConfig());
  const rb = runbookOf(d, 'scale-for-event');
  let world: World;
  let engine: EcsService;
  let before: Record<string, unknown>;

  beforeEach(() => {
    stubPlannerEnvironment(d);
    world = seed(new World(), d);
    engine = world.service(CLUSTER, 'engine');
    engine.desired = engine.running = 3;
    before = limits(world);
  });
  afterEach(() => vi.unstubAllEnvs());

  describe('happy path', () => {
    it('records, raises min and desired to the replicas, waits until they run, holds, then restores the recorded min/max/desired', async () => {
      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Plan',
        'Wait until eventStart - lead',
        'Record scalable target',
        'Record service',
        'Compute event capacity',
        'Raise limits',
        'Raise desired count',
        'Raised: service status',
        'Report ready',
        'Wait until eventEnd + cooldown',
        'Restore limits',
        'Restore desired count',
        'Report done',
        'Restored',
      ];
      expect(inOrder(e.path, route)).toEqual(route);
      // The model runs the new count after two polls.
      expect(entries(e, 'Raised: service status')).toBe(2);
      expect(world.changes().map((c) => [c.call, c.input.MinCapacity ?? c.input.DesiredCount, c.input.MaxCapacity])).toEqual([
        ['applicationautoscaling:registerScalableTarget', 8, 10],
        ['ecs:updateService', 8, undefined],
        ['applicationautoscaling:registerScalableTarget', 2, 10],
        ['ecs:updateService', 3, undefined],
      ]);
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
      expect(limits(world)).toEqual(before);
      expect(subjects(world)).toEqual(['scale-for-event: capacity raised and running', 'scale-for-event: event over, recorded capacity restored']);
      expect(world.notifications[1]!.message).toMatchObject({ runbook: rb.name, detail: { desired: 3, min: 2, max: 10 } });
    });

    it('raises max as well when the replicas are above it, and puts the recorded max back after the event', async () => {
      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 15 }));

      expect(e.status).toBe('SUCCEEDED');
      const registers = world.callsOf('applicationautoscaling:registerScalableTarget').map((c) => [c.input.MinCapacity, c.input.MaxCapacity]);
      expect(registers).toEqual([
        [15, 15],
        [2, 10],
      ]);
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
    });

    it('with a multiplier, raises to multiplier x the recorded desired count', async () => {
      const e = await execute(d, rb, world, eventInput({ target: 'engine', multiplier: 2 }));

      expect(e.status).toBe('SUCCEEDED');
      expect(world.callsOf('ecs:updateService').map((c) => c.input.DesiredCount)).toEqual([6, 3]);
    });
  });

  describe('a failure after the raise', () => {
    it('UpdateService failing hard after RegisterScalableTarget raised the minimum: restores the recorded capacity, reports, fails', async () => {
      world.fail({ call: 'ecs:updateService', error: 'Ecs.InvalidParameterException', times: 1 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Ecs.InvalidParameterException');
      const route = ['Raise limits', 'Raise desired count', 'Restore after failure limits', 'Restore after failure desired count', 'Report failure (restored)', 'Failed'];
      expect(inOrder(e.path, route)).toEqual(route);
      expect(e.path).not.toContain('Report ready');
      expect(e.retried).toEqual([]);
      // RegisterScalableTarget had already pulled desired up to the new minimum: restoring desired matters.
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
      expect(limits(world)).toEqual(before);
      expect(subjects(world)).toEqual(['scale-for-event failed; recorded capacity restored']);
      expect(world.notifications[0]!.message).toMatchObject({ detail: { Error: 'Ecs.InvalidParameterException' } });
    });

    it('the readiness poll failing: restores the recorded capacity, reports, fails', async () => {
      // The first DescribeServices records the desired count; the polls come after.
      world.fail({ call: 'ecs:describeServices', error: 'Ecs.AccessDeniedException', after: 1 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Ecs.AccessDeniedException');
      expect(e.caught).toContain('Raised: service status');
      expect(inOrder(e.path, ['Raised: service status', 'Restore after failure limits', 'Restore after failure desired count', 'Report failure (restored)', 'Failed'])).toHaveLength(5);
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
      expect(subjects(world)).toEqual(['scale-for-event failed; recorded capacity restored']);
    });

    it('the "ready" notification failing: restores the recorded capacity instead of holding it unannounced', async () => {
      world.fail({ call: 'sns:publish', error: 'Sns.AuthorizationErrorException', times: 1 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.caught).toEqual(['Report ready']);
      expect(e.path).not.toContain('Wait until eventEnd + cooldown');
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
    });
  });

  describe('a service that never runs the raised count', () => {
    it('polls maxPolls times, restores the recorded capacity and reports NotReady', async () => {
      engine.convergeAfterPolls = Infinity;

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('NotReady');
      expect(e.cause).toBe('engine did not reach 8 in 20 polls');
      // 10 minutes of 30-second polls for an ECS service.
      expect(entries(e, 'Raised: service status')).toBe(20);
      const route = ['Raised: not ready in time', 'Restore after failure limits', 'Restore after failure desired count', 'Report failure (restored)', 'Failed'];
      expect(inOrder(e.path, route)).toEqual(route);
      expect(e.path).not.toContain('Report ready');
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
      expect(subjects(world)).toEqual(['scale-for-event failed; recorded capacity restored']);
      expect(world.notifications[0]!.message).toMatchObject({ detail: { Error: 'NotReady' } });
    });
  });

  describe('a restore that cannot be done', () => {
    it('restoring after the event failing: reports CRITICAL with the restore error and fails as RestoreFailed', async () => {
      world.fail({ call: 'applicationautoscaling:registerScalableTarget', error: 'ApplicationAutoScaling.AccessDeniedException', after: 1 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('RestoreFailed');
      expect(inOrder(e.path, ['Report ready', 'Restore limits', 'Report restore failure', 'Restore failed'])).toHaveLength(4);
      expect(subjects(world)).toEqual([
        'scale-for-event: capacity raised and running',
        'CRITICAL: scale-for-event could not restore the recorded capacity',
      ]);
      expect(world.notifications[1]!.message).toMatchObject({ detail: { Error: 'ApplicationAutoScaling.AccessDeniedException' } });
    });

    it('restoring after a failure failing: reports CRITICAL and fails as RestoreFailed', async () => {
      world
        .fail({ call: 'ecs:updateService', error: 'Ecs.InvalidParameterException', times: 1 })
        .fail({ call: 'applicationautoscaling:registerScalableTarget', error: 'ApplicationAutoScaling.AccessDeniedException', after: 1 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('RestoreFailed');
      expect(inOrder(e.path, ['Raise desired count', 'Restore after failure limits', 'Report restore failure', 'Restore failed'])).toHaveLength(4);
      expect(subjects(world)).toEqual(['CRITICAL: scale-for-event could not restore the recorded capacity']);
    });
  });

  describe('invalid input', () => {
    it.each([
      ['replicas above the ceiling', { target: 'engine', replicas: 21 }, 'replicas 21 is above the ceiling 20 of engine'],
      ['an unknown target', { target: 'nope', replicas: 4 }, "unknown target 'nope'"],
      ['both replicas and multiplier', { target: 'engine', replicas: 4, multiplier: 2 }, 'give exactly one of replicas or multiplier'],
      ['an event that is over', { target: 'engine', replicas: 4, eventStart: '2020-01-01T10:00:00Z', eventEnd: '2020-01-01T12:00:00Z' }, 'the event is over'],
      ['an end before the start', { target: 'engine', replicas: 4, eventStart: '2099-01-01T12:00:00Z', eventEnd: '2099-01-01T10:00:00Z' }, 'eventEnd must be after eventStart'],
    ])('rejects %s before touching anything', async (_what, input, message) => {
      const e = await execute(d, rb, world, eventInput(input));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('RunbookInputError');
      expect(e.cause).toContain(message);
      expect(e.path).toEqual(['Plan', 'Report rejected input', 'Rejected']);
      expect(world.calls.map((c) => c.call)).toEqual(['lambda:planner', 'sns:publish']);
      expect(subjects(world)).toEqual(['scale-for-event rejected its input']);
      expect(limits(world)).toEqual(before);
      expect(engine.desired).toBe(3);
    });
  });

  describe('throttling', () => {
    it('retries throttled calls and Lambda invocations and succeeds', async () => {
      world
        .fail({ call: 'lambda:planner', error: 'Lambda.TooManyRequestsException', times: 2 })
        .fail({ call: 'applicationautoscaling:describeScalableTargets', error: 'ApplicationAutoScaling.ThrottlingException', times: 2 })
        .fail({ call: 'applicationautoscaling:registerScalableTarget', error: 'ApplicationAutoScaling.ThrottlingException', times: 2 })
        .fail({ call: 'ecs:updateService', error: 'Ecs.ThrottlingException', times: 2 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Plan', 'Plan', 'Record scalable target', 'Record scalable target', 'Raise limits', 'Raise limits', 'Raise desired count', 'Raise desired count']);
      expect(e.caught).toEqual([]);
      expect(world.callsOf('ecs:updateService').map((c) => c.input.DesiredCount)).toEqual([8, 8, 8, 3]);
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
    });

    it('gives up after five retries and restores', async () => {
      world.fail({ call: 'ecs:updateService', error: 'Ecs.ThrottlingException', times: 6 });

      const e = await execute(d, rb, world, eventInput({ target: 'engine', replicas: 8 }));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Ecs.ThrottlingException');
      expect(e.retried.filter((s) => s === 'Raise desired count')).toHaveLength(5);
      expect(e.caught).toEqual(['Raise desired count']);
      // Six attempts at the raise, then the restore's own UpdateService.
      expect(world.callsOf('ecs:updateService').map((c) => c.input.DesiredCount)).toEqual([8, 8, 8, 8, 8, 8, 3]);
      expect(e.path).toContain('Report failure (restored)');
      expect({ desired: engine.desired, min: engine.min, max: engine.max }).toEqual({ desired: 3, min: 2, max: 10 });
    });
  });
});

function eksConfig(): ConfigInput {
  return JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput;
}

describe('scale-for-event runbook on an EKS node group (gpu-g5: min 0, max 8)', () => {
  const d: Deployment = deploy(eksConfig());
  const rb = runbookOf(d, 'scale-for-event');
  let world: World;
  let group: Nodegroup;
  let before: Record<string, unknown>;

  beforeEach(() => {
    stubPlannerEnvironment(d);
    world = seed(new World(), d);
    group = world.nodegroup('ml-prod', 'gpu-g5');
    before = limits(world);
  });
  afterEach(() => vi.unstubAllEnvs());

  it('raises the scaling config, waits until the group is ACTIVE at that size, then restores the recorded config', async () => {
    const e = await execute(d, rb, world, eventInput({ target: 'gpu-g5', replicas: 4 }));

    expect(e.status).toBe('SUCCEEDED');
    const route = ['Record node group', 'Compute event capacity', 'Raise node group', 'Raised: node group status', 'Report ready', 'Restore node group', 'Restored'];
    expect(inOrder(e.path, route)).toEqual(route);
    expect(e.path).not.toContain('Record service');
    expect(entries(e, 'Raised: node group status')).toBe(2);
    expect(world.changes().map((c) => c.input.ScalingConfig)).toEqual([
      { MinSize: 4, MaxSize: 8, DesiredSize: 4 },
      { MinSize: 0, MaxSize: 8, DesiredSize: 0 },
    ]);
    expect({ desired: group.desired, min: group.min, max: group.max }).toEqual({ desired: 0, min: 0, max: 8 });
  });

  it('the readiness poll failing: restores the recorded scaling config, reports, fails', async () => {
    world.fail({ call: 'eks:describeNodegroup', error: 'Eks.AccessDeniedException', after: 1 });

    const e = await execute(d, rb, world, eventInput({ target: 'gpu-g5', replicas: 4 }));

    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('Eks.AccessDeniedException');
    expect(inOrder(e.path, ['Raised: node group status', 'Restore after failure node group', 'Report failure (restored)', 'Failed'])).toHaveLength(4);
    expect({ desired: group.desired, min: group.min, max: group.max }).toEqual({ desired: 0, min: 0, max: 8 });
    expect(limits(world)).toEqual(before);
  });

  it('a group that never becomes ACTIVE: polls maxPolls times, restores and reports NotReady', async () => {
    group.activeAfterPolls = Infinity;

    const e = await execute(d, rb, world, eventInput({ target: 'gpu-g5', replicas: 4 }));

    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('NotReady');
    // 20 minutes of 30-second polls for GPU nodes.
    expect(entries(e, 'Raised: node group status')).toBe(40);
    expect(e.path).toContain('Restore after failure node group');
    expect({ desired: group.desired, min: group.min, max: group.max }).toEqual({ desired: 0, min: 0, max: 8 });
    expect(subjects(world)).toEqual(['scale-for-event failed; recorded capacity restored']);
  });

  it('rejects replicas above the node group ceiling before touching it', async () => {
    const e = await execute(d, rb, world, eventInput({ target: 'gpu-g5', replicas: 17 }));

    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('RunbookInputError');
    expect(e.path).toEqual(['Plan', 'Report rejected input', 'Rejected']);
    expect(world.changes()).toEqual([]);
  });
});
