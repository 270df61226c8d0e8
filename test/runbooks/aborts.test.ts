/**
 * Issue #9: "runbook tests for abort and timeout at every state". Aborting
 * an execution, an execution timeout and a States.Runtime error run no
 * Catch: whatever the execution did stays done (../shared/AWS-FACTS.md).
 * Each runbook is stopped at every one of its states in turn, and then:
 * before its holds expire they are in force (an aborted incident keeps its
 * raise); after they expire, one reconcile pass puts every target back at
 * its configured min, max and suspension.
 *
 * How a run is stopped: the harness replaces the state with a Fail state in
 * the copy it runs (`stopAt`), so the run ends the moment it enters that
 * state, whatever its type (Task, Wait, Choice, Pass, Succeed), before the
 * state does anything, and no Catch or Retry can see it. The library's own
 * `abort()` would have to be called from its event stream, which is read
 * asynchronously: by then a Pass or Choice state, and often the next Task,
 * has already run, so which state a run stops at would be left to timing.
 * A Task that dies after its call landed is the same world as a stop on
 * entering the next state (or see failed-runs.test.ts, `afterEffect`).
 */
import { describe, expect, it } from 'vitest';
import { RUNBOOK_NAMES } from '../../lib/constructs/runbooks/runbooks';
import { ENGINE_ALARM, MINUTE, reachableStates, settleProblems, START, walkStates } from './fixtures';
import { useHarness } from './harness';

const SCALE_IN_PAUSED = { dynamicIn: true, dynamicOut: false, scheduled: false };

describe.each(RUNBOOK_NAMES)('%s stopped at every state', (runbook) => {
  const h = useHarness('default', START);

  it('leaves holds that are in force until they expire, then one reconcile pass restores the configured state', async () => {
    const problems: string[] = [];
    const stopped = await walkStates(
      h,
      runbook,
      () => true,
      async (state, s) => {
        const label = `${s.title}, stopped at '${state}'`;
        const e = await h.run(s.runbook, s.input(), { stopAt: state });
        if (e.status !== 'ABORTED' || e.path.at(-1) !== state) problems.push(`${label}: ended ${e.status} at '${e.path.at(-1)}'`);
        problems.push(...(await settleProblems(h, label, START, s.holdMinutes)));
      },
    );

    expect(problems).toEqual([]);
    expect([...stopped].sort()).toEqual(reachableStates(runbook));
  });
});

describe('an aborted emergency', () => {
  const h = useHarness('default', START);

  it.each(['Report start', 'Wait a minute', 'Read alarm states', 'Stable long enough?', 'Resume autoscaler'])(
    "stopped at '%s': its raise holds until the hold expires, then the configured state is back",
    async (state) => {
      Object.assign(h.service('engine'), { desired: 3, running: 3 });
      h.fake.addAlarm(ENGINE_ALARM, ['OK']);

      const e = await h.run('emergency-scale-up', { target: 'engine', stableMinutes: 2, maxMonitorMinutes: 30 }, { name: 'engine-aborted', stopAt: state });

      expect(e.status).toBe('ABORTED');
      const [hold] = h.holds();
      expect(hold).toMatchObject({ holder: 'emergency:engine-aborted', floor: 6, suspendScaleIn: true, expiresAt: START / 1000 + (10 + 30 + 5) * 60 });
      // A reconcile pass one second before the end still applies the raise (as if autoscaling had drifted meanwhile).
      h.clock.advanceTo(hold!.expiresAt * 1000 - 1000);
      Object.assign(h.service('engine'), { desired: 2, min: 2 });
      await h.reconcile();
      expect(h.limits().engine).toEqual({ min: 6, max: 10, suspension: SCALE_IN_PAUSED });
      expect(h.service('engine').desired).toBe(6);
      // Then it ends by itself.
      h.clock.advanceTo(hold!.expiresAt * 1000);
      await h.reconcile();
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(Date.now() - START).toBe(45 * MINUTE);
    },
  );
});
