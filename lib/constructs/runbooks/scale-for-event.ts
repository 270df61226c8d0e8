import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CapacitySteps, catchAll } from './capacity-steps';
import { lambdaStep, Notify, type RunbookProps, runbookStateMachine, targetArns, withPatientRetry } from './common';

/** The runbook Lambda (plan-event, hold, release). */
export type ScaleForEventProps = RunbookProps;

/**
 * Runbook "scale for expected load increase": wait until eventStart − lead,
 * write the event's hold (`event:<name>`, ending at eventEnd + cooldown),
 * wait until the raised capacity runs, report, wait for the end, release.
 * Nothing here can strand a raise: the hold ends at eventEnd + cooldown by
 * itself, whether this execution releases it, fails, times out or is
 * aborted; the reconciler then restores the configured limits, and never
 * cuts what target tracking added during the event.
 *
 * Input: { target, replicas | multiplier, eventStart, eventEnd, leadMinutes?, cooldownMinutes?, name? }.
 */
export class ScaleForEventRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ScaleForEventProps) {
    super(scope, id);
    const steps = new CapacitySteps(this, targetArns(this, props.targets));
    const { topic, runbookFunction: fn } = props;

    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });
    const rejected = new Notify(this, 'Report rejected input', topic, 'scale-for-event rejected its input', '$.error');
    rejected.next(new sfn.Fail(this, 'Rejected', { causePath: '$.error.Cause', errorPath: '$.error.Error' }));

    const plan = lambdaStep(this, 'Plan', fn, { action: 'plan-event', 'input.$': '$', 'execution.$': '$$.Execution.Name' }, '$.plan');
    plan.addCatch(rejected.start, { resultPath: '$.error' });
    const waitForStart = new sfn.Wait(this, 'Wait until eventStart - lead', { time: sfn.WaitTime.timestampPath('$.plan.startAt') });
    const hold = lambdaStep(this, 'Hold capacity for the event', fn, { action: 'hold', 'request.$': '$.plan.hold', 'owner.$': '$$.Execution.Name' }, '$.held');

    // A failure while holding: release the hold (or let it end at eventEnd + cooldown), report.
    const releaseFailed = new Notify(this, 'Report release failure', topic, 'scale-for-event failed and could not release its hold; it ends by itself at eventEnd + cooldown', '$.releaseError');
    releaseFailed.next(failed);
    const releaseAfterFailure = withPatientRetry(
      lambdaStep(this, 'Release after failure', fn, { action: 'release', 'target.$': '$.plan.target.name', 'holder.$': '$.plan.holder', 'owner.$': '$$.Execution.Name' }, '$.released'),
    );
    releaseAfterFailure.addCatch(releaseFailed.start, { resultPath: '$.releaseError' });
    const failedReleased = new Notify(this, 'Report failure (released)', topic, 'scale-for-event failed; its hold is released', '$.error');
    releaseAfterFailure.next(failedReleased.start);
    failedReleased.next(failed);
    hold.addCatch(releaseAfterFailure, { resultPath: '$.error' });

    const ready = new Notify(this, 'Report ready', topic, 'scale-for-event: capacity raised and running', '$.held');
    // Slow capacity is not a reason to drop the floor: the event is still coming. Say so and keep holding.
    const notReady = new Notify(this, 'Report not ready', topic, 'scale-for-event: the raised capacity is not running yet; the hold stays', '$.error');
    const waitForEnd = new sfn.Wait(this, 'Wait until eventEnd + cooldown', { time: sfn.WaitTime.timestampPath('$.plan.restoreAt') });
    ready.next(waitForEnd);
    notReady.next(waitForEnd);
    const poll = steps.waitUntilReady('Raised', '$.held.desired', ready.start, notReady.start);
    catchAll(poll.tasks, notReady.start);

    const release = withPatientRetry(lambdaStep(this, 'Release the hold', fn, { action: 'release', 'target.$': '$.plan.target.name', 'holder.$': '$.plan.holder', 'owner.$': '$$.Execution.Name' }, '$.released'));
    const done = new Notify(this, 'Report done', topic, 'scale-for-event: event over, hold released', '$.released');
    done.next(new sfn.Succeed(this, 'Released'));
    // The hold ends at eventEnd + cooldown, which is now: a failed release changes nothing that lasts.
    const releaseLate = new Notify(this, 'Report release failure at the end', topic, 'scale-for-event: could not release its hold, which has ended by itself', '$.releaseError');
    releaseLate.next(new sfn.Succeed(this, 'Ended by itself'));
    release.addCatch(releaseLate.start, { resultPath: '$.releaseError' });
    release.next(done.start);
    // Only the run that wrote the event's hold releases it: a second run of the same event leaves it to the first.
    const notOurs = new Notify(this, 'Report hold left to its writer', topic, 'scale-for-event: another run holds this event; its hold is left to it', '$.held');
    notOurs.next(new sfn.Succeed(this, 'Left to its writer'));
    waitForEnd.next(new sfn.Choice(this, 'Our hold?').when(sfn.Condition.booleanEquals('$.held.written', false), notOurs.start).otherwise(release));

    plan.next(waitForStart).next(hold).next(poll.start);

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [fn],
      topic,
      definition: plan,
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
  }
}
