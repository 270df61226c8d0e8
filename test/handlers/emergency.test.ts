import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/emergency';
import { handler as reconcile } from '../../lambdas/reconcile';
import {
  alarmAction,
  deployedAccount,
  epoch,
  eventBridgeAlarm,
  expectOneLineError,
  failureOf,
  handlerSuite,
  holdFor,
  MINUTE,
  recordMetrics,
  setNow,
  snsAlarm,
  withTarget,
  writes,
  type Account,
  type DocEdit,
} from './fixtures';

handlerSuite();

const NOW = Date.parse('2026-03-10T09:41:07Z');
/** The incident a trigger at NOW opens: target and minute. */
const INCIDENT = 'engine-20260310-0941';
/** The alarm the design config's engine lists (its emergency latency alarm). */
const ALARM = 'pipestream-production-engine-emergencyLatency';
const EXECUTION = `arn:aws:states:eu-west-1:123456789012:execution:pipestream-production-emergency-scale-up:engine-20260310T0941Z`;
const NOT_SUSPENDED = { dynamicIn: false, dynamicOut: false, scheduled: false };

/** The design config's targets with engine at `engine` tasks (2-10, emergency ceiling 20). */
function design(engine = 3, edit?: DocEdit): Account {
  setNow(NOW);
  return deployedAccount('design', { desired: { engine }, ...(edit ? { edit } : {}) });
}

const run = (account: Account, event: unknown) => account.as('EmergencyFunction', () => handler(event));
const emergencyHolds = (account: Account) => account.holds('engine').filter((h) => h.holder.startsWith('emergency:'));

