import { beforeEach, describe, expect, it } from 'vitest';
import { NOT_SUSPENDED } from '../../lambdas/core/holds';
import type { EcsService, Nodegroup } from '../fakes/aws';
import { deniedCalls } from '../iam/guard';
import { ENGINE_ALARM, eventWindow, MINUTE, START } from './fixtures';
import { entries, inOrder, useHarness, type TargetLimits } from './harness';

const SCALED_IN_PAUSED = { dynamicIn: true, dynamicOut: false, scheduled: false };
const restoreAt = (w: { eventEnd: string }, cooldownMinutes = 20) => Date.parse(w.eventEnd) + cooldownMinutes * MINUTE;

describe('scale-for-event on an ECS service (engine: min 2, max 10, ceiling 20)', () => {
  const h = useHarness('default', START);
  let engine: EcsService;

  beforeEach(() => {
    engine = Object.assign(h.service('engine'), { desired: 3, running: 3 });
  });

  describe('happy path', () => {
    it('holds event:<name> until eventEnd + cooldown, reports once the raise runs, releases at the end and leaves what the autoscaler added', async () => {
      const window = eventWindow(60, 60);
      let during: { holds: unknown; limits: TargetLimits; desired: number; running: number } | undefined;

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, name: 'launch', ...window }, {
        before: {
          'Wait until eventEnd + cooldown': () => {
            during = { holds: h.activeHolds(), limits: h.limits().engine!, desired: engine.desired, running: engine.running };
            // Target tracking adds tasks during the event.
            Object.assign(engine, { desired: 9, running: 9 });
          },
        },
      });

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Plan',
        'Wait until eventStart - lead',
        'Hold capacity for the event',
        'Raised: start polling',
        'Raised: service status',
        'Raised: tasks running?',
        'Report ready',
        'Wait until eventEnd + cooldown',
        'Release the hold',
        'Report done',
        'Released',
      ];
      expect(inOrder(e.path, route)).toEqual(route);
      // The fake runs the new count after two polls.
      expect(entries(e, 'Raised: service status')).toBe(2);
      expect(during).toEqual({
        holds: [expect.objectContaining({ target: 'engine', holder: 'event:launch', floor: 8, expiresAt: restoreAt(window) / 1000 })],
        limits: { min: 8, max: 10, suspension: NOT_SUSPENDED },
        desired: 8,
        running: 8,
      });
      // Released: the configured limits, and desired as the autoscaler left it, not the 3 from before the event.
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engine.desired).toBe(9);
      expect(e.output).toMatchObject({ held: { holder: 'event:launch', written: true, floor: 8 }, released: { holder: 'event:launch', released: true, desired: 9, min: 2, max: 10 } });
      expect(h.subjects()).toEqual(['scale-for-event: capacity raised and running', 'scale-for-event: event over, hold released']);
      expect(h.message(1)).toMatchObject({ runbook: 'pipestream-production-scale-for-event', execution: e.name, detail: { released: true } });
      // The state machine changed nothing itself: every change came from the runbook Lambda, allowed by its role.
      expect(h.fake.changes().map((c) => c.source)).toEqual(['sdk', 'sdk', 'sdk']);
      expect(deniedCalls()).toEqual([]);
    });

    it('names the hold after the execution when the input names no event', async () => {
      const e = await h.run('scale-for-event', { target: 'engine', replicas: 4, ...eventWindow() }, { name: 'launch-20261202' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.output).toMatchObject({ held: { holder: 'event:launch-20261202' }, released: { released: true } });
    });

    it('raises max with min when the replicas are above it; after the event max is back and desired within it', async () => {
      let during: TargetLimits | undefined;
      const e = await h.run('scale-for-event', { target: 'engine', replicas: 15, ...eventWindow() }, { before: { 'Report ready': () => void (during = h.limits().engine) } });

      expect(e.status).toBe('SUCCEEDED');
      expect(during).toEqual({ min: 15, max: 15, suspension: NOT_SUSPENDED });
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engine.desired).toBe(10);
    });

    it('sizes a multiplier against the desired count when the hold is written, not when the run was planned', async () => {
      const e = await h.run('scale-for-event', { target: 'engine', multiplier: 2, ...eventWindow() }, {
        // The autoscaler went from 3 to 4 tasks during the lead time.
        before: { 'Hold capacity for the event': () => void Object.assign(engine, { desired: 4, running: 4 }) },
      });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.output).toMatchObject({ held: { floor: 8, desired: 8, min: 8 } });
      expect(h.fake.callsOf('ecs:updateService', 'sdk').map((c) => c.input.desiredCount)).toEqual([8]);
    });
  });

  describe('invalid input', () => {
    it.each([
      ['replicas above the ceiling', { replicas: 21 }, 'replicas 21 is above the ceiling 20 of engine'],
      ['an unknown target', { target: 'nope' }, "unknown target 'nope'"],
      ['both replicas and multiplier', { multiplier: 2 }, 'give exactly one of replicas or multiplier'],
      ['an event that is over', { eventStart: '2020-01-01T10:00:00Z', eventEnd: '2020-01-01T12:00:00Z' }, 'the event is over'],
      ['an end before the start', { eventStart: '2099-01-01T12:00:00Z', eventEnd: '2099-01-01T10:00:00Z' }, 'eventEnd must be after eventStart'],
      ['a time without a zone', { eventStart: '2099-01-01T12:00:00' }, 'eventStart must be an ISO-8601 time with a zone'],
      ['an event name that cannot be a hold name', { name: 'launch day!' }, "name must be letters, digits, '-' and '_'"],
    ])('rejects %s before anything is held', async (_what, fields, message) => {
      const before = h.limits();

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 4, ...eventWindow(), ...fields });

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Rejected'] });
      expect(e.cause).toContain(message);
      expect(h.fake.calls.map((c) => c.call)).toEqual(['lambda:runbook', 'sns:publish']);
      expect(h.subjects()).toEqual(['scale-for-event rejected its input']);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(before);
    });
  });

  describe('two holds on one target', () => {
    it('two overlapping events: both held, min is the larger floor, and the first release leaves the second event its floor (issue #9)', async () => {
      const launch = eventWindow(60, 60);
      const keynote = eventWindow(90, 90);
      let overlap: { holds: string[]; limits: TargetLimits } | undefined;

      const [first, second] = await Promise.all([
        h.run('scale-for-event', { target: 'engine', replicas: 8, name: 'launch', ...launch }),
        h.run('scale-for-event', { target: 'engine', replicas: 6, name: 'keynote', ...keynote }, {
          startAt: START + 10 * MINUTE,
          before: { 'Wait until eventEnd + cooldown': () => void (overlap = { holds: h.activeHolds().map((x) => x.holder).sort(), limits: h.limits().engine! }) },
        }),
      ]);

      expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(overlap).toEqual({ holds: ['event:keynote', 'event:launch'], limits: { min: 8, max: 10, suspension: NOT_SUSPENDED } });
      // The launch ends first: min drops to the keynote's 6, not to the configured 2.
      expect(first.timeline.find((t) => t.state === 'Release the hold')!.at).toBe(restoreAt(launch));
      expect(first.output).toMatchObject({ released: { holder: 'event:launch', released: true, min: 6 } });
      expect(second.output).toMatchObject({ released: { holder: 'event:keynote', released: true, min: 2, max: 10 } });
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engine.desired).toBe(8);
    });

    it("a second run of the same event that fails at its hold step leaves the first run's hold in force (one event, one hold)", async () => {
      const window = eventWindow(60, 60);
      let during: { holds: string[]; limits: TargetLimits } | undefined;

      const [first, second] = await Promise.all([
        h.run('scale-for-event', { target: 'engine', replicas: 8, name: 'launch', ...window }, {
          name: 'launch-first',
          before: { 'Wait until eventEnd + cooldown': () => void (during = { holds: h.activeHolds().map((x) => x.holder), limits: h.limits().engine! }) },
        }),
        h.run('scale-for-event', { target: 'engine', replicas: 8, name: 'launch', ...window }, {
          name: 'launch-second',
          startAt: START + 40 * MINUTE,
          fail: { state: 'Hold capacity for the event' },
        }),
      ]);

      expect(second.status).toBe('FAILED');
      // Its failure path asked to release only a hold it wrote: there was none, so the first run's stays.
      expect(second.output ?? {}).not.toMatchObject({ released: { released: true } });
      expect(during).toEqual({ holds: ['event:launch'], limits: { min: 8, max: 10, suspension: NOT_SUSPENDED } });
      expect(first.status).toBe('SUCCEEDED');
      expect(first.output).toMatchObject({ released: { holder: 'event:launch', released: true } });
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it("an emergency during the event: the event's release keeps the incident's raised floor and paused scale-in", async () => {
      const window = eventWindow(60, 60);
      // The incident's alarm fires for an hour after the emergency runbook starts, then recovers.
      h.fake.addAlarm(ENGINE_ALARM, [...Array<string>(60).fill('ALARM'), 'OK']);
      let afterRelease: { holds: string[]; limits: TargetLimits } | undefined;

      const [event, incident] = await Promise.all([
        h.run('scale-for-event', { target: 'engine', replicas: 8, ...window }, {
          before: { 'Report done': () => void (afterRelease = { holds: h.activeHolds().map((x) => x.holder), limits: h.limits().engine! }) },
        }),
        h.run('emergency-scale-up', { target: 'engine' }, { name: 'engine-incident', startAt: START + 100 * MINUTE }),
      ]);

      expect([event.status, incident.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      // Opened at +100 min while the event held 8: doubled to 16.
      expect(incident.output).toMatchObject({ emergency: { outcome: 'doubled', from: 8, to: 16 } });
      expect(afterRelease).toEqual({ holds: ['emergency:engine-incident'], limits: { min: 16, max: 16, suspension: SCALED_IN_PAUSED } });
      expect(event.output).toMatchObject({ released: { released: true, min: 16, max: 16 } });
      // The incident ended after the event: then everything is as configured, desired brought within max.
      expect(incident.timeline.find((t) => t.state === 'Resume autoscaler')!.at).toBeGreaterThan(restoreAt(window));
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engine.desired).toBe(10);
    });
  });

  describe('slow capacity, failures and retries', () => {
    it('tasks that never run are reported; the hold stays until the end of the event, then is released', async () => {
      engine.convergeAfterPolls = Infinity;

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, ...eventWindow() });

      expect(e.status).toBe('SUCCEEDED');
      // 10 minutes of 30-second polls for an ECS service.
      expect(entries(e, 'Raised: service status')).toBe(20);
      expect(inOrder(e.path, ['Raised: not ready in time', 'Report not ready', 'Wait until eventEnd + cooldown', 'Release the hold', 'Released'])).toHaveLength(5);
      expect(h.subjects()).toEqual(['scale-for-event: the raised capacity is not running yet; the hold stays', 'scale-for-event: event over, hold released']);
      expect(h.message(0)).toMatchObject({ detail: { Error: 'NotReady', Cause: 'engine did not reach 8 in 20 polls' } });
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('a readiness poll that fails is reported as not ready, and the hold still lasts the event', async () => {
      h.fake.fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.AccessDeniedException' });

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, ...eventWindow() });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.caught).toEqual(['Raised: service status']);
      expect(e.path).toContain('Report not ready');
      expect(e.timeline.find((t) => t.state === 'Release the hold')).toBeDefined();
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('a hold that cannot be written is released (in case it landed), reported and failed', async () => {
      h.fake.fail({ call: 'lambda:runbook', error: 'Lambda.Unknown', afterEffect: true, when: (p: { action?: string }) => p.action === 'hold' });

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, ...eventWindow() });

      expect(e).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
      // Five retries of the step, then the Catch.
      expect(e.retried.filter((s) => s === 'Hold capacity for the event')).toHaveLength(5);
      expect(inOrder(e.path, ['Hold capacity for the event', 'Release after failure', 'Report failure (released)', 'Failed'])).toHaveLength(4);
      expect(h.subjects()).toEqual(['scale-for-event failed; its hold is released']);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('a Hold retried after Lambda.Unknown finds its own hold and carries on with it (one event, one hold)', async () => {
      h.fake.fail({ call: 'lambda:runbook', error: 'Lambda.Unknown', afterEffect: true, times: 1, when: (p: { action?: string }) => p.action === 'hold' });

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, ...eventWindow() });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Hold capacity for the event']);
      // The retry finds the hold this same run wrote (named in its reason): it is ours, and released at the end.
      expect(e.output).toMatchObject({ held: { written: true, desired: 8, min: 8 }, released: { released: true } });
      expect(h.fake.callsOf('dynamodb:putItem')).toHaveLength(2);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('retries throttled Lambda invocations and polls and succeeds', async () => {
      h.fake
        .fail({ call: 'lambda:runbook', error: 'Lambda.TooManyRequestsException', times: 2 })
        .fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.ThrottlingException', times: 2 });

      const e = await h.run('scale-for-event', { target: 'engine', replicas: 8, ...eventWindow() });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Plan', 'Plan', 'Raised: service status', 'Raised: service status']);
      expect(e.caught).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });
});

describe('scale-for-event on an EKS node group (gpu-g5: min 0, max 8)', () => {
  const h = useHarness('eks', START);
  let group: Nodegroup;

  beforeEach(() => {
    group = h.nodegroup('gpu-g5');
  });

  it('holds the group at the replicas, waits until it is ACTIVE at that size, releases at the end', async () => {
    let during: TargetLimits | undefined;
    const e = await h.run('scale-for-event', { target: 'gpu-g5', replicas: 4, ...eventWindow() }, { before: { 'Report ready': () => void (during = h.limits()['gpu-g5']) } });

    expect(e.status).toBe('SUCCEEDED');
    const route = ['Hold capacity for the event', 'Raised: which kind?', 'Raised: node group status', 'Raised: group active?', 'Report ready', 'Release the hold', 'Released'];
    expect(inOrder(e.path, route)).toEqual(route);
    expect(e.path).not.toContain('Raised: service status');
    // UPDATING on the first poll, ACTIVE on the second.
    expect(entries(e, 'Raised: node group status')).toBe(2);
    expect(during).toEqual({ min: 4, max: 8, suspension: NOT_SUSPENDED });
    expect(h.fake.callsOf('eks:updateNodegroupConfig').map((c) => [c.source, c.input.scalingConfig])).toEqual([
      ['sdk', { minSize: 4, maxSize: 8, desiredSize: 4 }],
      ['sdk', { minSize: 0, maxSize: 8, desiredSize: 4 }],
    ]);
    expect(h.limits()).toEqual(h.configuredLimits());
    expect(deniedCalls()).toEqual([]);
  });

  it('a group that never becomes ACTIVE: polls for 20 minutes, reports, holds until the end, releases', async () => {
    group.activeAfterPolls = Infinity;

    const e = await h.run('scale-for-event', { target: 'gpu-g5', replicas: 4, ...eventWindow() });

    expect(e.status).toBe('SUCCEEDED');
    expect(entries(e, 'Raised: node group status')).toBe(40);
    expect(inOrder(e.path, ['Raised: not ready in time', 'Report not ready', 'Release the hold', 'Released'])).toHaveLength(4);
    expect(group).toMatchObject({ min: 0, max: 8 });
  });

  it('rejects replicas above the node group ceiling before anything is held', async () => {
    const e = await h.run('scale-for-event', { target: 'gpu-g5', replicas: 17, ...eventWindow() });

    expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Rejected'] });
    expect(e.cause).toContain('replicas 17 is above the ceiling 16 of gpu-g5');
    expect(h.fake.changes()).toEqual([]);
  });
});
