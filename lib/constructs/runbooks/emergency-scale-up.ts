import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../../lambdas/core/targets';
import { CapacitySteps, catchAll } from './capacity-steps';
import { lambdaStep, notify, runbookStateMachine, targetArns, transientErrors, withPatientRetry, withRetry } from './common';

export interface EmergencyScaleUpProps {
  /** The runbook Lambda (plan-emergency). */
  readonly runbookFunction: lambda.IFunction;
  /** The emergency Lambda (doubling and resume). */
  readonly emergencyFunction: lambda.IFunction;
  readonly targets: readonly TargetSpec[];
  readonly topic: sns.ITopic;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Runbook "emergency scale-up": double capacity (the emergency Lambda, which
 * also pauses scale-in), wait until the new capacity runs, watch the
 * triggering alarms until they have been OK for the stable period, then
 * resume the autoscaler and restore the recorded min/max. Notifies at start,
 * on stable and on failure. Every failure after the doubling resumes the
 * autoscaler first: it is never left paused.
 *
 * Input: { target [, alarms] [, stableMinutes] [, maxMonitorMinutes] }.
 */
export class EmergencyScaleUpRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: EmergencyScaleUpProps) {
    super(scope, id);
    const topic = props.topic;
    const steps = new CapacitySteps(this, targetArns(this, props.targets));
    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });

    const plan = lambdaStep(this, 'Plan', props.runbookFunction, { action: 'plan-emergency', 'input.$': '$' }, '$.plan');
    plan.addCatch(notify(this, 'Report rejected input', topic, 'emergency-scale-up rejected its input', '$.error').next(failed), { resultPath: '$.error' });

    // The execution's ID tells the Lambda a retry of this call (first response lost) from another trigger of the incident.
    const double = lambdaStep(this, 'Double capacity', props.emergencyFunction, { 'target.$': '$.plan.target.name', 'execution.$': '$$.Execution.Id' }, '$.emergency');
    // The emergency Lambda puts everything back itself when its change fails: only report.
    double.addCatch(notify(this, 'Report doubling failure', topic, 'emergency-scale-up: doubling failed, nothing changed', '$.error').next(failed), {
      resultPath: '$.error',
    });

    // Resume: the only way out once the incident is open.
    const resumeFailed = notify(this, 'Report resume failure', topic, 'CRITICAL: emergency-scale-up could not resume the autoscaler', '$.resumeError').next(
      new sfn.Fail(this, 'Resume failed', { error: 'ResumeFailed', cause: 'the autoscaler could not be resumed; see the notification' }),
    );
    const resumeAfterFailure = withPatientRetry(
      lambdaStep(this, 'Resume after failure', props.emergencyFunction, { action: 'resume', 'target.$': '$.plan.target.name' }, '$.resumed'),
    );
    resumeAfterFailure.addCatch(resumeFailed, { resultPath: '$.resumeError' });
    resumeAfterFailure.next(notify(this, 'Report failure (resumed)', topic, 'emergency-scale-up failed; autoscaler resumed, limits restored', '$.error')).next(failed);

    const resume = withPatientRetry(lambdaStep(this, 'Resume autoscaler', props.emergencyFunction, { action: 'resume', 'target.$': '$.plan.target.name' }, '$.resumed'));
    resume.addCatch(resumeFailed, { resultPath: '$.resumeError' });
    resume.next(notify(this, 'Report stable', topic, 'emergency-scale-up: stable, autoscaler resumed', '$.resumed')).next(new sfn.Succeed(this, 'Resumed'));

    const alreadyOpen = notify(this, 'Report incident already handled', topic, 'emergency-scale-up: an incident is already open for this target', '$.emergency').next(
      new sfn.Succeed(this, 'Already handled'),
    );
    const started = notify(this, 'Report start', topic, 'emergency-scale-up: capacity doubled, scale-in paused', '$.emergency');

    // Watching the alarms: OK minutes in a row, reset by any ALARM; give up after maxMonitorMinutes.
    const stack = Stack.of(this);
    const alarmArns = [...new Set(props.targets.flatMap((t) => t.alarms))].map((name) =>
      stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    const describeAlarms = withRetry(
      new tasks.CallAwsService(this, 'Read alarm states', {
        service: 'cloudwatch',
        action: 'describeAlarms',
        parameters: { 'AlarmNames.$': '$.plan.alarms' },
        iamAction: 'cloudwatch:DescribeAlarms',
        // Only the targets' own alarms.
        iamResources: alarmArns.length ? alarmArns : [stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: 'none', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        resultSelector: { 'states.$': '$.MetricAlarms[*].StateValue' },
        resultPath: '$.alarmStates',
      }),
      transientErrors('CloudWatch'),
    );
    const startMonitor = new sfn.Pass(this, 'Start watching alarms', { result: sfn.Result.fromObject({ okMinutes: 0, checks: 0 }), resultPath: '$.monitor' });
    const waitMinute = new sfn.Wait(this, 'Wait a minute', { time: sfn.WaitTime.duration(Duration.minutes(1)) });
    const evaluate = new sfn.Pass(this, 'Any alarm firing?', {
      parameters: {
        'inAlarm.$': "States.ArrayContains($.alarmStates.states, 'ALARM')",
        'okMinutes.$': '$.monitor.okMinutes',
        'checks.$': 'States.MathAdd($.monitor.checks, 1)',
      },
      resultPath: '$.monitor',
    });
    const reset = new sfn.Pass(this, 'Not stable: reset', { parameters: { okMinutes: 0, 'checks.$': '$.monitor.checks' }, resultPath: '$.monitor' });
    const countOk = new sfn.Pass(this, 'Stable minute', {
      parameters: { 'okMinutes.$': 'States.MathAdd($.monitor.okMinutes, 1)', 'checks.$': '$.monitor.checks' },
      resultPath: '$.monitor',
    });
    const notStable = new sfn.Pass(this, 'Never stable', {
      parameters: { Error: 'NotStable', 'Cause.$': "States.Format('alarms of {} not OK for {} minutes within {} minutes', $.plan.target.name, $.plan.stableMinutes, $.plan.maxMonitorMinutes)" },
      resultPath: '$.error',
    }).next(resumeAfterFailure);
    const outOfTime = new sfn.Choice(this, 'Out of monitoring time?')
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.monitor.checks', '$.plan.maxMonitorMinutes'), notStable)
      .otherwise(waitMinute);
    const stableYet = new sfn.Choice(this, 'Stable long enough?')
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.monitor.okMinutes', '$.plan.stableMinutes'), resume)
      .otherwise(outOfTime);
    reset.next(outOfTime);
    countOk.next(stableYet);
    evaluate.next(new sfn.Choice(this, 'Firing?').when(sfn.Condition.booleanEquals('$.monitor.inAlarm', true), reset).otherwise(countOk));
    startMonitor.next(waitMinute).next(describeAlarms).next(evaluate);

    const waitStable = new sfn.Wait(this, 'No alarm to watch: wait the stable period', { time: sfn.WaitTime.secondsPath('$.plan.stableSeconds') }).next(resume);
    const monitor = new sfn.Choice(this, 'Alarms to watch?')
      .when(sfn.Condition.booleanEquals('$.plan.hasAlarms', true), startMonitor)
      .otherwise(waitStable);

    const poll = steps.waitUntilReady('Doubled', '$.emergency.to', monitor, resumeAfterFailure);

    // From the doubling on, every failure resumes the autoscaler.
    catchAll([...poll.tasks, describeAlarms, started], resumeAfterFailure);

    plan.next(double).next(
      new sfn.Choice(this, 'New incident?')
        .when(sfn.Condition.stringEquals('$.emergency.outcome', 'already-open'), alreadyOpen)
        .otherwise(started),
    );
    started.next(poll.start);

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [props.runbookFunction, props.emergencyFunction],
      definition: plan, ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
  }
}
