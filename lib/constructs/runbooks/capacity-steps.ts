import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { transientErrors, withRetry } from './common';

export interface TargetResources {
  /** ECS service ARNs the runbook may describe and update. */
  readonly services: string[];
  /** EKS node group ARNs the runbook may describe and update. */
  readonly nodegroups: string[];
}

/** A piece of a state machine with one way in and one way out, and the tasks in it (to attach catches). */
export interface Fragment {
  readonly start: sfn.IChainable;
  readonly end: sfn.INextable;
  readonly tasks: readonly sfn.TaskStateBase[];
}

/** Catch every error of every task of a fragment, keeping the input under `resultPath`. */
export function catchAll(tasks: readonly sfn.TaskStateBase[], handler: sfn.IChainable, resultPath = '$.error'): void {
  for (const task of tasks) task.addCatch(handler, { resultPath });
}

const T = '$.plan.target';

/**
 * State-machine steps that read one target, whether an ECS service or an EKS
 * node group, as direct SDK integrations. The runbooks change nothing
 * directly: they write holds through the runbook Lambda, and the reconciler
 * applies them. Every step retries throttling and transient faults.
 */
export class CapacitySteps {
  constructor(
    private readonly scope: Construct,
    private readonly resources: TargetResources,
  ) {}

  private sdk(id: string, service: 'ecs' | 'eks', action: string, parameters: Record<string, unknown>, extra: Partial<tasks.CallAwsServiceProps> = {}) {
    const iam = {
      ecs: { resources: this.resources.services.length ? this.resources.services : ['arn:aws:ecs:::service/none'], prefix: 'ecs', errors: 'Ecs' as const },
      eks: { resources: this.resources.nodegroups.length ? this.resources.nodegroups : ['arn:aws:eks:::nodegroup/none'], prefix: 'eks', errors: 'Eks' as const },
    }[service];
    return withRetry(
      new tasks.CallAwsService(this.scope, id, {
        service,
        action,
        parameters,
        iamAction: `${iam.prefix}:${action.charAt(0).toUpperCase()}${action.slice(1)}`,
        iamResources: iam.resources,
        ...extra,
      }),
      transientErrors(iam.errors),
    );
  }

  /**
   * Poll every `$.plan.pollSeconds` until the target runs `desiredPath`
   * (ECS: running tasks >= it; EKS: group ACTIVE at that desired size), at most
   * `$.plan.maxPolls` times; then `ready`, or `timedOut` with `$.error` set.
   */
  waitUntilReady(prefix: string, desiredPath: string, ready: sfn.IChainable, timedOut: sfn.IChainable): { start: sfn.IChainable; tasks: sfn.TaskStateBase[] } {
    const init = new sfn.Pass(this.scope, `${prefix}: start polling`, { result: sfn.Result.fromObject({ count: 0 }), resultPath: '$.poll' });
    const wait = new sfn.Wait(this.scope, `${prefix}: wait`, { time: sfn.WaitTime.secondsPath('$.plan.pollSeconds') });
    const count = new sfn.Pass(this.scope, `${prefix}: count poll`, {
      parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' },
      resultPath: '$.poll',
    });
    const giveUp = new sfn.Pass(this.scope, `${prefix}: not ready in time`, {
      parameters: { Error: 'NotReady', 'Cause.$': "States.Format('{} did not reach {} in {} polls', $.plan.target.name, " + desiredPath + ', $.poll.count)' },
      resultPath: '$.error',
    }).next(timedOut);
    const again = new sfn.Choice(this.scope, `${prefix}: out of time?`)
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.poll.count', '$.plan.maxPolls'), giveUp)
      .otherwise(wait);

    const service = this.sdk(`${prefix}: service status`, 'ecs', 'describeServices', {
      Cluster: sfn.JsonPath.stringAt(`${T}.cluster`),
      Services: sfn.JsonPath.array(sfn.JsonPath.stringAt(`${T}.service`)),
    }, { resultSelector: { 'running.$': '$.Services[0].RunningCount', 'desired.$': '$.Services[0].DesiredCount' }, resultPath: '$.status' });
    const serviceReady = new sfn.Choice(this.scope, `${prefix}: tasks running?`)
      .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.status.running', desiredPath), ready)
      .otherwise(count);
    service.next(serviceReady);

    const nodegroup = this.sdk(`${prefix}: node group status`, 'eks', 'describeNodegroup', {
      ClusterName: sfn.JsonPath.stringAt(`${T}.cluster`),
      NodegroupName: sfn.JsonPath.stringAt(`${T}.nodegroup`),
    }, { resultSelector: { 'status.$': '$.Nodegroup.Status', 'desired.$': '$.Nodegroup.ScalingConfig.DesiredSize' }, resultPath: '$.status' });
    const nodegroupReady = new sfn.Choice(this.scope, `${prefix}: group active?`)
      .when(
        sfn.Condition.and(sfn.Condition.stringEquals('$.status.status', 'ACTIVE'), sfn.Condition.numberEqualsJsonPath('$.status.desired', desiredPath)),
        ready,
      )
      .otherwise(count);
    nodegroup.next(nodegroupReady);

    count.next(again);
    const check = new sfn.Choice(this.scope, `${prefix}: which kind?`)
      .when(sfn.Condition.stringEquals(`${T}.kind`, 'eks-nodegroup'), nodegroup)
      .otherwise(service);
    wait.next(check);
    init.next(wait);
    return { start: init, tasks: [service, nodegroup] };
  }
}
