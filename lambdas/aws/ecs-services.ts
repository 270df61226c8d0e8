import { RegisterScalableTargetCommand, type ScalableTarget as AasTarget } from '@aws-sdk/client-application-auto-scaling';
import { ListClustersCommand, ListServicesCommand, UpdateServiceCommand, type Service } from '@aws-sdk/client-ecs';
import type { Suspension } from '../core/emergency';
import { autoscaling } from './clients/autoscaling';
import { ecs } from './clients/ecs';
import { describeScalableTargets, describeServices, ecsResourceId } from './ecs-service-target';
import { retrying } from './retry';

/**
 * What an operator reads and changes on any ECS service and its scalable
 * target, managed target or not (the `mlscale` CLI). Unlike the Lambdas'
 * batch reads, a failed call is thrown: a CLI reports it and stops.
 */

export type { Service } from '@aws-sdk/client-ecs';
export type { ScalableTarget as AasScalableTarget } from '@aws-sdk/client-application-auto-scaling';

const NAMESPACE = 'ecs';
const DIMENSION = 'ecs:service:DesiredCount';

/** The last path segment of an ECS ARN: the cluster or service name (old and new ARN formats). */
const nameOfArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export async function listClusterNames(): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await retrying(() => ecs.send(new ListClustersCommand({ nextToken })));
    names.push(...(res.clusterArns ?? []).map(nameOfArn));
    nextToken = res.nextToken;
  } while (nextToken);
  return names;
}

/** Service names of one cluster; ClusterNotFoundException when it does not exist. */
export async function listServiceNames(cluster: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await retrying(() => ecs.send(new ListServicesCommand({ cluster, nextToken })));
    names.push(...(res.serviceArns ?? []).map(nameOfArn));
    nextToken = res.nextToken;
  } while (nextToken);
  return names;
}

function throwFirst(failed: Map<string, Error>): void {
  const first = failed.values().next();
  if (!first.done) throw first.value;
}

/** Services by resource ID (`service/<cluster>/<name>`); missing ones are absent. */
export async function readServices(refs: readonly { cluster: string; service: string }[]): Promise<Map<string, Service>> {
  const res = await describeServices(refs);
  throwFirst(res.failed);
  return res.found;
}

/** Scalable targets by resource ID; services without one are absent. */
export async function readServiceScalableTargets(refs: readonly { cluster: string; service: string }[]): Promise<Map<string, AasTarget>> {
  const res = await describeScalableTargets(refs.map((r) => ecsResourceId(r.cluster, r.service)));
  throwFirst(res.failed);
  return res.found;
}

export async function setServiceDesired(cluster: string, service: string, desired: number): Promise<void> {
  await retrying(() => ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: desired })));
}

export interface ScalingChange {
  readonly min?: number;
  readonly max?: number;
  readonly suspension?: Suspension;
}

/**
 * Update an existing scalable target in one RegisterScalableTarget call:
 * only the fields given change (the API keeps the others as they are).
 */
export async function updateServiceScaling(cluster: string, service: string, change: ScalingChange): Promise<void> {
  const s = change.suspension;
  await retrying(() =>
    autoscaling.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: NAMESPACE,
        ScalableDimension: DIMENSION,
        ResourceId: ecsResourceId(cluster, service),
        ...(change.min !== undefined ? { MinCapacity: change.min } : {}),
        ...(change.max !== undefined ? { MaxCapacity: change.max } : {}),
        ...(s
          ? { SuspendedState: { DynamicScalingInSuspended: s.dynamicIn, DynamicScalingOutSuspended: s.dynamicOut, ScheduledScalingSuspended: s.scheduled } }
          : {}),
      }),
    ),
  );
}
