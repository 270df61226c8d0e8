import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../../lambdas/core/targets';
import { catchAll } from './capacity-steps';
import { notify, runbookStateMachine, targetArns, transientErrors, withPatientRetry, withRetry } from './common';

export interface GpuNodegroupScaleProps {
  /** Node groups the runbook may scale (others are refused by IAM). */
  readonly targets: readonly TargetSpec[];
  readonly topic: sns.ITopic;
  /**
   * Seconds between checks, and how many checks before giving up.
   * @default 30 s, 40 checks (20 minutes: GPU nodes boot and join slowly)
   */
  readonly pollSeconds?: number;
  readonly maxPolls?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Runbook "scale the GPU node group, watch the nodes join": validate the
 * size against the group's min/max, update it, wait until the group is ACTIVE
 * with that many instances in service, report. If it does not get there in
 * time, the previous desired size is restored and the failure reported.
 *
 * Input: { cluster, nodegroup, desiredSize }.
 */
export class GpuNodegroupScaleRunbook extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: GpuNodegroupScaleProps) {
    super(scope, id);
    const topic = props.topic;
    const { nodegroups } = targetArns(this, props.targets);
    const nodegroupArns = nodegroups.length ? nodegroups : ['arn:aws:eks:::nodegroup/none'];
    const eks = (sid: string, action: string, parameters: Record<string, unknown>, extra: Partial<tasks.CallAwsServiceProps>) =>
      withRetry(
        new tasks.CallAwsService(this, sid, { service: 'eks', action, parameters, iamAction: `eks:${action.charAt(0).toUpperCase()}${action.slice(1)}`, iamResources: nodegroupArns, ...extra }),
        transientErrors('Eks'),
      );
    const failed = new sfn.Fail(this, 'Failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' });
    const reportFailure = notify(this, 'Report failure', topic, 'gpu-nodegroup-scale failed', '$.error').next(failed);

    // A missing field would fail the first path that reads it with an uncatchable States.Runtime: check first.
    const incomplete = new sfn.Pass(this, 'Incomplete input', {
      parameters: { Error: 'InvalidInput', Cause: 'input must be { "cluster": "<EKS cluster>", "nodegroup": "<node group>", "desiredSize": <number> }' },
      resultPath: '$.error',
    }).next(reportFailure);
    // Presence first, in a rule of its own: a type test on a missing path is itself a States.Runtime.
    // (Not(IsPresent) rather than IsPresent: false, which means the same in AWS but which
    // aws-local-stepfunctions 3.0 never matches.)
    const absent = (path: string) => sfn.Condition.not(sfn.Condition.isPresent(path));
    const checkInput = new sfn.Choice(this, 'Input complete?')
      .when(sfn.Condition.or(absent('$.cluster'), absent('$.nodegroup'), absent('$.desiredSize')), incomplete)
      .when(sfn.Condition.or(sfn.Condition.not(sfn.Condition.isString('$.cluster')), sfn.Condition.not(sfn.Condition.isString('$.nodegroup'))), incomplete);
    const defaults = new sfn.Pass(this, 'Polling settings', {
      result: sfn.Result.fromObject({ pollSeconds: props.pollSeconds ?? 30, maxPolls: props.maxPolls ?? 40, count: 0 }),
      resultPath: '$.poll',
    });
    const nodegroupParams = { 'ClusterName.$': '$.cluster', 'NodegroupName.$': '$.nodegroup' };
    const describe = eks('Read node group', 'describeNodegroup', nodegroupParams, {
      resultSelector: {
        'min.$': '$.Nodegroup.ScalingConfig.MinSize',
        'max.$': '$.Nodegroup.ScalingConfig.MaxSize',
        'desired.$': '$.Nodegroup.ScalingConfig.DesiredSize',
        'status.$': '$.Nodegroup.Status',
        'asg.$': '$.Nodegroup.Resources.AutoScalingGroups[0].Name',
      },
      resultPath: '$.before',
    });
    const invalid = (sid: string, error: string, cause: string) =>
      new sfn.Pass(this, sid, { parameters: { Error: error, 'Cause.$': cause }, resultPath: '$.error' }).next(reportFailure);
    const validate = new sfn.Choice(this, 'Valid size?')
      .when(sfn.Condition.not(sfn.Condition.isNumeric('$.desiredSize')), invalid('Not a number', 'InvalidInput', "States.Format('desiredSize must be a number')"))
      .when(
        sfn.Condition.or(
          sfn.Condition.numberLessThanJsonPath('$.desiredSize', '$.before.min'),
          sfn.Condition.numberGreaterThanJsonPath('$.desiredSize', '$.before.max'),
        ),
        invalid('Out of range', 'OutOfRange', "States.Format('desiredSize {} is outside min..max {}..{} of {}', $.desiredSize, $.before.min, $.before.max, $.nodegroup)"),
      )
      .when(sfn.Condition.not(sfn.Condition.stringEquals('$.before.status', 'ACTIVE')), invalid('Not active', 'NotActive', "States.Format('node group {} is {}, not ACTIVE', $.nodegroup, $.before.status)"));

    const update = eks('Set desired size', 'updateNodegroupConfig', { ...nodegroupParams, ScalingConfig: { 'DesiredSize.$': '$.desiredSize' } }, { resultPath: sfn.JsonPath.DISCARD });
    const restoreFailed = notify(this, 'Report restore failure', topic, 'CRITICAL: gpu-nodegroup-scale could not restore the previous size', '$.error').next(failed);
    const restore = withPatientRetry(
      eks('Restore previous size', 'updateNodegroupConfig', { ...nodegroupParams, ScalingConfig: { 'DesiredSize.$': '$.before.desired' } }, { resultPath: sfn.JsonPath.DISCARD }),
    );
    restore.addCatch(restoreFailed, { resultPath: '$.restoreError' });
    restore.next(notify(this, 'Report failure (restored)', topic, 'gpu-nodegroup-scale failed after the update (see error); previous size restored', '$.error')).next(failed);

    const wait = new sfn.Wait(this, 'Wait', { time: sfn.WaitTime.secondsPath('$.poll.pollSeconds') });
    const status = eks('Node group status', 'describeNodegroup', nodegroupParams, {
      resultSelector: { 'status.$': '$.Nodegroup.Status', 'desired.$': '$.Nodegroup.ScalingConfig.DesiredSize' },
      resultPath: '$.status',
    });
    // Instances in service, from the group's Auto Scaling group: EKS itself does not count ready nodes.
    const instances = withRetry(
      new tasks.CallAwsService(this, 'Instances in service', {
        service: 'autoscaling',
        action: 'describeAutoScalingGroups',
        parameters: { 'AutoScalingGroupNames.$': 'States.Array($.before.asg)' },
        iamAction: 'autoscaling:DescribeAutoScalingGroups',
        // DescribeAutoScalingGroups has no resource-level permissions.
        iamResources: ['*'],
        resultSelector: { 'inService.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId" },
        resultPath: '$.instances',
      }),
      transientErrors('AutoScaling'),
    );
    const countInstances = new sfn.Pass(this, 'Count instances', { parameters: { 'inService.$': 'States.ArrayLength($.instances.inService)' }, resultPath: '$.instances' });
    const countPoll = new sfn.Pass(this, 'Count poll', {
      parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)', 'pollSeconds.$': '$.poll.pollSeconds', 'maxPolls.$': '$.poll.maxPolls' },
      resultPath: '$.poll',
    });
    const timedOut = new sfn.Pass(this, 'Size not reached', {
      parameters: { Error: 'NotReady', 'Cause.$': "States.Format('{} did not reach {} instances in {} checks', $.nodegroup, $.desiredSize, $.poll.count)" },
      resultPath: '$.error',
    }).next(restore);
    const report = notify(this, 'Report done', topic, 'gpu-nodegroup-scale: node group at the requested size', '$.instances').next(new sfn.Succeed(this, 'Scaled'));

    countPoll.next(new sfn.Choice(this, 'Out of time?').when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.poll.count', '$.poll.maxPolls'), timedOut).otherwise(wait));
    wait.next(status).next(
      new sfn.Choice(this, 'Group active at that size?')
        .when(sfn.Condition.and(sfn.Condition.stringEquals('$.status.status', 'ACTIVE'), sfn.Condition.numberEqualsJsonPath('$.status.desired', '$.desiredSize')), instances)
        .otherwise(countPoll),
    );
    instances.next(countInstances).next(
      new sfn.Choice(this, 'Instances in service?').when(sfn.Condition.numberEqualsJsonPath('$.instances.inService', '$.desiredSize'), report).otherwise(countPoll),
    );

    // Before the update nothing has changed: report only. After it, restore the previous size.
    catchAll([describe, update], reportFailure);
    catchAll([status, instances], restore);
    // (A poll error arrives at the restore with its own Error and Cause, not as "size not reached".)

    checkInput.otherwise(defaults);
    defaults.next(describe).next(validate.otherwise(update));
    update.next(wait);

    this.stateMachine = runbookStateMachine(this, 'StateMachine', {
      targets: props.targets,
      functions: [],
      definition: checkInput, ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
  }
}
