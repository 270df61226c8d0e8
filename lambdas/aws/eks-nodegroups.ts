import { ListClustersCommand, ListNodegroupsCommand, TagResourceCommand, UntagResourceCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { eks } from './clients/eks';
import { retrying } from './retry';

/**
 * What an operator reads and changes on any EKS managed node group (the
 * `mlscale` CLI). Reading one group is `describeNodegroup` in
 * eks-nodegroup-target.ts.
 */

export type { Nodegroup } from '@aws-sdk/client-eks';

export async function listEksClusterNames(): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await retrying(() => eks.send(new ListClustersCommand({ nextToken })));
    names.push(...(res.clusters ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return names;
}

/** Node group names of one cluster; ResourceNotFoundException when the cluster does not exist. */
export async function listNodegroupNames(cluster: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await retrying(() => eks.send(new ListNodegroupsCommand({ clusterName: cluster, nextToken })));
    names.push(...(res.nodegroups ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return names;
}

export interface NodegroupScaling {
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly desiredSize?: number;
}

/** One UpdateNodegroupConfig: EKS checks min <= desired <= max on the resulting config. */
export async function updateNodegroupScaling(cluster: string, nodegroup: string, scalingConfig: NodegroupScaling): Promise<void> {
  await retrying(() => eks.send(new UpdateNodegroupConfigCommand({ clusterName: cluster, nodegroupName: nodegroup, scalingConfig })));
}

export async function tagNodegroup(nodegroupArn: string, tags: Record<string, string>): Promise<void> {
  await retrying(() => eks.send(new TagResourceCommand({ resourceArn: nodegroupArn, tags })));
}

export async function untagNodegroup(nodegroupArn: string, tagKeys: readonly string[]): Promise<void> {
  await retrying(() => eks.send(new UntagResourceCommand({ resourceArn: nodegroupArn, tagKeys: [...tagKeys] })));
}
