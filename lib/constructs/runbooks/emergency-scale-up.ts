import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CapacitySteps, catchAll } from './capacity-steps';
import { lambdaStep, Notify, type RunbookProps, runbookStateMachine, targetArns, withPatientRetry } from './common';

export interface EmergencyScaleUpProps extends RunbookProps {
  /** The emergency Lambda (open and resume an incident); `runbookFunction` plans and reads alarm states. */
  readonly emergencyFunction: lambda.IFunction;
}

/**
 * Runbook "emergency scale-up": open the incident (the emergency Lambda
 * writes its `emergency:<execution>` hold: doubled floor, scale-in
 * suspended, ending by itself after the runbook's whole monitoring time),
 * wait until the new capacity runs, watch the alarms until they have been OK
 * for the stable period, then release the hold. Nothing is undone by a
 * Catch: an abort, a timeout or an uncatchable error leaves a hold that
 * ends by itself, and the reconciler then restores the configured state.
 * Notifications never change the course.
 *
 * Input: { target [, alarms] [, stableMinutes] [, maxMonitorMinutes] }.
 */
export class EmergencyScaleUpRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: EmergencyScaleUpProps) {
    super(scope, id);
    const { topic } = props;
    const steps = new CapacitySteps(this, targetArns(this, props.targets));
    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });
    const notify = (sid: string, subject: string, detail: string, next: sfn.IChainable) => {
      const n = new Notify(this, sid, topic, subject, detail);
      n.next(next);
      return n.start;
    };

    const plan = lambdaStep(this, 'Plan', props.runbookFunction, { action: 'plan-emergency', 'input.$': '$' }, '$.plan');
    plan.addCatch(notify('Report rejected input', 'emergency-scale-up rejected its input', '$.error', failed), { resultPath: '$.error' });

    // The execution is the incident: a retry of this call after a timeout or a lost response finds its own hold.
    const double = lambdaStep(
      this,
      'Double capacity',
      props.emergencyFunction,
      { 'target.$': '$.plan.target.name', 'execution.$': '$$.Execution.Id', 'holdMinutes.$': '$.plan.holdMinutes' },
      '$.emergency',
    );

    // Release this execution's incident: the only thing it holds.
    const resumeCall = (sid: string) =>
      withPatientRetry(lambdaStep(this, sid, props.emergencyFunction, { action: 'resume', 'target.$': '$.plan.target.name', 'incident.$': '$$.Execution.Name' }, '$.resumed'));
    const resumeFailed = notify('Report resume failure', 'emergency-scale-up could not release its incident; the hold ends by itself (see expiresAt)', '$.resumeError', failed);

    // The raise may have landed even when the call failed (Lambda.Unknown): release what this incident may hold.
    const resumeAfterFailure = resumeCall('Resume after failure');
    resumeAfterFailure.addCatch(resumeFailed, { resultPath: '$.resumeError' });
    resumeAfterFailure.next(notify('Report failure (released)', 'emergency-scale-up failed; its incident is released', '$.error', failed));
    double.addCatch(resumeAfterFailure, { resultPath: '$.error' });

    const resume = resumeCall('Resume autoscaler');
    resume.addCatch(resumeFailed, { resultPath: '$.resumeError' });
    resume.next(notify('Report stable', 'emergency-scale-up: stable, incident released, autoscaler resumed', '$.resumed', new sfn.Succeed(this, 'Resumed')));

    const alreadyOpen = notify('Report incident already handled', 'emergency-scale-up: an incident is already open for this target', '$.emergency', new sfn.Succeed(this, 'Already handled'));

    // Watching the alarms: OK minutes in a row, reset by any ALARM; give up after maxMonitorMinutes (the hold ends soon after by itself).
    const keepHold = (sid: string, error: string, cause: string) =>
      new sfn.Pass(this, sid, { parameters: { Error: error, 'Cause.$': cause }, resultPath: '$.error' }).next(
        notify(`Report ${sid.toLowerCase()}`, `emergency-scale-up: ${error}; the incident's hold stays and ends by itself`, '$.error', failed),
      );
    const readAlarms = lambdaStep(this, 'Read alarm states', props.runbookFunction, { action: 'alarm-states', 'alarms.$': '$.plan.alarms' }, '$.alarmStates');
    readAlarms.addCatch(
      new sfn.Pass(this, 'Cannot read alarms', { parameters: { Error: 'AlarmsUnreadable', 'Cause.$': '$.readError.Cause' }, resultPath: '$.error' }).next(
        notify('Report alarms unreadable', "emergency-scale-up: cannot read its alarms; the incident's hold stays and ends by itself", '$.error', failed),
      ),
      { resultPath: '$.readError' },
    );
    const missing = keepHold('Alarm missing', 'AlarmMissing', "States.Format('alarms not found: {}', $.alarmStates.missingText)");
    const startMonitor = new sfn.Pass(this, 'Start watching alarms', { result: sfn.Result.fromObject({ okMinutes: 0, checks: 0 }), resultPath: '$.monitor' });
    const waitMinute = new sfn.Wait(this, 'Wait a minute', { time: sfn.WaitTime.duration(Duration.minutes(1)) });
    const count = new sfn.Pass(this, 'Count check', {
      parameters: { 'okMinutes.$': '$.monitor.okMinutes', 'checks.$': 'States.MathAdd($.monitor.checks, 1)' },
      resultPath: '$.monitor',
    });
    const reset = new sfn.Pass(this, 'Not stable: reset', { parameters: { okMinutes: 0, 'checks.$': '$.monitor.checks' }, resultPath: '$.monitor' });
    const countOk = new sfn.Pass(this, 'Stable minute', {
      parameters: { 'okMinutes.$': 'States.MathAdd($.monitor.okMinutes, 1)', 'checks.$': '$.monitor.checks' },
      resultPath: '$.monitor',
    });
    const notStable = keepHold(
      'Never stable',
      'NotStable',
      "States.Format('alarms of {} not OK for {} minutes within {} minutes', $.plan.target.name, $.plan.stableMinutes, $.plan.maxMonitorMinutes)",
    );
    const outOfTime = new sfn.Choice(this, 'Out of monitoring time?')
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.monitor.checks', '$.plan.maxMonitorMinutes'), notStable)
      .otherwise(waitMinute);
    const stableYet = new sfn.Choice(this, 'Stable long enough?')
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.monitor.okMinutes', '$.plan.stableMinutes'), resume)
      .otherwise(outOfTime);
    reset.next(outOfTime);
    countOk.next(stableYet);
    const firing = new sfn.Choice(this, 'Any alarm firing?').when(sfn.Condition.booleanEquals('$.alarmStates.inAlarm', true), reset).otherwise(countOk);
    // Fewer alarms back than asked for: a composite or a name that does not exist was never seen. Not "all well".
    // Each minute the emergency Lambda keeps the raise sized to the backlog and says whether it has drained.
    const watch = lambdaStep(
      this,
      'Watch the incident',
      props.emergencyFunction,
      { action: 'watch', 'target.$': '$.plan.target.name', 'incident.$': '$$.Execution.Name', 'inAlarm.$': '$.alarmStates.inAlarm' },
      '$.watch',
    );
    // A watch that fails is no reason to stop watching: count the minute on the alarms alone.
    watch.addCatch(count, { resultPath: '$.watchError' });
    const complete = new sfn.Choice(this, 'Every alarm found?').when(sfn.Condition.booleanEquals('$.alarmStates.complete', false), missing).otherwise(watch);
    // Latency back and the backlog drained: release now rather than after a fixed stable period.
    watch.next(new sfn.Choice(this, 'Drained?').when(sfn.Condition.booleanEquals('$.watch.drained', true), resume).otherwise(count));
    count.next(firing);
    startMonitor.next(waitMinute).next(readAlarms).next(complete);

    const waitStable = new sfn.Wait(this, 'No alarm to watch: wait the stable period', { time: sfn.WaitTime.secondsPath('$.plan.stableSeconds') }).next(resume);
    const monitor = new sfn.Choice(this, 'Alarms to watch?').when(sfn.Condition.booleanEquals('$.plan.hasAlarms', true), startMonitor).otherwise(waitStable);

    // Capacity that is slow to come is reported, not undone: the alarms decide when the incident is over.
    const notReady = new Notify(this, 'Report not ready', topic, 'emergency-scale-up: the raised capacity is not running yet; watching the alarms', '$.error');
    notReady.next(monitor);
    const poll = steps.waitUntilReady('Doubled', '$.emergency.to', monitor, notReady.start);
    catchAll(poll.tasks, notReady.start);

    const started = new Notify(this, 'Report start', topic, 'emergency-scale-up: capacity raised, scale-in paused', '$.emergency');
    started.next(poll.start);

    const notNeeded = notify('Report not needed', 'emergency-scale-up: the capacity asked for already clears the backlog in time; no raise', '$.emergency', new sfn.Succeed(this, 'Not needed'));
    plan.next(double).next(
      new sfn.Choice(this, 'New incident?')
        .when(sfn.Condition.stringEquals('$.emergency.outcome', 'already-open'), alreadyOpen)
        .when(sfn.Condition.stringEquals('$.emergency.outcome', 'not-needed'), notNeeded)
        .otherwise(started.start),
    );

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [props.runbookFunction, props.emergencyFunction],
      topic,
      definition: plan,
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
  }
}
