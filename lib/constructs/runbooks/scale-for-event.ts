import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../../lambdas/core/targets';
import { CapacitySteps, catchAll } from './capacity-steps';
import { lambdaStep, notify, runbookStateMachine, targetArns } from './common';

export interface ScaleForEventProps {
  /** The runbook Lambda (plan-event, event-capacity). */
  readonly runbookFunction: lambda.IFunction;
  /** Targets the runbook may act on. */
  readonly targets: readonly TargetSpec[];
  readonly topic: sns.ITopic;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Runbook "scale for expected load increase": wait until eventStart − lead,
 * record capacity, raise it (min too, so target tracking cannot undo it),
 * wait until it runs, hold until eventEnd + cooldown, restore the recorded
 * values. Any failure after the raise restores the recorded values and
 * reports; a failure to restore is reported as critical.
 *
 * Input: { target, replicas | multiplier, eventStart, eventEnd, leadMinutes?, cooldownMinutes? }.
 */
export class ScaleForEventRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ScaleForEventProps) {
    super(scope, id);
    const arns = targetArns(this, props.targets);
    const steps = new CapacitySteps(this, arns);
    const topic = props.topic;

    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });
    const rejected = notify(this, 'Report rejected input', topic, 'scale-for-event rejected its input', '$.error').next(
      new sfn.Fail(this, 'Rejected', { causePath: '$.error.Cause', errorPath: '$.error.Error' }),
    );
    const notChanged = notify(this, 'Report failure before any change', topic, 'scale-for-event failed before changing anything', '$.error').next(failed);

    // Failure after the raise: put back what was recorded, then report.
    const restoreFailed = notify(this, 'Report restore failure', topic, 'CRITICAL: scale-for-event could not restore the recorded capacity', '$.restoreError').next(
      new sfn.Fail(this, 'Restore failed', { error: 'RestoreFailed', cause: 'the recorded capacity could not be restored; see the notification' }),
    );
    const restoreAfterFailure = steps.apply('Restore after failure', '$.recorded', true);
    restoreAfterFailure.end.next(notify(this, 'Report failure (restored)', topic, 'scale-for-event failed; recorded capacity restored', '$.error')).next(failed);
    catchAll(restoreAfterFailure.tasks, restoreFailed, '$.restoreError');

    const plan = lambdaStep(this, 'Plan', props.runbookFunction, { action: 'plan-event', 'input.$': '$' }, '$.plan');
    plan.addCatch(rejected, { resultPath: '$.error' });

    const waitForStart = new sfn.Wait(this, 'Wait until eventStart - lead', { time: sfn.WaitTime.timestampPath('$.plan.startAt') });
    const record = steps.record('Record', '$.recorded');
    const capacity = lambdaStep(
      this,
      'Compute event capacity',
      props.runbookFunction,
      { action: 'event-capacity', 'plan.$': '$.plan', 'recorded.$': '$.recorded' },
      '$.capacity',
    );
    const raise = steps.apply('Raise', '$.capacity');
    const ready = notify(this, 'Report ready', topic, 'scale-for-event: capacity raised and running', '$.capacity');
    const waitForEnd = new sfn.Wait(this, 'Wait until eventEnd + cooldown', { time: sfn.WaitTime.timestampPath('$.plan.restoreAt') });
    const restore = steps.apply('Restore', '$.recorded', true);
    const done = notify(this, 'Report done', topic, 'scale-for-event: event over, recorded capacity restored', '$.recorded');

    const poll = steps.waitUntilReady('Raised', '$.capacity.desired', ready, restoreAfterFailure.start);

    // Before the raise nothing has changed: a failure only reports.
    catchAll([...record.tasks, capacity], notChanged);
    // From the raise on, every failure restores the recorded values.
    catchAll([...raise.tasks, ...poll.tasks, ready], restoreAfterFailure.start);
    catchAll(restore.tasks, restoreFailed, '$.restoreError');

    plan.next(waitForStart).next(record.start);
    record.end.next(capacity).next(raise.start);
    raise.end.next(poll.start);
    ready.next(waitForEnd).next(restore.start);
    restore.end.next(done).next(new sfn.Succeed(this, 'Restored'));

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [props.runbookFunction],
      definition: plan, ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
  }
}

