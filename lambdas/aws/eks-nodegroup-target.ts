import { DescribeNodegroupCommand, type Nodegroup, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { NOT_SUSPENDED } from '../core/emergency';
import type { TargetSpec } from '../core/targets';
import { eks } from './clients/eks';
import { retrying } from './retry';
import { TargetNotFoundError, type Limits, type ScalableTarget, type TargetState } from './target-types';

type EksSpec = Extract<TargetSpec, { kind: 'eks-nodegroup' }>;

/** Node groups have no Application Auto Scaling target; `mlscale pause` marks them with this tag. */
export const PAUSED_TAG = 'mlscale:paused';

export async function describeNodegroup(cluster: string, nodegroup: string): Promise<Nodegroup> {
  try {
    const res = await retrying(() => eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })));
    if (!res.nodegroup) throw new TargetNotFoundError(`node group ${nodegroup} in EKS cluster ${cluster}`);
    return res.nodegroup;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') throw new TargetNotFoundError(`node group ${nodegroup} in EKS cluster ${cluster}`);
    throw err;
  }
}

export function nodegroupState(ng: Nodegroup): TargetState {
  const sc = ng.scalingConfig ?? {};
  const desired = sc.desiredSize ?? 0;
  // EKS does not report ready nodes; while the group is ACTIVE it has reached its desired size.
  const active = ng.status === 'ACTIVE';
  return {
    desired,
    running: active ? desired : 0,
    pending: active ? 0 : desired,
    min: sc.minSize ?? 0,
    max: sc.maxSize ?? 0,
    suspension: NOT_SUSPENDED,
    paused: ng.tags?.[PAUSED_TAG] === 'true',
    registered: true,
    status: ng.status ?? 'UNKNOWN',
  };
}

export class EksNodegroupTarget implements ScalableTarget {
  constructor(public readonly spec: EksSpec) {}

  async read(): Promise<TargetState> {
    return nodegroupState(await describeNodegroup(this.spec.cluster, this.spec.nodegroup));
  }

  async setDesired(desired: number): Promise<void> {
    await this.update({ desiredSize: desired });
  }

  /** One UpdateNodegroupConfig: EKS checks min <= desired <= max on the resulting config. */
  async setLimits(limits: Limits): Promise<void> {
    await this.update({ minSize: limits.min, maxSize: limits.max, ...(limits.desired !== undefined ? { desiredSize: limits.desired } : {}) });
  }

  private async update(scalingConfig: { minSize?: number; maxSize?: number; desiredSize?: number }): Promise<void> {
    await retrying(() =>
      eks.send(new UpdateNodegroupConfigCommand({ clusterName: this.spec.cluster, nodegroupName: this.spec.nodegroup, scalingConfig })),
    );
  }

  // Node groups have no scheduled actions: predictive pre-scaling is for ECS targets.
  async listScheduledActions() {
    return [];
  }

  async putScheduledAction(): Promise<void> {
    throw new Error(`node group ${this.spec.nodegroup} has no scheduled actions; predictive pre-scaling applies to ECS services`);
  }

  async deleteScheduledAction(): Promise<void> {
    // Nothing to delete.
  }
}
