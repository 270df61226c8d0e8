import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { NOT_SUSPENDED, planEmergency } from '../../lambdas/core/emergency';
import { exampleConfig, ROOT } from '../util';
import { deploy, entries, execute, inOrder, limits, runbookOf, seed, stubPlannerEnvironment, type Deployment, type Execution } from './harness';
import { World, type EcsService } from './model';

const CLUSTER = 'pipestream-production';
const ALARM = 'pipestream-production-engine-emergencyLatency';
const PAUSED_IN = { dynamicIn: true, dynamicOut: false, scheduled: true };
/** What the emergency procedure holds during an incident of engine at desired 3 (limits 2..10, ceiling 20): desired 6, min 6. */
const DOUBLED = planEmergency({ desired: 3, min: 2, max: 10 }, 20).after;

const subjects = (world: World) => world.notifications.map((n) => n.subject);
const registersBy = (world: World, source: 'lambda' | 'state-machine') =>
  world.callsOf('applicationautoscaling:registerScalableTarget', source).map((c) => ({ min: c.input.MinCapacity, max: c.input.MaxCapacity, suspended: c.input.SuspendedState }));

describe('emergency-scale-up runbook on an ECS service (engine: min 2, max 10, ceiling 20, stable 15 minutes)', () => {
  const d: Deployment = deploy(exampleConfig());
  const rb = runbookOf(d, 'emergency-scale-up');
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

  /** The autoscaler is back as configured: recorded min/max, nothing suspended, incident closed. */
  function expectResumed(e: Execution) {
    expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
    expect(limits(world)).toEqual(before);
    expect(world.incidents.records.get('engine')?.status).toBe('resumed');
    expect(e.path).toContain('Resume after failure');
  }

  describe('happy path', () => {
    it('doubles and pauses scale-in, waits until the tasks run and the alarm is OK for 15 minutes, then resumes with the recorded limits', async () => {
      world.alarms.set(ALARM, ['ALARM', 'ALARM', 'OK']);
      let during: unknown;
      world.before('cloudwatch:describeAlarms', async () => {
        during = { desired: engine.desired, running: engine.running, min: engine.min, suspended: { ...engine.suspended } };
      });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Plan',
        'Double capacity',
        'New incident?',
        'Report start',
        'Doubled: service status',
        'Alarms to watch?',
        'Start watching alarms',
        'Read alarm states',
        'Not stable: reset',
        'Stable minute',
        'Stable long enough?',
        'Resume autoscaler',
        'Report stable',
        'Resumed',
      ];
      expect(inOrder(e.path, route)).toEqual(route);
      // Two minutes in ALARM reset the count; then 15 OK minutes.
      expect(entries(e, 'Read alarm states')).toBe(17);
      expect(entries(e, 'Not stable: reset')).toBe(2);
      expect(DOUBLED).toMatchObject({ desired: 6, min: 6 });
      expect(during).toEqual({ desired: 6, running: 6, min: 6, suspended: PAUSED_IN });
      expect(registersBy(world, 'lambda')).toEqual([
        { min: 6, max: DOUBLED.max, suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true } },
        { min: 2, max: 10, suspended: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false } },
      ]);
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
      // Desired is left to the autoscaler once it is resumed.
      expect(engine.desired).toBe(6);
      expect(world.incidents.records.get('engine')).toMatchObject({ status: 'resumed', before: { desired: 3, min: 2, max: 10 }, after: DOUBLED });
      expect(subjects(world)).toEqual(['emergency-scale-up: capacity doubled, scale-in paused', 'emergency-scale-up: stable, autoscaler resumed']);
      expect(world.notifications[0]!.message).toMatchObject({ runbook: rb.name, detail: { outcome: 'doubled', from: 3, to: 6 } });
    });

    it('with no alarm to watch, waits the stable period once and resumes', async () => {
      const e = await execute(d, rb, world, { target: 'engine', alarms: [] });

      expect(e.status).toBe('SUCCEEDED');
      expect(inOrder(e.path, ['Alarms to watch?', 'No alarm to watch: wait the stable period', 'Resume autoscaler', 'Resumed'])).toHaveLength(4);
      expect(world.callsOf('cloudwatch:describeAlarms')).toEqual([]);
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
    });

    it('caps the doubling at the emergency ceiling', async () => {
      engine.desired = engine.running = 10;

      const e = await execute(d, rb, world, { target: 'engine', alarms: [] });

      expect(e.status).toBe('SUCCEEDED');
      expect(registersBy(world, 'lambda')[0]).toMatchObject({ min: 20, max: 20 });
      expect(world.notifications[0]!.message).toMatchObject({ detail: { outcome: 'at-ceiling', from: 10, to: 20 } });
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
    });
  });

  describe('a failure after the doubling resumes the autoscaler, reports and fails', () => {
    it('the readiness poll failing', async () => {
      world.fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.AccessDeniedException' });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Ecs.AccessDeniedException');
      expect(inOrder(e.path, ['Doubled: service status', 'Resume after failure', 'Report failure (resumed)', 'Failed'])).toHaveLength(4);
      expectResumed(e);
      expect(subjects(world)).toEqual(['emergency-scale-up: capacity doubled, scale-in paused', 'emergency-scale-up failed; autoscaler resumed, limits restored']);
    });

    it('reading the alarms failing', async () => {
      world.fail({ call: 'cloudwatch:describeAlarms', error: 'CloudWatch.AccessDeniedException' });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('CloudWatch.AccessDeniedException');
      expect(e.caught).toEqual(['Read alarm states']);
      expectResumed(e);
    });

    it('the start notification failing', async () => {
      world.fail({ call: 'sns:publish', error: 'Sns.AuthorizationErrorException', times: 1 });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.caught).toEqual(['Report start']);
      expectResumed(e);
    });
  });

  describe('a target that never becomes stable', () => {
    it('alarm never OK: gives up after maxMonitorMinutes, resumes and reports NotStable', async () => {
      world.alarms.set(ALARM, ['ALARM']);

      const e = await execute(d, rb, world, { target: 'engine', maxMonitorMinutes: 20 });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('NotStable');
      expect(e.cause).toBe('alarms of engine not OK for 15 minutes within 20 minutes');
      expect(entries(e, 'Read alarm states')).toBe(20);
      expect(inOrder(e.path, ['Out of monitoring time?', 'Never stable', 'Resume after failure', 'Report failure (resumed)', 'Failed'])).toHaveLength(5);
      expect(e.path).not.toContain('Resume autoscaler');
      expectResumed(e);
      expect(world.notifications.at(-1)!.message).toMatchObject({ detail: { Error: 'NotStable' } });
    });

    it('tasks never running: polls maxPolls times, resumes and reports NotReady', async () => {
      engine.convergeAfterPolls = Infinity;

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('NotReady');
      expect(e.cause).toBe('engine did not reach 6 in 20 polls');
      expect(entries(e, 'Doubled: service status')).toBe(20);
      expect(e.path).not.toContain('Alarms to watch?');
      expectResumed(e);
    });
  });

  describe('an incident that is already open', () => {
    it("takes the 'already-open' path: no second doubling, nothing resumed, the open incident left to its own execution", async () => {
      // What an execution still watching its incident leaves in place.
      world.incidents.records.set('engine', {
        target: 'engine',
        incidentId: 'engine-20260310-0941',
        status: 'open',
        openedAt: '2026-03-10T09:41:00.000Z',
        trigger: 'direct call',
        before: { desired: 3, min: 2, max: 10, suspension: NOT_SUSPENDED, registered: true },
        after: { desired: 6, min: 6, max: 10 },
      });
      Object.assign(engine, { desired: 6, running: 6, min: 6, suspended: { ...PAUSED_IN } });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.path).toEqual(['Plan', 'Double capacity', 'New incident?', 'Report incident already handled', 'Already handled']);
      expect(world.changes()).toEqual([]);
      expect({ desired: engine.desired, min: engine.min, suspended: engine.suspended }).toEqual({ desired: 6, min: 6, suspended: PAUSED_IN });
      expect(world.incidents.records.get('engine')?.status).toBe('open');
      expect(world.notifications[0]!.message).toMatchObject({ detail: { outcome: 'already-open', incidentId: 'engine-20260310-0941' } });
    });

    it('a second execution started while the first watches the alarms doubles nothing; the first resumes', async () => {
      world.alarms.set(ALARM, ['ALARM', 'OK']);
      let second: Execution | undefined;
      world.before('cloudwatch:describeAlarms', async () => {
        second = await execute(d, rb, world, { target: 'engine' }, { name: 'engine-second-minute' });
      });

      const first = await execute(d, rb, world, { target: 'engine' }, { name: 'engine-first-minute' });

      expect(second?.status).toBe('SUCCEEDED');
      expect(second?.path.at(-1)).toBe('Already handled');
      expect(first.status).toBe('SUCCEEDED');
      expect(first.path.at(-1)).toBe('Resumed');
      // One doubling, one resume.
      expect(registersBy(world, 'lambda').map((r) => r.min)).toEqual([6, 2]);
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
    });
  });

  describe('the doubling failing', () => {
    it('RegisterScalableTarget failing in the emergency Lambda: nothing changed, the incident marked failed, reported, failed', async () => {
      world.fail({ call: 'applicationautoscaling:registerScalableTarget', source: 'lambda', error: 'ApplicationAutoScaling.ValidationException', times: 1 });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('ValidationException');
      expect(e.path).toEqual(['Plan', 'Double capacity', 'Report doubling failure', 'Failed']);
      expect(limits(world)).toEqual(before);
      expect(world.incidents.records.get('engine')?.status).toBe('failed');
      expect(subjects(world)).toEqual(['emergency-scale-up: doubling failed, nothing changed']);
    });

    it('UpdateService failing in the emergency Lambda after the limits were raised: the Lambda puts limits and switches back', async () => {
      world.fail({ call: 'ecs:updateService', source: 'lambda', error: 'Ecs.AccessDeniedException' });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('AccessDeniedException');
      expect(e.path.at(-2)).toBe('Report doubling failure');
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
      expect(limits(world)).toEqual(before);
    });

    it('the doubling took effect but its response was lost: the retry carries on with the same incident and resumes it', async () => {
      world.fail({ call: 'lambda:emergency', error: 'Lambda.ServiceException', times: 1, afterEffect: true });
      world.alarms.set(ALARM, ['OK']);

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.retried).toEqual(['Double capacity']);
      expect(e.status).toBe('SUCCEEDED');
      expect(e.path).not.toContain('Report incident already handled');
      expect(e.path.at(-1)).toBe('Resumed');
      // Doubled once (the retry did not double again), resumed once.
      expect(registersBy(world, 'lambda').map((r) => r.min)).toEqual([6, 2]);
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
      expect(world.incidents.records.get('engine')?.status).toBe('resumed');
    });
  });

  describe('a resume that cannot be done', () => {
    it('reports CRITICAL and fails as ResumeFailed', async () => {
      world.fail({ call: 'applicationautoscaling:registerScalableTarget', source: 'lambda', error: 'ApplicationAutoScaling.AccessDeniedException', after: 1 });

      const e = await execute(d, rb, world, { target: 'engine', alarms: [] });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('ResumeFailed');
      expect(inOrder(e.path, ['Resume autoscaler', 'Report resume failure', 'Resume failed'])).toHaveLength(3);
      expect(subjects(world).at(-1)).toBe('CRITICAL: emergency-scale-up could not resume the autoscaler');
      expect(world.notifications.at(-1)!.message).toMatchObject({ detail: { Error: 'AccessDeniedException' } });
    });
  });

  describe('invalid input', () => {
    it.each([
      ['an unknown target', { target: 'nope' }, "unknown target 'nope'"],
      ['monitoring shorter than the stable period', { target: 'engine', stableMinutes: 30, maxMonitorMinutes: 10 }, 'maxMonitorMinutes must be >= stableMinutes'],
      ['alarms that are not a list of names', { target: 'engine', alarms: 'engine-latency' }, 'alarms must be a list of alarm names'],
    ])('rejects %s before doubling anything', async (_what, input, message) => {
      const e = await execute(d, rb, world, input);

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('RunbookInputError');
      expect(e.cause).toContain(message);
      expect(e.path).toEqual(['Plan', 'Report rejected input', 'Failed']);
      expect(world.callsOf('lambda:emergency')).toEqual([]);
      expect(world.changes()).toEqual([]);
      expect(world.incidents.records.size).toBe(0);
      expect(subjects(world)).toEqual(['emergency-scale-up rejected its input']);
    });
  });

  describe('throttling', () => {
    it('retries throttled Lambda invocations and calls and succeeds, doubling once', async () => {
      world
        .fail({ call: 'lambda:emergency', error: 'Lambda.TooManyRequestsException', times: 2 })
        .fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.ThrottlingException', times: 2 })
        .fail({ call: 'cloudwatch:describeAlarms', error: 'CloudWatch.ThrottlingException', times: 2 })
        .fail({ call: 'sns:publish', error: 'Sns.ThrottlingException', times: 2 });

      const e = await execute(d, rb, world, { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual([
        'Double capacity',
        'Double capacity',
        'Report start',
        'Report start',
        'Doubled: service status',
        'Doubled: service status',
        'Read alarm states',
        'Read alarm states',
      ]);
      expect(e.caught).toEqual([]);
      expect(registersBy(world, 'lambda').map((r) => r.min)).toEqual([6, 2]);
      expect({ min: engine.min, max: engine.max, suspended: engine.suspended }).toEqual({ min: 2, max: 10, suspended: NOT_SUSPENDED });
    });
  });
});

describe('emergency-scale-up runbook with EKS node groups in the config', () => {
  const d: Deployment = deploy(JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput);
  const rb = runbookOf(d, 'emergency-scale-up');

  beforeEach(() => stubPlannerEnvironment(d));
  afterEach(() => vi.unstubAllEnvs());

  it('rejects a node group target (emergency doubling is for the ECS pools) before touching it', async () => {
    const world = seed(new World(), d);
    const before = limits(world);

    const e = await execute(d, rb, world, { target: 'gpu-g5' });

    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('RunbookInputError');
    expect(e.cause).toContain("emergency doubling is disabled for target 'gpu-g5'");
    expect(world.callsOf('lambda:emergency')).toEqual([]);
    expect(limits(world)).toEqual(before);
  });
});
