import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/runbook';
import { environmentOf } from '../iam/policy';
import {
  deployedAccount,
  epoch,
  eventBridgeAlarm,
  expectOneLineError,
  handlerSuite,
  MINUTE,
  setNow,
  withTarget,
  type Account,
  type DocEdit,
} from './fixtures';

handlerSuite();

const NOW = Date.parse('2026-03-10T09:41:07Z');
const ALARM = 'pipestream-production-engine-emergencyLatency';

/** The design config as deployed, engine at `engine` tasks, with the planner's environment. */
function design(engine = 4, edit?: DocEdit): Account {
  setNow(NOW);
  const account = deployedAccount('design', { desired: { engine }, ...(edit ? { edit } : {}) });
  vi.stubEnv('MLSCALE_EMERGENCY_RUNBOOK_ARN', environmentOf(account.template!, 'RunbooksPlanner').MLSCALE_EMERGENCY_RUNBOOK_ARN!);
  return account;
}

const run = (account: Account, event: unknown) => account.as('RunbooksPlanner', () => handler(event));
const EVENT = { target: 'engine', eventStart: '2026-03-10T18:00:00Z', eventEnd: '2026-03-10T20:00:00Z' };

describe('Function: runbook handler', () => {
  describe('plans', () => {
    it.each([
      ['plan-event', 'an input that is not an object', 'launch', /^input must be a JSON object/],
      ['plan-event', 'an unknown target', { ...EVENT, target: 'nope', replicas: 4 }, /^unknown target 'nope' \(known: engine, embedder, gpu-workers\)/],
      ['plan-event', 'both replicas and multiplier', { ...EVENT, replicas: 4, multiplier: 2 }, /^give exactly one of replicas or multiplier/],
      ['plan-event', 'replicas above the ceiling', { ...EVENT, replicas: 25 }, /^replicas 25 is above the ceiling 20 of engine/],
      ['plan-event', 'a time without a zone', { ...EVENT, replicas: 4, eventStart: '2026-03-10T18:00:00' }, /^eventStart must be an ISO-8601 time with a zone/],
      ['plan-event', 'an end before the start', { ...EVENT, replicas: 4, eventEnd: '2026-03-10T17:00:00Z' }, /^eventEnd must be after eventStart/],
      ['plan-event', 'an event already over', { ...EVENT, replicas: 4, eventStart: '2026-03-09T18:00:00Z', eventEnd: '2026-03-09T20:00:00Z' }, /^the event is over/],
      ['plan-event', 'a name with a space', { ...EVENT, replicas: 4, name: 'black friday' }, /^name must be letters, digits, '-' and '_'/],
      ['plan-emergency', 'an unknown target', { target: 'nope' }, /^unknown target 'nope'/],
      ['plan-emergency', 'a target with emergency doubling disabled', { target: 'gpu-workers' }, /^emergency doubling is disabled for target 'gpu-workers'/],
      ['plan-emergency', 'alarms that are not a list', { target: 'engine', alarms: ALARM }, /^alarms must be a list of alarm names/],
      ['plan-emergency', 'a monitoring time below the stable time', { target: 'engine', stableMinutes: 30, maxMonitorMinutes: 10 }, /^maxMonitorMinutes must be >= stableMinutes, got 10 < 30/],
      ['plan-nodegroup', 'an ECS service', { nodegroup: 'engine', desiredSize: 2 }, /^engine is not an EKS node group/],
      ['plan-nodegroup', 'a size above the max', { nodegroup: 'gpu-workers', desiredSize: 5 }, /^desiredSize 5 is above the max 4 of gpu-workers/],
      ['plan-nodegroup', 'a negative size', { nodegroup: 'gpu-workers', desiredSize: -1 }, /^desiredSize must be a whole number >= 0, got -1/],
      ['plan-rollout', 'steps that do not increase', { target: 'engine', steps: [1, 3, 2] }, /^steps must be increasing, got 3 then 2/],
      ['plan-rollout', 'steps above the max', { target: 'engine', steps: [2, 12] }, /^steps must not exceed the max capacity 10 of engine, got 12/],
      ['plan-rollout', 'an unknown target', { target: 'nope', steps: [1] }, /^unknown target 'nope'/],
    ])('%s: throws a one-line RunbookInputError and makes no AWS call for %s', async (action, _case, input, message) => {
      const account = design();

      await expectOneLineError(run(account, { action, input }), message, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });

    it('plan-rollout: names the hold after the execution and gates on the target’s health alarms', async () => {
      const account = design();
      const plan = (await run(account, { action: 'plan-rollout', input: { target: 'engine', steps: [1, 3, 5] }, execution: 'engine-rollout-1' })) as Record<string, unknown>;
      expect(plan).toMatchObject({ holder: 'rollout:engine-rollout-1', steps: [1, 3, 5], stepCount: 3, holdMinutes: 5 });
      expect(account.fake.calls).toEqual([]);
    });

    it('throws a one-line RunbookInputError for an unknown action and makes no AWS call', async () => {
      const account = design();

      await expectOneLineError(run(account, { action: 'explode' }), /^unknown action "explode" \(plan-event, plan-emergency, plan-nodegroup, plan-rollout, hold, release, alarm-states, or an alarm event\)/, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });

    it('plan-event: resolves the target and the hold the runbook writes when the lead time begins, with no AWS call', async () => {
      const account = design();

      const plan = await run(account, { action: 'plan-event', input: { ...EVENT, multiplier: 2 }, execution: 'launch-2026' });

      expect(plan).toMatchObject({
        target: { name: 'engine', kind: 'ecs-service', cluster: 'pipestream', service: 'engine', resourceId: 'service/pipestream/engine', ceiling: 20 },
        holder: 'event:launch-2026',
        startAt: '2026-03-10T17:30:00.000Z',
        restoreAt: '2026-03-10T20:20:00.000Z',
        hold: { target: 'engine', holder: 'event:launch-2026', multiplier: 2, until: '2026-03-10T20:20:00.000Z', ifAbsent: true },
      });
      expect(account.fake.calls).toEqual([]);
    });

    it("plan-emergency: takes the target's alarms and the document's stable time", async () => {
      const account = design();

      const plan = await run(account, { action: 'plan-emergency', input: { target: 'engine' } });

      expect(plan).toMatchObject({ alarms: [ALARM], hasAlarms: true, stableMinutes: 15, stableSeconds: 900, maxMonitorMinutes: 180, holdMinutes: 195 });
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('hold', () => {
    const hold = { action: 'hold', target: 'engine', holder: 'event:launch', multiplier: 2, minutes: 90, reason: 'launch', ifAbsent: true };

    it('sizes a multiplier hold against desired at the time, writes it and reconciles the target', async () => {
      const account = design(4);

      const result = await run(account, hold);

      expect(result).toEqual({ holder: 'event:launch', floor: 8, written: true, desired: 8, min: 8, max: 10, expiresAt: new Date((epoch(NOW) + 90 * 60) * 1000).toISOString() });
      expect(account.holds()).toEqual([{ target: 'engine', holder: 'event:launch', floor: 8, reason: 'launch', createdAt: epoch(NOW), expiresAt: epoch(NOW) + 90 * 60 }]);
      expect(account.service('engine')).toMatchObject({ min: 8, desired: 8 });
    });

    it('does not write a second hold of the same holder with ifAbsent: the first one stands', async () => {
      const account = design(4);
      await run(account, hold);
      setNow(NOW + MINUTE);

      const second = await run(account, hold);

      expect(second).toMatchObject({ holder: 'event:launch', written: false, desired: 8, min: 8 });
      expect(account.holds().map((h) => [h.holder, h.floor, h.createdAt])).toEqual([['event:launch', 8, epoch(NOW)]]);
      expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget')).toHaveLength(1);
      // The answer is the hold in force (the first one), not the one that was not written.
      expect(second).toMatchObject({ floor: 8, expiresAt: new Date((epoch(NOW) + 90 * 60) * 1000).toISOString() });
    });

    it('sets the desired capacity it is asked for within the new limits (the node group runbook)', async () => {
      const account = design();

      const result = await run(account, { action: 'hold', target: 'gpu-workers', holder: 'rollout:resize-1', floor: 2, minutes: 60, request: 3 });

      expect(result).toMatchObject({ holder: 'rollout:resize-1', floor: 2, written: true, desired: 3, min: 2, max: 4 });
      expect(account.nodegroup('gpu-workers')).toMatchObject({ min: 2, desired: 3 });
    });

    it.each([
      ['a floor above the ceiling', { floor: 25 }, /^floor 25 is above the ceiling 20 of engine/],
      ['both floor and multiplier', { floor: 4, multiplier: 2 }, /^give exactly one of floor or multiplier/],
      ['a holder of no known kind', { holder: 'someone', floor: 4 }, /^holder must start with one of emergency, event, /],
      ['an end in the past', { floor: 4, until: '2026-03-10T09:00:00Z' }, /^the hold would already be over/],
    ])('throws a one-line RunbookInputError and makes no AWS call for %s', async (_case, fields, message) => {
      const account = design();

      await expectOneLineError(run(account, { action: 'hold', target: 'engine', holder: 'event:launch', minutes: 60, ...fields }), message, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('release', () => {
    it('releases a hold and reconciles: the configured minimum is back, desired is not cut', async () => {
      const account = design(4);
      await run(account, { action: 'hold', target: 'engine', holder: 'event:launch', floor: 8, minutes: 60 });

      const released = await run(account, { action: 'release', target: 'engine', holder: 'event:launch' });
      const again = await run(account, { action: 'release', target: 'engine', holder: 'event:launch' });

      expect(released).toEqual({ holder: 'event:launch', released: true, desired: 8, min: 2, max: 10 });
      expect(again).toEqual({ holder: 'event:launch', released: false, desired: 8, min: 2, max: 10 });
      expect(account.holds()).toEqual([]);
      expect(account.service('engine')).toMatchObject({ min: 2, desired: 8 });
    });

    it('throws a one-line RunbookInputError and makes no AWS call without a holder', async () => {
      const account = design();

      await expectOneLineError(run(account, { action: 'release', target: 'engine' }), /^holder must be a non-empty string/, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('alarm-states', () => {
    it.each([
      ['a composite alarm', 'CompositeAlarm'],
      ['a metric alarm', 'MetricAlarm'],
    ] as const)('reads the state of %s, asking DescribeAlarms for both types', async (_case, type) => {
      const account = design();
      account.fake.addAlarm(ALARM, ['ALARM'], type);

      const result = await run(account, { action: 'alarm-states', alarms: [ALARM] });

      expect(result).toEqual({ states: { [ALARM]: 'ALARM' }, missing: [], inAlarm: true, complete: true, missingText: '' });
      expect(account.fake.callsOf('cloudwatch:describeAlarms').map((c) => c.input)).toEqual([expect.objectContaining({ AlarmNames: [ALARM], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })]);
    });

    it('reports the alarms CloudWatch does not have as missing', async () => {
      const account = design();

      const result = await run(account, { action: 'alarm-states', alarms: [ALARM] });

      expect(result).toEqual({ states: {}, missing: [ALARM], inAlarm: false, complete: false, missingText: ALARM });
    });

    it('throws a one-line RunbookInputError and makes no AWS call when alarms is not a list of names', async () => {
      const account = design();

      await expectOneLineError(run(account, { action: 'alarm-states', alarms: [ALARM, ''] }), /^alarms must be a list of alarm names/, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });

    it("refuses to plan an emergency runbook with alarms that are not the target's (its role may read only those)", async () => {
      const account = design();

      await expectOneLineError(
        run(account, { action: 'plan-emergency', input: { target: 'engine', alarms: ['pipestream-production-engine-errors'] } }),
        /^alarms must be among engine's alarms \(pipestream-production-engine-emergencyLatency\), got pipestream-production-engine-errors$/,
        'RunbookInputError',
      );
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('alarm event', () => {
    it('starts the emergency runbook once per target and alarm minute', async () => {
      const account = design();
      const arn = environmentOf(account.template!, 'RunbooksPlanner').MLSCALE_EMERGENCY_RUNBOOK_ARN!;

      const first = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW));
      const second = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW + 20_000));

      expect(first).toEqual({ execution: 'engine-20260310T0941Z', started: true, executionArn: `${arn.replace(':stateMachine:', ':execution:')}:engine-20260310T0941Z` });
      expect(second).toEqual({ execution: 'engine-20260310T0941Z', started: false });
      expect([...account.fake.executions.values()].map((e) => [e.name, JSON.parse(e.input)])).toEqual([
        ['engine-20260310T0941Z', { target: 'engine', alarms: [ALARM], trigger: ALARM }],
      ]);
    });

    it('ignores an alarm event that is not in ALARM and makes no AWS call', async () => {
      const account = design();

      const result = await run(account, eventBridgeAlarm(ALARM, 'OK', NOW));

      expect(result).toEqual({ ignored: `alarm ${ALARM} is OK` });
      expect(account.fake.calls).toEqual([]);
    });

    it('refuses a document where an alarm is listed by two targets, naming both, before any AWS call (issue #8)', async () => {
      // The document is refused where it is parsed (at synth, and in the handler before any call), not when an alarm fires.
      expect(() => design(4, (doc: Account['doc']) => withTarget(doc, 'embedder', { alarms: [ALARM] }))).toThrow(
        new RegExp(`^Invalid .*targets\\[1\\]\\.alarms\\[0\\]: alarm '${ALARM}' is listed by targets 'engine' and 'embedder'; an alarm starts the emergency of one target$`),
      );
    });

    it.each([
      ['an alarm no target lists', (doc: Account['doc']) => doc, 'someone-elses-alarm', /^alarm 'someone-elses-alarm' belongs to no target/],
    ])('refuses %s with a one-line RunbookInputError and starts nothing', async (_case, edit, alarm, message) => {
      const account = design(4, edit);

      await expectOneLineError(run(account, eventBridgeAlarm(alarm, 'ALARM', NOW)), message, 'RunbookInputError');
      expect(account.fake.calls).toEqual([]);
    });
  });
});
