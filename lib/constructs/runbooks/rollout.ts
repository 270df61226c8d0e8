import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ROLLOUT_TIMEOUT_MINUTES } from '../../../lambdas/core/rollout-plan';
import { CapacitySteps, catchAll } from './capacity-steps';
import { lambdaStep, Notify, type RunbookProps, runbookStateMachine, targetArns, withPatientRetry } from './common';

/** The runbook Lambda (plan-rollout, hold, release, alarm-states). */
export type RolloutRunbookProps = RunbookProps;

/** `<what> at step N/M (R replicas): <detail>`: the first half of every stop's Cause. */
const STOPPED_AT = '{} at step {}/{} ({} replicas): {}';
const STOPPED_ARGS = '$.stop.what, $.step.number, $.plan.stepCount, $.step.replicas, $.stop.detail';

/**
 * Runbook "gradual scale-up with health gates" (the llmnet pattern
 * 1 → 3 → 5 → 10, testing between steps). For each step in turn: raise the
 * floor of the run's one `rollout:<execution>` hold to the step's replicas
 * ('Raise to the step', its input carrying `$.step = { index, number,
 * replicas }` for `mlscale rollout --wait`), wait until the target runs the
 * desired capacity, then read the target's health alarms every minute for
 * the hold period (no alarms: wait the hold period). All OK: report, next
 * step; after the last, report and end, the hold keeping the last step
 * until `until` (the whole run plus the keep time).
 *
 * Anything that stops a step (an alarm in ALARM, an alarm missing, alarms
 * unreadable, capacity not running in time, the raise failing) stops the
 * run at the last healthy step: the same hold rewritten to that step's floor
 * (same holder, same end), or released when no step was healthy; desired is
 * never cut, the autoscaler scales in if it can. Then it fails, naming the
 * step, the reason and what it kept.
 *
 * Nothing relies on a Catch: every raise is the same hold with the same
 * end, so an abort, a timeout or an uncatchable error at any state leaves
 * only that hold, which ends by itself at `until`; the reconciler then
 * restores the configured limits. Notifications never change the course.
 *
 * Input: { target, steps [, holdMinutes = 5] [, keepMinutes = 60] [, alarms] }.
 */
export class RolloutRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RolloutRunbookProps) {
    super(scope, id);
    const { topic, runbookFunction: fn } = props;
    const capacity = new CapacitySteps(this, targetArns(this, props.targets));
    const notify = (sid: string, subject: string, detail: string | Record<string, string>, next: sfn.IChainable) => {
      const n = new Notify(this, sid, topic, subject, detail);
      n.next(next);
      return n.start;
    };
    const stopped = new sfn.Fail(this, 'Stopped', { causePath: '$.error.Cause', errorPath: '$.error.Error' });

    const plan = lambdaStep(this, 'Plan', fn, { action: 'plan-rollout', 'input.$': '$', 'execution.$': '$$.Execution.Name' }, '$.plan');
    plan.addCatch(notify('Report rejected input', 'rollout rejected its input', '$.error', new sfn.Fail(this, 'Rejected', { causePath: '$.error.Cause', errorPath: '$.error.Error' })), {
      resultPath: '$.error',
    });

    // --- Stopping at the last healthy step. Whatever stops a step first sets $.stop = { Error, what, detail }.
    const hold = { action: 'hold', 'target.$': '$.plan.target.name', 'holder.$': '$.plan.holder', 'until.$': '$.plan.until' };
    const keep = withPatientRetry(
      lambdaStep(
        this,
        'Keep the last healthy step',
        fn,
        {
          ...hold,
          'floor.$': '$.healthy.replicas',
          'reason.$': "States.Format('rollout {}: stopped at step {}/{}, kept step {}', $.plan.stepsText, $.step.number, $.plan.stepCount, $.healthy.number)",
        },
        '$.kept',
      ),
    );
    // Each way a rollout stops sets $.error: the stop's Error, and a Cause that starts with STOPPED_AT and says what was kept.
    const stopCause = (id: string, tail: string, args?: string) =>
      new sfn.Pass(this, id, {
        parameters: { 'Error.$': '$.stop.Error', 'Cause.$': `States.Format('${STOPPED_AT}; ${tail}', ${STOPPED_ARGS}${args ? `, ${args}` : ''})` },
        resultPath: '$.error',
      });
    const kept = stopCause('Kept the last healthy step', 'kept step {} ({} replicas) until {}: desired {} left to the autoscaler', '$.healthy.number, $.healthy.replicas, $.plan.until, $.kept.desired');
    keep.next(kept);
    kept.next(notify('Report stopped', 'rollout stopped: kept the last healthy step', '$.error', stopped));
    const keepFailed = stopCause('Could not keep the last healthy step', 'could not lower its hold to step {} ({} replicas): the hold ends by itself at {}', '$.healthy.number, $.healthy.replicas, $.plan.until').next(stopped);
    keep.addCatch(
      notify(
        'Report keep failure',
        'CRITICAL rollout could not keep the last healthy step; its hold ends by itself at until',
        { error: '$.keepError', stop: '$.stop', step: '$.step', healthy: '$.healthy', until: '$.plan.until' },
        keepFailed,
      ),
      { resultPath: '$.keepError' },
    );

