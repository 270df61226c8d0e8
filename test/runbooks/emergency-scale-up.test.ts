import { beforeEach, describe, expect, it } from 'vitest';
import type { EcsService } from '../fakes/aws';
import { calls, deniedCalls } from '../iam/guard';
import { backlogReading, ENGINE_ALARM, MINUTE, onAction, opening, START } from './fixtures';
import { entries, inOrder, useHarness, type Execution, type TargetLimits } from './harness';

const SCALE_IN_PAUSED = { dynamicIn: true, dynamicOut: false, scheduled: false };
/** The incident's hold outlives the run by little: readiness (10 min) + maxMonitorMinutes + 5. */
const holdMinutes = (maxMonitorMinutes = 180) => 10 + maxMonitorMinutes + 5;
const INCIDENT = 'engine-20260314T1000Z';

describe('emergency-scale-up on an ECS service (engine: min 2, max 10, ceiling 20, stable 15 minutes)', () => {
  const h = useHarness('default', START);
  let engine: EcsService;

  beforeEach(() => {
    engine = Object.assign(h.service('engine'), { desired: 3, running: 3 });
  });

  /** The incident's hold is kept: in force now (one reconcile pass does not undo it), and gone with its raise once it expires. */
  async function expectHoldKeptUntilItEnds(maxMonitorMinutes: number) {
    expect(h.activeHolds()).toEqual([expect.objectContaining({ target: 'engine', holder: `emergency:${INCIDENT}`, expiresAt: START / 1000 + holdMinutes(maxMonitorMinutes) * 60 })]);
    await h.reconcile();
    expect(h.limits().engine).toEqual({ min: 6, max: 10, suspension: SCALE_IN_PAUSED });
    h.advancePastHolds();
    await h.reconcile();
    expect(h.limits()).toEqual(h.configuredLimits());
  }

  describe('happy path', () => {
    it('doubles through the emergency Lambda (hold emergency:<execution>), waits until it runs, watches the alarm for 15 OK minutes, releases', async () => {
      let during: { holds: unknown; limits: TargetLimits; desired: number; running: number } | undefined;
      const e = await h.run('emergency-scale-up', { target: 'engine' }, {
        name: INCIDENT,
        before: { 'Read alarm states': () => void (during ??= { holds: h.activeHolds(), limits: h.limits().engine!, desired: engine.desired, running: engine.running }) },
      });

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Plan',
        'Double capacity',
        'New incident?',
        'Report start',
        'Doubled: service status',
        'Alarms to watch?',
        'Start watching alarms',
        'Wait a minute',
        'Read alarm states',
        'Every alarm found?',
        'Any alarm firing?',
        'Stable minute',
        'Stable long enough?',
        'Resume autoscaler',
        'Report stable',
        'Resumed',
      ];
      expect(inOrder(e.path, route)).toEqual(route);
      expect(entries(e, 'Read alarm states')).toBe(15);
      expect(during).toEqual({
        holds: [
          expect.objectContaining({ target: 'engine', holder: `emergency:${INCIDENT}`, floor: 6, ceiling: 10, suspendScaleIn: true, expiresAt: START / 1000 + holdMinutes() * 60 }),
        ],
        limits: { min: 6, max: 10, suspension: SCALE_IN_PAUSED },
        desired: 6,
        running: 6,
      });
      // Two 30-second polls, fifteen stable minutes, then the release.
      expect(e.timeline.find((t) => t.state === 'Resume autoscaler')!.at).toBe(START + MINUTE + 15 * MINUTE);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      // Desired is the autoscaler's once the incident is over.
      expect(engine.desired).toBe(6);
      expect(e.output).toMatchObject({ emergency: { outcome: 'doubled', incidentId: INCIDENT, from: 3, to: 6 }, resumed: { outcome: 'resumed', incidentId: INCIDENT, min: 2, max: 10 } });
      expect(h.subjects()).toEqual(['emergency-scale-up: capacity raised, scale-in paused', 'emergency-scale-up: stable, incident released, autoscaler resumed']);
      expect(h.message(0)).toMatchObject({ runbook: 'pipestream-production-emergency-scale-up', execution: INCIDENT, detail: { outcome: 'doubled', from: 3, to: 6 } });
      expect(h.fake.callsOf('cloudwatch:describeAlarms', 'sdk')[0]!.input).toEqual({ AlarmNames: [ENGINE_ALARM], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
      expect(deniedCalls()).toEqual([]);
    });

    it('an alarm that fires again resets the count; the release waits for 15 OK minutes in a row', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['OK', 'ALARM', 'ALARM', 'OK']);

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(entries(e, 'Not stable: reset')).toBe(2);
      expect(entries(e, 'Read alarm states')).toBe(18);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('with no alarm to watch, waits the stable period once and releases', async () => {
      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [] });

      expect(e.status).toBe('SUCCEEDED');
      expect(inOrder(e.path, ['Alarms to watch?', 'No alarm to watch: wait the stable period', 'Resume autoscaler', 'Resumed'])).toHaveLength(4);
      expect(h.fake.callsOf('cloudwatch:describeAlarms')).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('caps the doubling at the emergency ceiling', async () => {
      Object.assign(engine, { desired: 10, running: 10 });

      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [] });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.output).toMatchObject({ emergency: { outcome: 'at-ceiling', from: 10, to: 20, min: 20, max: 20 } });
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });

  describe('a drain-sized target (engine: a backlog reading sizes the raise)', () => {
    it("a backlog the tasks asked for already clear in time: 'Not needed', no raise, no hold", async () => {
      backlogReading(h, 'engine', { before: 200, now: 100, processedPerMinute: 600 });

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.path).toEqual(['Plan', 'Double capacity', 'New incident?', 'Report not needed', 'Not needed']);
      expect(e.output).toMatchObject({ emergency: { outcome: 'not-needed', from: 3, to: 3 } });
      expect(h.holds()).toEqual([]);
      expect(h.fake.changes()).toEqual([]);
      expect(h.subjects()).toEqual(['emergency-scale-up: the capacity asked for already clears the backlog in time; no raise']);
    });

    it("a backlog beyond what max clears: the reconciler's drain floor takes desired to max, the incident raises to what clears it (not double)", async () => {
      // 100/s processed, the backlog growing 100/s: 200/s arrive and 63,000 wait once new tasks serve; 50 per task.
      backlogReading(h, 'engine', { before: 54_000, now: 60_000, processedPerMinute: 6_000 });

      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [] }, { name: INCIDENT });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.output).toMatchObject({ emergency: { outcome: 'doubled', from: 10, to: 15, min: 15, max: 15 } });
      expect(e.output.emergency.reason).toMatch(/^raised 10 -> 15: backlog 60000 at 200\.0\/s needs 15 tasks to clear in 120 s/);
      expect(h.activeHolds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });

  describe('an incident that does not settle', () => {
    it('alarm never OK within maxMonitorMinutes: fails NotStable and keeps the hold, which ends by itself', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['ALARM']);

      const e = await h.run('emergency-scale-up', { target: 'engine', maxMonitorMinutes: 20 }, { name: INCIDENT });

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotStable', cause: 'alarms of engine not OK for 15 minutes within 20 minutes' });
      expect(entries(e, 'Read alarm states')).toBe(20);
      expect(inOrder(e.path, ['Out of monitoring time?', 'Never stable', 'Report never stable', 'Failed'])).toHaveLength(4);
      expect(e.path).not.toContain('Resume autoscaler');
      expect(h.subjects().at(-1)).toBe("emergency-scale-up: NotStable; the incident's hold stays and ends by itself");
      await expectHoldKeptUntilItEnds(20);
    });

    it('tasks that never run are reported; the alarms still decide when the incident is over', async () => {
      engine.convergeAfterPolls = Infinity;

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(entries(e, 'Doubled: service status')).toBe(20);
      expect(inOrder(e.path, ['Doubled: not ready in time', 'Report not ready', 'Alarms to watch?', 'Resume autoscaler', 'Resumed'])).toHaveLength(5);
      expect(h.message(1)).toMatchObject({ detail: { Error: 'NotReady', Cause: 'engine did not reach 6 in 20 polls' } });
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });

  describe('alarms that are not plain metric alarms (issue #8 item 4)', () => {
    it('a composite alarm is read (DescribeAlarms asks for both alarm types) and watched like any other', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['ALARM', 'OK'], 'CompositeAlarm');

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(entries(e, 'Not stable: reset')).toBe(1);
      expect(h.fake.callsOf('cloudwatch:describeAlarms').every((c) => JSON.stringify(c.input.AlarmTypes) === '["MetricAlarm","CompositeAlarm"]')).toBe(true);
    });

    it('an alarm name that does not exist fails with its name, not "all OK"; the hold is kept', async () => {
      h.fake.alarms.delete(ENGINE_ALARM);

      const e = await h.run('emergency-scale-up', { target: 'engine', maxMonitorMinutes: 20 }, { name: INCIDENT });

      expect(e).toMatchObject({ status: 'FAILED', error: 'AlarmMissing', cause: `alarms not found: ${ENGINE_ALARM}` });
      expect(inOrder(e.path, ['Read alarm states', 'Every alarm found?', 'Alarm missing', 'Report alarm missing', 'Failed'])).toHaveLength(5);
      expect(e.path).not.toContain('Stable minute');
      await expectHoldKeptUntilItEnds(20);
    });

    it("an alarm outside the target's config is refused at planning (the runbook Lambda may read only the target's alarms), before anything is raised", async () => {
      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [ENGINE_ALARM, 'someone-elses-alarm'] });

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Failed'] });
      expect(e.message).toBe(`alarms must be among engine's alarms (${ENGINE_ALARM}), got someone-elses-alarm`);
      expect(h.fake.callsOf('lambda:emergency')).toEqual([]);
      expect(h.holds()).toEqual([]);
    });
  });

  describe('the Double step failing (issue #8 item 3)', () => {
    it('Lambda.Unknown after the raise landed: the retry finds its own hold and the run carries on with it', async () => {
      h.fake.fail({ call: 'lambda:emergency', error: 'Lambda.Unknown', afterEffect: true, times: 1 });

      const e = await h.run('emergency-scale-up', { target: 'engine' }, { name: INCIDENT });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Double capacity']);
      expect(e.path).not.toContain('Report incident already handled');
      expect(e.output).toMatchObject({ emergency: { outcome: 'doubled', incidentId: INCIDENT, to: 6, reason: `incident ${INCIDENT} was opened by this caller; its hold is in force` } });
      // One hold written, one released.
      expect(h.fake.callsOf('dynamodb:putItem').map((c) => c.input.Item.holder.S)).toEqual([`emergency:${INCIDENT}`]);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('a Double that fails for good goes to the resume path for its own incident only: another incident on another target keeps its hold', async () => {
      await h.invoke('emergency', { target: 'cpu-modules', incident: 'cpu-modules-incident' });
      h.fake.fail({ call: 'lambda:emergency', error: 'Lambda.Unknown', afterEffect: true, when: opening });

      const e = await h.run('emergency-scale-up', { target: 'engine' }, { name: INCIDENT });

      expect(e).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
      expect(e.retried.filter((s) => s === 'Double capacity')).toHaveLength(5);
      expect(inOrder(e.path, ['Double capacity', 'Resume after failure', 'Report failure (released)', 'Failed'])).toHaveLength(4);
      expect(h.fake.callsOf('lambda:emergency').map((c) => c.input).at(-1)).toEqual({ action: 'resume', target: 'engine', incident: INCIDENT });
      expect(e.last).toMatchObject({ resumed: { outcome: 'resumed', incidentId: INCIDENT } });
      expect(h.holds().map((x) => `${x.target} ${x.holder}`)).toEqual(['cpu-modules emergency:cpu-modules-incident']);
      expect(h.limits().engine).toEqual(h.configuredLimits().engine);
      expect(h.limits()['cpu-modules']).toEqual({ min: 2, max: 20, suspension: SCALE_IN_PAUSED });
    });

    it('a resume that cannot be done is reported; the hold ends by itself', async () => {
      h.fake.fail({ call: 'lambda:emergency', error: 'Harness.HardFailure', when: onAction('resume') });

      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [], maxMonitorMinutes: 20 }, { name: INCIDENT });

      expect(e).toMatchObject({ status: 'FAILED' });
      expect(inOrder(e.path, ['Resume autoscaler', 'Report resume failure', 'Failed'])).toHaveLength(3);
      expect(h.subjects().at(-1)).toBe('emergency-scale-up could not release its incident; the hold ends by itself (see expiresAt)');
      await expectHoldKeptUntilItEnds(20);
    });
  });

  describe('an incident that is already open', () => {
    it("ends in 'Already handled': no second raise, the open incident left to its own execution", async () => {
      await h.invoke('emergency', { target: 'engine', incident: 'engine-20260314-0941' });
      const before = h.limits();

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.path).toEqual(['Plan', 'Double capacity', 'New incident?', 'Report incident already handled', 'Already handled']);
      expect(h.fake.callsOf('dynamodb:putItem')).toHaveLength(1);
      expect(h.holds().map((x) => x.holder)).toEqual(['emergency:engine-20260314-0941']);
      expect(h.limits()).toEqual(before);
      expect(h.message(0)).toMatchObject({ detail: { outcome: 'already-open', incidentId: 'engine-20260314-0941' } });
    });

    it('a second execution started while the first watches the alarm raises nothing; the first releases', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['ALARM', 'ALARM', 'OK']);

      const [first, second] = await Promise.all([
        h.run('emergency-scale-up', { target: 'engine' }, { name: 'engine-20260314T1000Z' }),
        h.run('emergency-scale-up', { target: 'engine' }, { name: 'engine-20260314T1001Z', startAt: START + MINUTE + 30_000 }),
      ]);

      expect(second.path.at(-1)).toBe('Already handled');
      expect(second.output).toMatchObject({ emergency: { outcome: 'already-open', incidentId: 'engine-20260314T1000Z' } });
      expect(first.path.at(-1)).toBe('Resumed');
      expect(h.fake.callsOf('dynamodb:putItem')).toHaveLength(1);
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });

  describe('notifications never change the course (issue #8 item 2)', () => {
    /** The route without the states that record a failed notification. */
    const course = (e: Execution) => e.path.filter((s) => !s.endsWith('(not sent)'));

    it('the state machine role may publish to the KMS-encrypted topic: IAM-checked, the key included', async () => {
      const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [] });

      expect(e.status).toBe('SUCCEEDED');
      expect(h.fake.published).toHaveLength(2);
      const role = calls().filter((c) => c.via === 'task' && ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'].includes(c.action));
      expect(new Set(role.map((c) => `${c.action} ${c.allowed}`))).toEqual(new Set(['sns:Publish true', 'kms:GenerateDataKey true', 'kms:Decrypt true']));
      expect(role.every((c) => c.principal.startsWith('RunbooksEmergencyScaleUpStateMachineRole'))).toBe(true);
    });

    it('every publish refused by the topic key (Sns.KMSAccessDeniedException): the same course, the failures in the output', async () => {
      const clean = await h.run('emergency-scale-up', { target: 'engine' });
      h.reset();
      Object.assign(h.service('engine'), { desired: 3, running: 3 });
      h.fake.fail({ call: 'sns:publish', error: 'Sns.KMSAccessDeniedException', cause: 'KMS key access denied (fake)' });

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(course(e)).toEqual(course(clean));
      expect(e.caught).toEqual(['Report start', 'Report stable']);
      expect(e.output.notificationErrors).toEqual({
        Reportstart: { Error: 'Sns.KMSAccessDeniedException', Cause: 'KMS key access denied (fake)' },
        Reportstable: { Error: 'Sns.KMSAccessDeniedException', Cause: 'KMS key access denied (fake)' },
      });
      expect(h.fake.published).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('throttling beyond the retries: recorded, and the run goes on to the next notification and the release', async () => {
      h.fake.fail({ call: 'sns:publish', error: 'Sns.ThrottlingException', times: 6 });

      const e = await h.run('emergency-scale-up', { target: 'engine' });

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried.filter((s) => s === 'Report start')).toHaveLength(5);
      expect(e.output.notificationErrors).toEqual({ Reportstart: expect.objectContaining({ Error: 'Sns.ThrottlingException' }) });
      expect(h.subjects()).toEqual(['emergency-scale-up: stable, incident released, autoscaler resumed']);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('on a failure path too: the run still ends as it would have (NotStable), the failed reports recorded', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['ALARM']);
      h.fake.fail({ call: 'sns:publish', error: 'Sns.KMSAccessDeniedException' });

      const e = await h.run('emergency-scale-up', { target: 'engine', maxMonitorMinutes: 20 }, { name: INCIDENT });

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotStable' });
      expect(Object.keys(e.last.notificationErrors as object)).toEqual(['Reportstart', 'Reportneverstable']);
      await expectHoldKeptUntilItEnds(20);
    });
  });

  describe('invalid input', () => {
    it.each([
      ['an unknown target', { target: 'nope' }, "unknown target 'nope'"],
      ['a target with emergency doubling off', { target: 'gpu-modules' }, "emergency doubling is disabled for target 'gpu-modules'"],
      ['monitoring shorter than the stable period', { target: 'engine', stableMinutes: 30, maxMonitorMinutes: 10 }, 'maxMonitorMinutes must be >= stableMinutes'],
      ['alarms that are not a list of names', { target: 'engine', alarms: 'engine-latency' }, 'alarms must be a list of alarm names'],
    ])('rejects %s before raising anything', async (_what, input, message) => {
      const e = await h.run('emergency-scale-up', input);

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Failed'] });
      expect(e.cause).toContain(message);
      expect(h.fake.callsOf('lambda:emergency')).toEqual([]);
      expect(h.fake.changes()).toEqual([]);
      expect(h.holds()).toEqual([]);
      expect(h.subjects()).toEqual(['emergency-scale-up rejected its input']);
    });
  });

  it('retries throttled Lambda invocations, polls and alarm reads, raising once', async () => {
    h.fake
      .fail({ call: 'lambda:emergency', error: 'Lambda.TooManyRequestsException', times: 2 })
      .fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.ThrottlingException', times: 2 })
      .fail({ call: 'lambda:runbook', error: 'Lambda.TooManyRequestsException', times: 2, when: onAction('alarm-states') });

    const e = await h.run('emergency-scale-up', { target: 'engine' });

    expect(e.status).toBe('SUCCEEDED');
    expect(e.retried).toEqual(['Double capacity', 'Double capacity', 'Doubled: service status', 'Doubled: service status', 'Read alarm states', 'Read alarm states']);
    expect(e.caught).toEqual([]);
    expect(h.fake.callsOf('dynamodb:putItem')).toHaveLength(1);
    expect(h.limits()).toEqual(h.configuredLimits());
  });
});

describe('emergency-scale-up with EKS node groups in the config', () => {
  const h = useHarness('eks', START);

  it('rejects a node group target (emergency doubling is for the ECS pools) before raising anything', async () => {
    const e = await h.run('emergency-scale-up', { target: 'gpu-g5' });

    expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError' });
    expect(e.cause).toContain("emergency doubling is disabled for target 'gpu-g5'");
    expect(h.fake.callsOf('lambda:emergency')).toEqual([]);
    expect(h.limits()).toEqual(h.configuredLimits());
  });

  it('an ECS target of the same deployment runs to the end', async () => {
    const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [] });

    expect(e.status).toBe('SUCCEEDED');
    expect(e.path.at(-1)).toBe('Resumed');
    expect(h.limits()).toEqual(h.configuredLimits());
  });
});