describe('Function: emergency handler', () => {
  describe('triggers', () => {
    it.each([
      ['an EventBridge "CloudWatch Alarm State Change" event', eventBridgeAlarm(ALARM, 'ALARM', NOW)],
      ['a CloudWatch alarm direct Lambda action', alarmAction(ALARM, 'ALARM', NOW)],
      ['an SNS-wrapped alarm message', snsAlarm(ALARM, 'ALARM', NOW)],
      ['a direct { target } call', { target: 'engine' }],
    ])('doubles the target once with an emergency:<incident> hold when invoked by %s', async (_shape, event) => {
      const account = design();

      const result = await run(account, event);

      expect(result).toEqual({
        target: 'engine',
        outcome: 'doubled',
        incidentId: INCIDENT,
        from: 3,
        to: 6,
        min: 6,
        max: 10,
        expiresAt: new Date((epoch(NOW) + 180 * 60) * 1000).toISOString(),
        // The design engine sizes raises to its backlog; with no backlog reading it doubles, and says so.
        reason: 'doubled 3 -> 6 (no backlog reading to size the raise from)',
      });
      expect(account.holds()).toEqual([
        expect.objectContaining({ target: 'engine', holder: `emergency:${INCIDENT}`, floor: 6, ceiling: 10, suspendScaleIn: true, expiresAt: epoch(NOW) + 180 * 60 }),
      ]);
      expect(account.fake.changes().map((c) => c.call)).toEqual(['applicationautoscaling:registerScalableTarget', 'ecs:updateService']);
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 6, max: 10, suspended: { dynamicIn: true, dynamicOut: false, scheduled: false } });
    });

    it('takes a runbook execution as its incident and its holdMinutes as the end of the hold', async () => {
      const account = design();

      const result = await run(account, { target: 'engine', execution: EXECUTION, holdMinutes: 45 });

      expect(result).toMatchObject({ outcome: 'doubled', incidentId: 'engine-20260310T0941Z', expiresAt: new Date((epoch(NOW) + 45 * 60) * 1000).toISOString() });
      expect(account.holds().map((h) => [h.holder, h.expiresAt])).toEqual([['emergency:engine-20260310T0941Z', epoch(NOW) + 45 * 60]]);
    });

    it('publishes one EmergencyActions metric with the outcome as its dimension', async () => {
      const published = recordMetrics();
      const account = design();

      await run(account, { target: 'engine' });

      expect(published()).toEqual([{ name: 'EmergencyActions', value: 1, dimensions: { Outcome: 'doubled' } }]);
    });

    it.each([
      ['EventBridge', eventBridgeAlarm(ALARM, 'OK', NOW)],
      ['alarm action', alarmAction(ALARM, 'OK', NOW)],
      ['SNS', snsAlarm(ALARM, 'OK', NOW)],
      ['EventBridge (INSUFFICIENT_DATA)', eventBridgeAlarm(ALARM, 'INSUFFICIENT_DATA', NOW)],
    ])('ignores a %s alarm event that is not in ALARM and makes no AWS call', async (_shape, event) => {
      const account = design();

      const result = await run(account, event);

      expect(result).toEqual({ ignored: expect.stringMatching(/not ALARM/) });
      expect(account.fake.calls).toEqual([]);
    });

    it.each([
      ['an alarm no target lists (EventBridge)', eventBridgeAlarm('someone-elses-alarm', 'ALARM', NOW), /^alarm 'someone-elses-alarm' belongs to no target/],
      ['an alarm no target lists (alarm action)', alarmAction('someone-elses-alarm', 'ALARM', NOW), /^alarm 'someone-elses-alarm' belongs to no target/],
      ['an alarm no target lists (SNS)', snsAlarm('someone-elses-alarm', 'ALARM', NOW), /^alarm 'someone-elses-alarm' belongs to no target/],
      ['an alarm event with no alarm name', eventBridgeAlarm('', 'ALARM', NOW), /^EventBridge event has no alarm name/],
      ['an SNS event with two records', { Records: [...snsAlarm(ALARM, 'ALARM', NOW).Records, ...snsAlarm(ALARM, 'ALARM', NOW).Records] }, /^SNS event must carry exactly one record/],
      ['an SNS message that is not JSON', { Records: [{ Sns: { Message: 'ALARM!' } }] }, /^SNS message is not a CloudWatch alarm notification \(not JSON\)/],
      ['an unknown target', { target: 'nope' }, /^unknown target 'nope' \(known: engine, embedder, gpu-workers\)/],
      ['an empty target', { target: '' }, /^target must be a non-empty string/],
      ['an incident with a space', { target: 'engine', incident: 'inc 1' }, /^incident must be letters, digits and '-_\.' \(up to 80\), got "inc 1"/],
      ['holdMinutes of 0', { target: 'engine', holdMinutes: 0 }, /^holdMinutes must be a whole number of minutes from 1 to 1440, got 0/],
      ['an unknown action', { target: 'engine', action: 'explode' }, /^action must be 'trigger', 'resume' or 'watch', got 'explode'/],
      ['an unrecognised event', { hello: 'world' }, /^unrecognised event/],
      ['an event that is not an object', 'engine', /^event must be a JSON object/],
    ])('throws a one-line error and makes no AWS call for %s', async (_case, event, message) => {
      const account = design();

      await expectOneLineError(run(account, event), message, 'EmergencyEventError');
      expect(account.fake.calls).toEqual([]);
    });

    it('refuses an alarm listed by two targets, naming both, and makes no AWS call', async () => {
      // Refused where the document is parsed (at synth, and in the handler before any call), not when the alarm fires.
      expect(() => design(3, (doc) => withTarget(doc, 'embedder', { alarms: [ALARM] }))).toThrow(
        new RegExp(`^Invalid .*alarm '${ALARM}' is listed by targets 'engine' and 'embedder'; an alarm starts the emergency of one target$`),
      );
    });

    it('refuses a target with emergency doubling disabled and makes no AWS call', async () => {
      const account = design();

      await expectOneLineError(run(account, { target: 'gpu-workers' }), /^emergency doubling is disabled for target 'gpu-workers'/);
      expect(account.fake.calls).toEqual([]);
    });

    it('throws a one-line error naming the field and makes no AWS call when MLSCALE_CONFIG is malformed', async () => {
      const account = design();
      vi.stubEnv('MLSCALE_CONFIG', JSON.stringify({ targets: [{ ...account.spec('engine'), maxCapacity: 'ten' }] }));

      await expectOneLineError(run(account, { target: 'engine' }), /^Invalid MLSCALE_CONFIG: targets\[0\]\.maxCapacity: /);
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('doubling', () => {
    it('raises max only as far as the raise, not to the emergency ceiling', async () => {
      const account = design(8);

      const result = await run(account, { target: 'engine' });

      expect(result).toMatchObject({ outcome: 'doubled', from: 8, to: 16, min: 16, max: 16 });
      expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').map((c) => [c.input.MinCapacity, c.input.MaxCapacity])).toEqual([[16, 16]]);
      expect(account.service('engine')).toMatchObject({ desired: 16, min: 16, max: 16 });
    });

    it('caps the doubling at the emergency ceiling (maxCapacity x 2 as deployed)', async () => {
      const account = design(10);

      const result = await run(account, { target: 'engine' });

      expect(result).toMatchObject({ outcome: 'at-ceiling', from: 10, to: 20, min: 20, max: 20, reason: 'doubled 10 -> 20 (capped at the emergency ceiling 20) (no backlog reading to size the raise from)' });
      expect(account.service('engine')).toMatchObject({ desired: 20, min: 20, max: 20 });
    });

    it("caps the doubling at the target's own emergencyCeiling", async () => {
      const account = design(8, (doc) => withTarget(doc, 'engine', { emergencyCeiling: 14 }));

      const result = await run(account, { target: 'engine' });

      expect(result).toMatchObject({ outcome: 'at-ceiling', from: 8, to: 14, min: 14, max: 14 });
      expect(account.holds()).toEqual([expect.objectContaining({ floor: 14, ceiling: 14 })]);
    });

    it('retries throttling on every call of a trigger and doubles once', async () => {
      const account = design();
      for (const call of ['dynamodb:query', 'ecs:describeServices', 'applicationautoscaling:describeScalableTargets', 'dynamodb:putItem', 'applicationautoscaling:registerScalableTarget', 'ecs:updateService']) {
        account.fake.fail({ call, error: 'X.ThrottlingException', cause: 'Rate exceeded', times: 1 });
      }

      const result = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW));

      expect(result).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(account.fake.callsOf('dynamodb:putItem')).toHaveLength(2);
      expect(account.fake.callsOf('ecs:updateService')).toHaveLength(2);
      expect(account.service('engine').desired).toBe(6);
      expect(emergencyHolds(account)).toHaveLength(1);
    });
  });

  describe('idempotency', () => {
    it('doubles once when one incident is triggered again, in the same minute or later', async () => {
      const account = design();

      const first = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW));
      const again = await run(account, snsAlarm(ALARM, 'ALARM', NOW));
      setNow(NOW + 5 * MINUTE);
      const later = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW + 5 * MINUTE));

      expect(first).toMatchObject({ outcome: 'doubled', to: 6 });
      expect(again).toMatchObject({ outcome: 'doubled', incidentId: INCIDENT, to: 6 });
      expect(later).toMatchObject({ outcome: 'already-open', incidentId: INCIDENT });
      expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual([6]);
      expect(emergencyHolds(account).map((h) => h.holder)).toEqual([`emergency:${INCIDENT}`]);
      expect(account.service('engine').desired).toBe(6);
    });

    it('doubles once when two triggers of one incident race (the second write fails its condition)', async () => {
      const account = design();
      let second: unknown;
      // The SNS copy of the alarm runs to the end while the EventBridge copy is about to write its hold.
      account.fake.before('dynamodb:putItem', async () => {
        second = await run(account, snsAlarm(ALARM, 'ALARM', NOW));
      });

      const first = await run(account, eventBridgeAlarm(ALARM, 'ALARM', NOW));

      expect(second).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(first).toMatchObject({ outcome: 'already-open', incidentId: INCIDENT });
      expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual([6]);
      expect(emergencyHolds(account)).toHaveLength(1);
    });

    it('doubles once when triggers of two incidents race: both floors are the same doubling, and the reconciler takes the max', async () => {
      const account = design();
      let second: unknown;
      account.fake.before('dynamodb:putItem', async () => {
        second = await run(account, { target: 'engine', incident: 'inc-b' });
      });

      const first = await run(account, { target: 'engine', incident: 'inc-a' });

      expect(second).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(first).toMatchObject({ outcome: 'doubled', from: 3, to: 6 });
      expect(emergencyHolds(account).map((h) => [h.holder, h.floor])).toEqual([
        ['emergency:inc-a', 6],
        ['emergency:inc-b', 6],
      ]);
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 6 });
      expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual([6]);
    });

    it("returns 'doubled' with its own hold for a retry of the same execution after its first call landed (Lambda.Unknown)", async () => {
      const account = design();
      const first = await run(account, { target: 'engine', execution: EXECUTION, holdMinutes: 60 });
      // Step Functions retries the task a minute later: the first response was lost.
      setNow(NOW + MINUTE);

      const retry = await run(account, { target: 'engine', execution: EXECUTION, holdMinutes: 60 });

      expect(first).toMatchObject({ outcome: 'doubled', to: 6 });
      expect(retry).toMatchObject({ target: 'engine', outcome: 'doubled', incidentId: 'engine-20260310T0941Z', to: 6, min: 6, max: 10, expiresAt: (first as { expiresAt: string }).expiresAt });
      expect(emergencyHolds(account)).toEqual([expect.objectContaining({ holder: 'emergency:engine-20260310T0941Z', floor: 6, expiresAt: epoch(NOW) + 60 * 60 })]);
      expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual([6]);
    });

    it('applies its own hold on a retry of the same execution whose first call wrote the hold and then failed', async () => {
      const account = design();
      account.fake.fail({ call: 'applicationautoscaling:registerScalableTarget', error: 'ApplicationAutoScaling.ValidationException', cause: 'rejected', times: 1 });

      const failure = await failureOf(run(account, { target: 'engine', execution: EXECUTION }));
      const retry = await run(account, { target: 'engine', execution: EXECUTION });

      expect(failure.name).toBe('EmergencyApplyError');
      expect(failure.message).toMatch(/^incident engine-20260310T0941Z on engine: hold written but not applied \(.*ValidationException: rejected\); it ends by itself or on resume$/);
      expect(retry).toMatchObject({ outcome: 'doubled', incidentId: 'engine-20260310T0941Z', to: 6, min: 6 });
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 6 });
      expect(emergencyHolds(account)).toHaveLength(1);
    });
  });

  describe('resume', () => {
    it("releases only the named incident's hold and reconciles: the other holds and the configured limits apply, desired is not cut", async () => {
      const account = design();
      await run(account, { target: 'engine', incident: 'inc-a' });
      account.putHold(holdFor('engine', 'event:launch', { floor: 4 }, NOW));

      const result = await run(account, { action: 'resume', target: 'engine', incident: 'inc-a' });

      expect(result).toMatchObject({ target: 'engine', outcome: 'resumed', incidentId: 'inc-a', min: 4, max: 10 });
      expect(account.holds().map((h) => h.holder)).toEqual(['event:launch']);
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 4, max: 10, suspended: NOT_SUSPENDED });
      expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual([6]);
    });

    it('releases every emergency hold of the target when no incident is named', async () => {
      const account = design();
      account.putHold(holdFor('engine', 'emergency:inc-a', { floor: 6, ceiling: 10, suspendScaleIn: true }, NOW));
      account.putHold(holdFor('engine', 'emergency:inc-b', { floor: 6, ceiling: 10, suspendScaleIn: true }, NOW));
      Object.assign(account.service('engine'), { desired: 6, min: 6, suspended: { ...NOT_SUSPENDED, dynamicIn: true } });

      const result = await run(account, { action: 'resume', target: 'engine' });

      expect(result).toMatchObject({ outcome: 'resumed', min: 2, max: 10 });
      expect(account.holds()).toEqual([]);
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 2, suspended: NOT_SUSPENDED });
    });

    it("reports 'no-open-incident' and changes no capacity when the incident's hold was never written", async () => {
      const account = design();

      const result = await run(account, { action: 'resume', target: 'engine', incident: 'inc-never' });

      expect(result).toMatchObject({ target: 'engine', outcome: 'no-open-incident', incidentId: 'inc-never', min: 2, max: 10 });
      expect(account.fake.changes()).toEqual([]);
    });

    it('leaves nothing raised when a resume lands while a trigger is between writing its hold and applying it', async () => {
      const account = design();
      let resumed: unknown;
      account.fake.before('applicationautoscaling:registerScalableTarget', async () => {
        resumed = await run(account, { action: 'resume', target: 'engine', incident: 'inc-a' });
      });

      const triggered = await run(account, { target: 'engine', incident: 'inc-a' });

      expect(resumed).toMatchObject({ outcome: 'resumed', incidentId: 'inc-a' });
      expect(triggered).toMatchObject({ outcome: 'doubled', min: 2, max: 10 });
      expect(account.holds()).toEqual([]);
      // The trigger's pass saw the hold gone when it looked again: the limits are the configured ones, desired is left as raised.
      expect(account.service('engine')).toMatchObject({ min: 2, max: 10, suspended: NOT_SUSPENDED, desired: 6 });
    });

    it('lets the hold end by itself when nobody resumes (the runbook aborted): the next reconcile restores the configured state', async () => {
      const account = design();
      await run(account, { target: 'engine', execution: EXECUTION, holdMinutes: 30 });
      const reconcileAt = async (at: number) => {
        setNow(at);
        return account.as('ReconcilerFunction', () => reconcile({}));
      };

      const during = await reconcileAt(NOW + 29 * MINUTE);
      const after = await reconcileAt(NOW + 31 * MINUTE);

      expect(during.targets.find((t) => t.target === 'engine')).toMatchObject({ min: 6, suspended: true, holds: ['emergency:engine-20260310T0941Z'] });
      expect(after.targets.find((t) => t.target === 'engine')).toEqual({ target: 'engine', min: 2, max: 10, suspended: false, desired: 6, holds: [], from: 6 });
      expect(account.service('engine')).toMatchObject({ desired: 6, min: 2, max: 10, suspended: NOT_SUSPENDED });
      expect(writes(account.fake).filter((c) => c === 'ecs:updateService')).toHaveLength(1);
    });
  });
});