    const release = withPatientRetry(lambdaStep(this, 'Release the hold', fn, { action: 'release', 'target.$': '$.plan.target.name', 'holder.$': '$.plan.holder' }, '$.released'));
    const released = stopCause('Released the hold', 'no step was healthy: hold released, desired {} left to the autoscaler', '$.released.desired');
    release.next(released);
    released.next(notify('Report released', 'rollout stopped at the first step: no step was healthy, hold released', '$.error', stopped));
    const releaseFailed = stopCause('Could not release the hold', 'could not release its hold: it ends by itself at {}', '$.plan.until').next(stopped);
    release.addCatch(
      notify(
        'Report release failure',
        'CRITICAL rollout could not release its hold; it ends by itself at until',
        { error: '$.releaseError', stop: '$.stop', step: '$.step', until: '$.plan.until' },
        releaseFailed,
      ),
      { resultPath: '$.releaseError' },
    );

    const anyHealthy = new sfn.Choice(this, 'Any step healthy?').when(sfn.Condition.isPresent('$.healthy'), keep).otherwise(release);
    // A caught error's detail is the whole of it as text: its Cause alone may be absent, and a path to nothing here would be a States.Runtime.
    const stop = (sid: string, error: string, what: string, detail: string) =>
      new sfn.Pass(this, sid, { parameters: { Error: error, what, 'detail.$': detail }, resultPath: '$.stop' }).next(anyHealthy);

    // --- Each step: raise, wait until it runs, watch the alarms.
    const first = new sfn.Pass(this, 'Start at the first step', { result: sfn.Result.fromObject({ index: 0 }), resultPath: '$.next' });
    // The CLI (`mlscale rollout --wait`) reads $.step of 'Raise to the step' for its progress lines.
    const nextStep = new sfn.Pass(this, 'Next step', {
      parameters: { 'index.$': '$.next.index', 'number.$': 'States.MathAdd($.next.index, 1)', 'replicas.$': 'States.ArrayGetItem($.plan.steps, $.next.index)' },
      resultPath: '$.step',
    });
    // The same hold, the same end, a higher floor: a retry after a lost response writes the same thing.
    const raise = lambdaStep(
      this,
      'Raise to the step',
      fn,
      { ...hold, 'floor.$': '$.step.replicas', 'reason.$': "States.Format('rollout {}: step {}/{}', $.plan.stepsText, $.step.number, $.plan.stepCount)" },
      '$.held',
    );
    // The raise may have landed even when the call failed: the stop rewrites or releases the same hold.
    raise.addCatch(stop('Raise failed', 'RaiseFailed', 'the raise failed', 'States.JsonToString($.raiseError)'), { resultPath: '$.raiseError' });

