/**
 * The rollout runbook (issue #11 item 4): gradual scale-up with health
 * gates. Each step raises the floor of the run's one `rollout:<execution>`
 * hold, waits until the capacity runs, and watches the target's health
 * alarms for the hold period; anything that stops a step stops the run at
 * the last healthy step (the hold rewritten to it, or released when no step
 * was healthy), and says so.
 */
import { describe, expect, it } from 'vitest';
import { ROLLOUT_TIMEOUT_MINUTES } from '../../lambdas/core/rollout-plan';
import { calls, deniedCalls } from '../iam/guard';
import { ACCOUNT, REGION } from '../iam/policy';
import { ENGINE_ALARM, ENGINE_MEMORY, MINUTE, onAction, pauseEngine, rollout, ROLLOUT_HOLD, START } from './fixtures';
import { entries, HARD_FAILURE, inOrder, runbookOf, useHarness, type Execution, type Harness } from './harness';

const RUN = 'engine-rollout-20260314T1000Z';
const HOLDER = `rollout:${RUN}`;
const UNTIL = new Date(START + ROLLOUT_HOLD * MINUTE).toISOString();
const HEALTH_ALARMS = ['memory', 'grpcLatency', 'latencyP95', 'emergencyLatency'].map((k) => `pipestream-production-engine-${k}`);

/** The floors the runbook Lambda wrote, in order (every raise, keep and rewrite of the hold). */
const floors = (h: Harness) => h.fake.callsOf('dynamodb:putItem').map((c) => Number(c.input.Item.floor.N));
/** What `mlscale rollout --wait` shows per raise: $.step of each entry of 'Raise to the step'. */
const stepsShown = (e: Execution) => e.inputsOf('Raise to the step').map((i) => (i as { step: unknown }).step);
const engineDesired = (h: Harness) => h.service('engine').desired;