describe('Function: emergency handler (sized to the backlog)', () => {
  const LAST = Math.floor(NOW / MINUTE) * MINUTE - MINUTE;
  /** The engine's backlog (ConsumerLag) and throughput (RequestCount per minute) for the last two minutes. */
  function backlog(account: Account, lags: [number, number], servedPerSecond: number): void {
    const drain = account.spec('engine').drain!;
    account.fake.setSeries(drain.backlog, lags, LAST);
    account.fake.setSeries(drain.processed, [servedPerSecond * 60, servedPerSecond * 60], LAST);
  }

  // The design engine: 2-10 tasks of 10/s each, emergency ceiling 20, backlog threshold 1,000.
  it('raises to what clears the backlog in the drain time, not a blind doubling', async () => {
    const account = design(6);
    // 60/s served by 6 tasks, the lag grew by 300 in a minute: 65/s arrive.
    backlog(account, [300, 600], 60);

    const result = await run(account, { target: 'engine' });

    // (65 + (600 + 5 x 60 s of start-up) / 120 s) / 10 per task = 7.25 -> 8, not 12.
    expect(result).toMatchObject({ outcome: 'doubled', from: 6, to: 8, min: 8, max: 10, reason: expect.stringMatching(/^raised 6 -> 8: backlog 600 at 65\.0\/s needs 8 tasks to clear in 120 s/) });
    expect(emergencyHolds(account)).toEqual([expect.objectContaining({ floor: 8, ceiling: 10, suspendScaleIn: true })]);
  });

  it('opens no incident when the capacity asked for already clears the backlog in time', async () => {
    const account = design(8);
    backlog(account, [150, 150], 30);

    const result = await run(account, { target: 'engine' });

    expect(result).toMatchObject({ outcome: 'not-needed', from: 8, to: 8, reason: expect.stringMatching(/^not needed: the 8 tasks asked for clear backlog 150/) });
    expect(emergencyHolds(account)).toEqual([]);
    expect(account.service('engine')).toMatchObject({ desired: 8, min: 2 });
  });

  it("keeps an open incident's raise sized to the backlog each minute, and says when it has drained", async () => {
    const account = design(6);
    backlog(account, [900, 4_400], 60);
    await run(account, { target: 'engine', incident: 'inc-1' });
    expect(emergencyHolds(account)[0]).toMatchObject({ floor: 19, ceiling: 19 });
    account.service('engine').running = 19;

    // A minute later the backlog is small but 108/s arrive, more than 10 tasks serve:
    // the raise shrinks to what carries them at 90 %, max with it (so desired follows).
    setNow(NOW + MINUTE);
    backlog(account, [600, 500], 110);
    const watched = await run(account, { action: 'watch', target: 'engine', incident: 'inc-1', inAlarm: false });
    expect(watched).toMatchObject({ incidentId: 'inc-1', drained: false, floor: 13 });
    expect(account.service('engine')).toMatchObject({ min: 13, max: 13, desired: 13 });

    // With an alarm still firing it is not over.
    backlog(account, [300, 200], 60);
    expect(await run(account, { action: 'watch', target: 'engine', incident: 'inc-1', inAlarm: true })).toMatchObject({ drained: false });
    // The alarms OK, the backlog back under its threshold, what arrives within 10 tasks: over.
    expect(await run(account, { action: 'watch', target: 'engine', incident: 'inc-1', inAlarm: false })).toMatchObject({ drained: true });
  });

  it('refuses a watch without its incident or alarm state, before any AWS call', async () => {
    const account = design();

    await expectOneLineError(run(account, { action: 'watch', target: 'engine' }), /^watch needs the incident \(a string\) and inAlarm \(true or false\)/, 'EmergencyEventError');
    expect(account.fake.calls).toEqual([]);
  });
});