    const healthy = new sfn.Pass(this, 'Step healthy', {
      parameters: {
        'number.$': '$.step.number',
        'replicas.$': '$.step.replicas',
        'message.$': "States.Format('step {}/{} healthy: {} replicas running, {} minutes without an alarm', $.step.number, $.plan.stepCount, $.step.replicas, $.plan.holdMinutes)",
      },
      resultPath: '$.healthy',
    });
    const done = new sfn.Pass(this, 'Rolled out', {
      parameters: {
        'replicas.$': '$.step.replicas',
        'until.$': '$.plan.until',
        'message.$': "States.Format('rollout complete: {} replicas held until {}', $.step.replicas, $.plan.until)",
      },
      resultPath: '$.result',
    });
    done.next(notify('Report complete', 'rollout complete: the last step is held until its hold ends', '$.result', new sfn.Succeed(this, 'Complete')));
    const advance = new sfn.Pass(this, 'To the next step', { parameters: { 'index.$': 'States.MathAdd($.step.index, 1)' }, resultPath: '$.next' });
    advance.next(nextStep);
    healthy.next(
      new sfn.Choice(this, 'Last step?')
        .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.step.number', '$.plan.stepCount'), done)
        .otherwise(notify('Report step healthy', 'rollout: step healthy, raising to the next', '$.healthy', advance)),
    );

    // Watching: one read a minute, holdMinutes OK reads in a row; any ALARM or missing alarm stops the run.
    const startWatch = new sfn.Pass(this, 'Start watching the alarms', { result: sfn.Result.fromObject({ minutes: 0 }), resultPath: '$.watch' });
    const waitMinute = new sfn.Wait(this, 'Wait a minute', { time: sfn.WaitTime.duration(Duration.minutes(1)) });
    const read = lambdaStep(this, 'Read alarm states', fn, { action: 'alarm-states', 'alarms.$': '$.plan.alarms' }, '$.alarmStates');
    read.addCatch(stop('Alarms unreadable', 'AlarmsUnreadable', 'the health alarms could not be read', 'States.JsonToString($.readError)'), { resultPath: '$.readError' });
    const okMinute = new sfn.Pass(this, 'Healthy minute', { parameters: { 'minutes.$': 'States.MathAdd($.watch.minutes, 1)' }, resultPath: '$.watch' });
    okMinute.next(new sfn.Choice(this, 'Healthy long enough?').when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.watch.minutes', '$.plan.holdMinutes'), healthy).otherwise(waitMinute));
    // Fewer alarms back than asked for (a name that does not exist): not "all well".
    const found = new sfn.Choice(this, 'Every alarm found?')
      .when(sfn.Condition.booleanEquals('$.alarmStates.complete', false), stop('Alarm missing', 'AlarmMissing', 'a health alarm is missing', "States.Format('not found: {}', $.alarmStates.missingText)"))
      .otherwise(okMinute);
    const firing = new sfn.Choice(this, 'Any alarm firing?')
      .when(
        sfn.Condition.booleanEquals('$.alarmStates.inAlarm', true),
        stop('Alarm fired', 'Unhealthy', 'an alarm fired', "States.Format('alarm states {}', States.JsonToString($.alarmStates.states))"),
      )
      .otherwise(found);
    startWatch.next(waitMinute).next(read).next(firing);
    const waitHold = new sfn.Wait(this, 'No alarm to watch: wait the hold', { time: sfn.WaitTime.secondsPath('$.plan.holdSeconds') }).next(healthy);
    const watch = new sfn.Choice(this, 'Alarms to watch?').when(sfn.Condition.booleanEquals('$.plan.hasAlarms', true), startWatch).otherwise(waitHold);

    // Running = desired within maxPolls x pollSeconds, or stop.
    const poll = capacity.waitUntilReady('Step', '$.held.desired', watch, stop('Step not ready', 'NotReady', 'the step did not run in time', '$.error.Cause'));
    catchAll(poll.tasks, stop('Status unreadable', 'StatusUnreadable', 'the target status could not be read', 'States.JsonToString($.statusError)'), '$.statusError');

    // A floor that did not move desired (an operator's pause holds it still) is no step to watch.
    const raised = new sfn.Choice(this, 'Raised to the step?')
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.held.desired', '$.step.replicas'), poll.start)
      .otherwise(
        stop('Not raised', 'NotRaised', 'the raise did not reach the step (is the target paused?)', "States.Format('desired {} after the raise, min {}', $.held.desired, $.held.min)"),
      );

    plan.next(first).next(nextStep).next(raise).next(raised);

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [fn],
      topic,
      definition: plan,
      timeout: Duration.minutes(ROLLOUT_TIMEOUT_MINUTES),
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
  }
}