describe('rollout (engine: min 2, max 10, four health alarms)', () => {
  const h = useHarness('default', START);

  describe('happy path 1 -> 3 -> 5', () => {
    it('raises one hold step by step, each step running and healthy for the hold period, and keeps the last step until the hold ends', async () => {
      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e.status).toBe('SUCCEEDED');
      const step = ['Next step', 'Raise to the step', 'Raised to the step?', 'Step: start polling', 'Step: tasks running?', 'Alarms to watch?', 'Read alarm states', 'Healthy long enough?', 'Step healthy', 'Last step?'];
      const route = ['Plan', 'Start at the first step', ...step, 'Report step healthy', ...step, 'Report step healthy', ...step, 'Rolled out', 'Report complete', 'Complete'];
      expect(inOrder(e.path, route)).toEqual(route);
      // What the CLI reads off the history: the state's name and its $.step.
      expect(stepsShown(e)).toEqual([
        { index: 0, number: 1, replicas: 1 },
        { index: 1, number: 2, replicas: 3 },
        { index: 2, number: 3, replicas: 5 },
      ]);
      // One hold, its floor moved 1, 3, 5, its end never moved.
      expect(floors(h)).toEqual([1, 3, 5]);
      expect(h.holds()).toEqual([expect.objectContaining({ target: 'engine', holder: HOLDER, floor: 5, reason: 'rollout 1 -> 3 -> 5: step 3/3', expiresAt: Date.parse(UNTIL) / 1000 })]);
      expect(h.fake.callsOf('dynamodb:putItem').map((c) => c.input.Item.expiresAt.N)).toEqual(Array(3).fill(String(Date.parse(UNTIL) / 1000)));
      expect(engineDesired(h)).toBe(5);
      expect(h.limits().engine).toMatchObject({ min: 5, max: 10 });
      // Two minutes of reads per step, every health alarm each time, metric and composite.
      expect(entries(e, 'Read alarm states')).toBe(6);
      expect(h.fake.callsOf('cloudwatch:describeAlarms').map((c) => c.input)).toEqual(Array(6).fill({ AlarmNames: HEALTH_ALARMS, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
      expect(h.subjects()).toEqual(['rollout: step healthy, raising to the next', 'rollout: step healthy, raising to the next', 'rollout complete: the last step is held until its hold ends']);
      expect(h.message(0)).toMatchObject({ runbook: 'pipestream-production-rollout', execution: RUN, detail: { number: 1, replicas: 1, message: 'step 1/3 healthy: 1 replicas running, 2 minutes without an alarm' } });
      expect(h.message(2)).toMatchObject({ detail: { replicas: 5, until: UNTIL, message: `rollout complete: 5 replicas held until ${UNTIL}` } });
      expect(e.output).toMatchObject({ result: { replicas: 5, until: UNTIL } });
      expect(deniedCalls()).toEqual([]);

      // The hold ends by itself; the autoscaler has the target back (desired is not cut).
      h.advancePastHolds();
      await h.reconcile();
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engineDesired(h)).toBe(5);
    });

    it('the runbook Lambda reads the health alarms under its own role, allowed on each of them', async () => {
      await h.run('rollout', rollout()(), { name: RUN });

      const reads = calls().filter((c) => c.action === 'cloudwatch:DescribeAlarms');
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((c) => c.allowed && c.principal === h.d.principals.runbook.name)).toBe(true);
      expect(new Set(reads.map((c) => c.resource))).toEqual(new Set(HEALTH_ALARMS.map((a) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${a}`)));
    });

    it('a step below what runs already is running at once; desired is raised only where the floor is above it', async () => {
      const e = await h.run('rollout', rollout({ steps: [2, 4] })(), { name: RUN });

      expect(e.status).toBe('SUCCEEDED');
      expect(floors(h)).toEqual([2, 4]);
      // Step 1 (2 = what runs): one poll; step 2: ECS converges on the second poll.
      expect(entries(e, 'Step: service status')).toBe(1 + 2);
      expect(engineDesired(h)).toBe(4);
    });
  });

  describe('an alarm stops the rollout at the last healthy step', () => {
    it('an alarm firing at step 2 keeps step 1 (the same hold, its floor back, its end unchanged) and fails Unhealthy, saying so', async () => {
      // Two OK reads for step 1, then ALARM on the first read of step 2.
      h.fake.addAlarm(ENGINE_MEMORY, ['OK', 'OK', 'ALARM']);

      const e = await h.run('rollout', rollout({ steps: [3, 5, 8] })(), { name: RUN });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Unhealthy');
      expect(e.cause).toMatch(
        new RegExp(
          `^an alarm fired at step 2/3 \\(5 replicas\\): alarm states \\{.*"${ENGINE_MEMORY}":"ALARM".*\\}; kept step 1 \\(3 replicas\\) until ${UNTIL.replace(/\./g, '\\.')}: desired 5 left to the autoscaler$`,
        ),
      );
      const route = ['Raise to the step', 'Read alarm states', 'Any alarm firing?', 'Alarm fired', 'Any step healthy?', 'Keep the last healthy step', 'Kept the last healthy step', 'Report stopped', 'Stopped'];
      expect(inOrder(e.path, route)).toEqual(route);
      expect(entries(e, 'Raise to the step')).toBe(2);
      expect(floors(h)).toEqual([3, 5, 3]);
      expect(h.holds()).toEqual([expect.objectContaining({ holder: HOLDER, floor: 3, reason: 'rollout 3 -> 5 -> 8: stopped at step 2/3, kept step 1', expiresAt: Date.parse(UNTIL) / 1000 })]);
      // The floor is back at step 1; desired is not cut (the autoscaler scales in if it can).
      expect(h.limits().engine).toMatchObject({ min: 3, max: 10 });
      expect(engineDesired(h)).toBe(5);
      expect(h.subjects().at(-1)).toBe('rollout stopped: kept the last healthy step');
      expect(h.message(-1)).toMatchObject({ detail: { Error: 'Unhealthy', Cause: e.cause } });

      h.advancePastHolds();
      await h.reconcile();
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('an alarm at the first step releases the hold: no step was healthy', async () => {
      h.fake.addAlarm(ENGINE_ALARM, ['ALARM']);

      const e = await h.run('rollout', rollout({ steps: [4, 6] })(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'Unhealthy' });
      expect(e.cause).toMatch(/^an alarm fired at step 1\/2 \(4 replicas\): alarm states \{.*\}; no step was healthy: hold released, desired 4 left to the autoscaler$/);
      expect(inOrder(e.path, ['Alarm fired', 'Any step healthy?', 'Release the hold', 'Released the hold', 'Report released', 'Stopped'])).toHaveLength(6);
      expect(e.path).not.toContain('Keep the last healthy step');
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(engineDesired(h)).toBe(4);
      expect(h.subjects()).toEqual(['rollout stopped at the first step: no step was healthy, hold released']);
    });
  });

  describe('other stops', () => {
    it('capacity not running in time stops at the last healthy step (NotReady)', async () => {
      h.service('engine').convergeAfterPolls = Infinity;

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotReady' });
      // Step 1 (1 replica, 2 run already) is running at once; the 3 tasks of step 2 never do.
      expect(e.cause).toBe(`the step did not run in time at step 2/3 (3 replicas): engine did not reach 3 in 20 polls; kept step 1 (1 replicas) until ${UNTIL}: desired 3 left to the autoscaler`);
      expect(entries(e, 'Step: service status')).toBe(1 + 20);
      expect(floors(h)).toEqual([1, 3, 1]);
      // Step 2 was never watched: the reads are step 1's two.
      expect(entries(e, 'Read alarm states')).toBe(2);
    });

    it('an alarm that does not exist stops the rollout: not all well (AlarmMissing)', async () => {
      h.fake.alarms.delete(ENGINE_MEMORY);

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'AlarmMissing' });
      expect(e.cause).toBe(`a health alarm is missing at step 1/3 (1 replicas): not found: ${ENGINE_MEMORY}; no step was healthy: hold released, desired 2 left to the autoscaler`);
      expect(h.holds()).toEqual([]);
    });

    it('alarms that cannot be read stop the rollout (AlarmsUnreadable)', async () => {
      h.fake.fail({ call: 'cloudwatch:describeAlarms', error: 'CloudWatch.InvalidParameterValueException', source: 'sdk', after: 2 });

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'AlarmsUnreadable' });
      expect(e.cause).toMatch(/^the health alarms could not be read at step 2\/3 \(3 replicas\): .*; kept step 1 \(1 replicas\)/);
    });

    it('a raise that fails for good stops at the last healthy step; the raise may have landed, so the hold is rewritten', async () => {
      h.fake.fail({ call: 'lambda:runbook', error: 'Lambda.Unknown', afterEffect: true, after: 1, times: 6, when: onAction('hold') });

      const e = await h.run('rollout', rollout({ steps: [3, 5] })(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'RaiseFailed' });
      expect(e.retried.filter((s) => s === 'Raise to the step')).toHaveLength(5);
      expect(e.cause).toMatch(/^the raise failed at step 2\/2 \(5 replicas\): .*; kept step 1 \(3 replicas\) until /);
      expect(h.holds()).toEqual([expect.objectContaining({ holder: HOLDER, floor: 3 })]);
    });

    it('a paused target is not raised: no step to watch (NotRaised), the pause left as it is', async () => {
      await pauseEngine(h);

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotRaised' });
      expect(e.cause).toBe(`the raise did not reach the step (is the target paused?) at step 2/3 (3 replicas): desired 2 after the raise, min 2; kept step 1 (1 replicas) until ${UNTIL}: desired 2 left to the autoscaler`);
      expect(engineDesired(h)).toBe(2);
      expect(h.activeHolds().map((x) => x.holder).sort()).toEqual(['pause', HOLDER]);
    });

    it('a keep that fails for good is reported CRITICAL: the hold stays and ends by itself at until', async () => {
      h.fake.addAlarm(ENGINE_MEMORY, ['OK', 'OK', 'ALARM']);
      h.fake.fail({ call: 'lambda:runbook', error: HARD_FAILURE, when: (p) => onAction('hold')(p) && String((p as { reason?: string }).reason).includes('stopped') });

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'Unhealthy' });
      expect(e.cause).toMatch(new RegExp(`; could not lower its hold to step 1 \\(1 replicas\\): the hold ends by itself at ${UNTIL.replace(/\./g, '\\.')}$`));
      // Patiently: the transient retries, then six more of any error.
      expect(e.retried.filter((s) => s === 'Keep the last healthy step').length).toBeGreaterThanOrEqual(6);
      expect(h.subjects().at(-1)).toBe('CRITICAL rollout could not keep the last healthy step; its hold ends by itself at until');
      expect(h.message(-1)).toMatchObject({ detail: { until: UNTIL, step: { number: 2, replicas: 3 }, healthy: { number: 1, replicas: 1 }, error: { Error: HARD_FAILURE } } });
      expect(h.holds()).toEqual([expect.objectContaining({ holder: HOLDER, floor: 3, expiresAt: Date.parse(UNTIL) / 1000 })]);
      h.advancePastHolds();
      await h.reconcile();
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it('a release that fails for good is reported CRITICAL too', async () => {
      h.fake.addAlarm(ENGINE_MEMORY, ['ALARM']);
      h.fake.fail({ call: 'lambda:runbook', error: HARD_FAILURE, when: onAction('release') });

      const e = await h.run('rollout', rollout()(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'Unhealthy' });
      expect(e.cause).toMatch(new RegExp(`; could not release its hold: it ends by itself at ${UNTIL.replace(/\./g, '\\.')}$`));
      expect(h.subjects().at(-1)).toBe('CRITICAL rollout could not release its hold; it ends by itself at until');
    });
  });

  describe('no alarms to watch', () => {
    it('waits the hold period at each step instead, reading no alarm', async () => {
      const e = await h.run('rollout', rollout({ alarms: [], holdMinutes: 3 })(), { name: RUN });

      expect(e.status).toBe('SUCCEEDED');
      expect(entries(e, 'No alarm to watch: wait the hold')).toBe(3);
      expect(e.path).not.toContain('Read alarm states');
      expect(h.fake.callsOf('cloudwatch:describeAlarms')).toEqual([]);
      // Each raise comes at least the hold period after the previous one.
      const raises = e.timeline.filter((t) => t.state === 'Raise to the step').map((t) => t.at);
      expect(raises.slice(1).map((at, i) => at - raises[i]!).every((gap) => gap >= 3 * MINUTE)).toBe(true);
    });
  });

  describe('bad input', () => {
    it.each([
      [{ steps: [1, 3, 2] }, 'steps must be increasing, got 3 then 2'],
      [{ steps: [1, 30] }, 'steps must not exceed the max capacity 10 of engine, got 30'],
      [{ target: 'nope' }, "unknown target 'nope'"],
      [{ alarms: ['someone-elses'] }, "alarms must be among engine's health alarms"],
      [{ steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], holdMinutes: 200 }, 'the rollout would take up to 2110 minutes'],
    ])('%j is rejected: reported, nothing written', async (fields, message) => {
      const e = await h.run('rollout', rollout(fields)(), { name: RUN });

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Rejected'] });
      expect(e.message).toContain(message);
      expect(h.holds()).toEqual([]);
      expect(h.fake.changes()).toEqual([]);
      expect(h.subjects()).toEqual(['rollout rejected its input']);
    });
  });

  it('the state machine times out after the longest plan it accepts, twice over, plus an hour', () => {
    const rb = runbookOf(h.d, 'rollout');
    expect((rb.definition as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(ROLLOUT_TIMEOUT_MINUTES * 60);
    expect(ROLLOUT_TIMEOUT_MINUTES).toBe(2 * 1440 + 60);
  });
});

describe('rollout of a node group with no health alarms (gpu-g5: min 0, max 8)', () => {
  const h = useHarness('eks', START);

  it('waits for the group to be ACTIVE at each step, then the hold period', async () => {
    const e = await h.run('rollout', rollout({ target: 'gpu-g5', steps: [1, 2] })(), { name: 'gpu-g5-rollout' });

    expect(e.status).toBe('SUCCEEDED');
    expect(entries(e, 'Step: node group status')).toBeGreaterThanOrEqual(2);
    expect(entries(e, 'No alarm to watch: wait the hold')).toBe(2);
    expect(h.nodegroup('gpu-g5')).toMatchObject({ desired: 2, status: 'ACTIVE' });
    expect(h.holds()).toEqual([expect.objectContaining({ holder: 'rollout:gpu-g5-rollout', floor: 2, expiresAt: START / 1000 + (2 * (20 + 2 + 1) + 10) * 60 })]);
    expect(deniedCalls()).toEqual([]);
  });
});
