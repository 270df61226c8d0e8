import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { catchAll } from './capacity-steps';
import { lambdaStep, Notify, type RunbookProps, runbookStateMachine, targetArns, transientErrors, withPatientRetry, withRetry } from './common';

/** The runbook Lambda (plan-nodegroup, hold, release). */
export type GpuNodegroupScaleProps = RunbookProps;

/**
 * Runbook "scale the GPU node group, watch the nodes join": write a
 * `manual:<execution>` hold for the size asked (it ends by itself after `holdMinutes`, 60 by
 * default), wait until the group is ACTIVE with that many instances in
 * service, report. If the nodes do not come in time, the hold is released
 * and the failure reported; if this execution dies, the hold ends by itself.
 *
 * Input: { nodegroup, desiredSize [, holdMinutes] } (`nodegroup`: the target name).
 */
export class GpuNodegroupScaleRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: GpuNodegroupScaleProps) {
    super(scope, id);
    const { topic, runbookFunction: fn } = props;
    const { nodegroups } = targetArns(this, props.targets);
    const nodegroupArns = nodegroups.length ? nodegroups : ['arn:aws:eks:::nodegroup/none'];
    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });
    const notify = (sid: string, subject: string, detail: string, next: sfn.IChainable) => {
      const n = new Notify(this, sid, topic, subject, detail);
      n.next(next);
      return n.start;
    };

    const plan = lambdaStep(this, 'Plan', fn, { action: 'plan-nodegroup', 'input.$': '$' }, '$.plan');
    plan.addCatch(notify('Report rejected input', 'gpu-nodegroup-scale rejected its input', '$.error', failed), { resultPath: '$.error' });
    const hold = lambdaStep(
      this,
      'Hold the size',
      fn,
      {
        action: 'hold',
        'target.$': '$.plan.target.name',
        // Its own holder: an operator's `manual` hold on the group is neither replaced nor released by this run.
        'holder.$': "States.Format('manual:{}', $$.Execution.Name)",
        'floor.$': '$.plan.desiredSize',
        'request.$': '$.plan.desiredSize',
        'minutes.$': '$.plan.holdMinutes',
        'reason.$': "States.Format('gpu-nodegroup-scale {}', $$.Execution.Name)",
        'owner.$': '$$.Execution.Name',
      },
      '$.held',
    );

    const releaseFailed = notify('Report release failure', 'gpu-nodegroup-scale could not release its hold; it ends by itself (see expiresAt)', '$.releaseError', failed);
    const release = withPatientRetry(lambdaStep(this, 'Release the hold', fn, { action: 'release', 'target.$': '$.plan.target.name', 'holder.$': "States.Format('manual:{}', $$.Execution.Name)" }, '$.released'));
    release.addCatch(releaseFailed, { resultPath: '$.releaseError' });
    release.next(notify('Report failure (released)', 'gpu-nodegroup-scale failed; its hold is released', '$.error', failed));
    hold.addCatch(release, { resultPath: '$.error' });

    const eks = (sid: string, parameters: Record<string, unknown>, extra: Partial<tasks.CallAwsServiceProps>) =>
      withRetry(
        new tasks.CallAwsService(this, sid, { service: 'eks', action: 'describeNodegroup', parameters, iamAction: 'eks:DescribeNodegroup', iamResources: nodegroupArns, ...extra }),
        transientErrors('Eks'),
      );
    const startPolling = new sfn.Pass(this, 'Start polling', { parameters: { count: 0 }, resultPath: '$.poll' });
    const wait = new sfn.Wait(this, 'Wait', { time: sfn.WaitTime.secondsPath('$.plan.pollSeconds') });
    const status = eks(
      'Node group status',
      { 'ClusterName.$': '$.plan.target.cluster', 'NodegroupName.$': '$.plan.target.nodegroup' },
      {
        resultSelector: { 'status.$': '$.Nodegroup.Status', 'desired.$': '$.Nodegroup.ScalingConfig.DesiredSize', 'asg.$': '$.Nodegroup.Resources.AutoScalingGroups[0].Name' },
        resultPath: '$.status',
      },
    );
    // Instances in service, from the group's Auto Scaling group: EKS itself does not count ready nodes.
    const instances = withRetry(
      new tasks.CallAwsService(this, 'Instances in service', {
        service: 'autoscaling',
        action: 'describeAutoScalingGroups',
        parameters: { 'AutoScalingGroupNames.$': 'States.Array($.status.asg)' },
        iamAction: 'autoscaling:DescribeAutoScalingGroups',
        // DescribeAutoScalingGroups has no resource-level permissions.
        iamResources: ['*'],
        resultSelector: { 'inService.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId" },
        resultPath: '$.instances',
      }),
      transientErrors('AutoScaling'),
    );
    const countInstances = new sfn.Pass(this, 'Count instances', { parameters: { 'inService.$': 'States.ArrayLength($.instances.inService)' }, resultPath: '$.instances' });
    const countPoll = new sfn.Pass(this, 'Count poll', { parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' }, resultPath: '$.poll' });
    const timedOut = new sfn.Pass(this, 'Size not reached', {
      parameters: { Error: 'NotReady', 'Cause.$': "States.Format('{} did not reach {} instances in {} checks', $.plan.target.name, $.plan.desiredSize, $.poll.count)" },
      resultPath: '$.error',
    }).next(release);
    const done = notify('Report done', 'gpu-nodegroup-scale: node group at the requested size', '$.held', new sfn.Succeed(this, 'Scaled'));

    countPoll.next(new sfn.Choice(this, 'Out of time?').when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.poll.count', '$.plan.maxPolls'), timedOut).otherwise(wait));
    wait.next(status).next(
      new sfn.Choice(this, 'Group active at that size?')
        .when(sfn.Condition.and(sfn.Condition.stringEquals('$.status.status', 'ACTIVE'), sfn.Condition.numberEqualsJsonPath('$.status.desired', '$.held.desired')), instances)
        .otherwise(countPoll),
    );
    instances.next(countInstances).next(
      new sfn.Choice(this, 'Instances in service?').when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.instances.inService', '$.held.desired'), done).otherwise(countPoll),
    );
    // A poll that keeps failing: release, report (the error arrives with its own Error and Cause).
    catchAll([status, instances], release);

    plan.next(hold).next(startPolling).next(wait);

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
