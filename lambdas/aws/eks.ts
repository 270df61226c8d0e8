import {
  DescribeNodegroupCommand,
  type DescribeNodegroupCommandOutput,
  ListClustersCommand,
  type ListClustersCommandOutput,
  ListNodegroupsCommand,
  type ListNodegroupsCommandOutput,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { NOT_SUSPENDED } from '../core/holds';
import { eks } from './clients/eks';
import { isAwsError, paginate, send } from './send';
import { TargetNotFoundError, type TargetState } from './target-state';

/** EKS managed node groups: what the reconciler, the actors and the CLI read. (Writes are limits-writer.ts.) */

export type { Nodegroup } from '@aws-sdk/client-eks';

export interface NodegroupRef {
  readonly cluster: string;
  readonly nodegroup: string;
}

export async function describeNodegroup(ref: NodegroupRef): Promise<Nodegroup> {
  try {
    const res = await send<DescribeNodegroupCommandOutput>(eks, new DescribeNodegroupCommand({ clusterName: ref.cluster, nodegroupName: ref.nodegroup }));
    if (!res.nodegroup) throw new TargetNotFoundError(`node group ${ref.nodegroup} in EKS cluster ${ref.cluster}`);
    return res.nodegroup;
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) throw new TargetNotFoundError(`node group ${ref.nodegroup} in EKS cluster ${ref.cluster}`);
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
    registered: true,
    status: ng.status ?? 'UNKNOWN',
  };
}

export async function listEksClusterNames(): Promise<string[]> {
  const pages = await paginate(
    (nextToken) => send<ListClustersCommandOutput>(eks, new ListClustersCommand({ nextToken })),
    (page) => page.nextToken,
  );
  return pages.flatMap((p) => p.clusters ?? []);
}

/** Node group names of one cluster; ResourceNotFoundException when the cluster does not exist. */
export async function listNodegroupNames(cluster: string): Promise<string[]> {
  const pages = await paginate(
    (nextToken) => send<ListNodegroupsCommandOutput>(eks, new ListNodegroupsCommand({ clusterName: cluster, nextToken })),
    (page) => page.nextToken,
  );
  return pages.flatMap((p) => p.nodegroups ?? []);
}
