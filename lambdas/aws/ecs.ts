import {
  DescribeScalableTargetsCommand,
  type DescribeScalableTargetsCommandOutput,
  type ScalableTarget as AasTarget,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  ListClustersCommand,
  type ListClustersCommandOutput,
  ListServicesCommand,
  type ListServicesCommandOutput,
  type Service,
} from '@aws-sdk/client-ecs';
import { NOT_SUSPENDED, type Suspension } from '../core/holds';
import { chunks, mapLimit } from '../shared/map-limit';
import { autoscaling } from './clients/autoscaling';
import { ecs } from './clients/ecs';
import { paginate, send } from './send';
import { TargetNotFoundError, type TargetState } from './target-state';

/**
 * ECS services and their Application Auto Scaling targets: what the
 * reconciler, the actors and the CLI read. (Writes are limits-writer.ts,
 * the reconciler's alone.)
 */

export type { Service } from '@aws-sdk/client-ecs';
export type { AasTarget };

export { ECS_DIMENSION_NAME as ECS_DIMENSION, ECS_SERVICE_NAMESPACE as ECS_NAMESPACE } from '../core/names';
import { ECS_DIMENSION_NAME as ECS_DIMENSION, ECS_SERVICE_NAMESPACE as ECS_NAMESPACE } from '../core/names';

export const ecsResourceId = (cluster: string, service: string) => `service/${cluster}/${service}`;

export interface ServiceRef {
  readonly cluster: string;
  readonly service: string;
}

export function suspensionOf(t: AasTarget | undefined): Suspension {
  const s = t?.SuspendedState;
  if (!s) return NOT_SUSPENDED;
  return { dynamicIn: s.DynamicScalingInSuspended ?? false, dynamicOut: s.DynamicScalingOutSuspended ?? false, scheduled: s.ScheduledScalingSuspended ?? false };
}

/** Calls in flight at once when reading many targets. */
export const READ_CONCURRENCY = 10;

export interface BatchRead<T> {
  readonly found: Map<string, T>;
  /** Resource IDs whose batch failed (after retries), with the error. */
  readonly failed: Map<string, Error>;
  readonly calls: number;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** DescribeServices for many services: 10 per call per cluster (the API's limit), batches in parallel. */
export async function describeServices(refs: readonly ServiceRef[]): Promise<BatchRead<Service>> {
  const byCluster = new Map<string, Set<string>>();
  for (const r of refs) byCluster.set(r.cluster, (byCluster.get(r.cluster) ?? new Set()).add(r.service));
  const batches = [...byCluster].flatMap(([cluster, services]) => chunks([...services], 10).map((batch) => ({ cluster, batch })));
  const found = new Map<string, Service>();
  const failed = new Map<string, Error>();
  await mapLimit(batches, READ_CONCURRENCY, async ({ cluster, batch }) => {
    try {
      const res = await send<DescribeServicesCommandOutput>(ecs, new DescribeServicesCommand({ cluster, services: batch }));
      for (const s of res.services ?? []) if (s.serviceName) found.set(ecsResourceId(cluster, s.serviceName), s);
    } catch (err) {
      for (const service of batch) failed.set(ecsResourceId(cluster, service), asError(err));
    }
  });
  return { found, failed, calls: batches.length };
}

/** DescribeScalableTargets for many ECS services: 50 resource IDs per call, batches in parallel. */
export async function describeScalableTargets(resourceIds: readonly string[]): Promise<BatchRead<AasTarget>> {
  const found = new Map<string, AasTarget>();
  const failed = new Map<string, Error>();
  let calls = 0;
  await mapLimit(chunks([...new Set(resourceIds)], 50), READ_CONCURRENCY, async (batch) => {
    try {
      const pages = await paginate(
        (NextToken) => {
          calls++;
          return send<DescribeScalableTargetsCommandOutput>(
            autoscaling,
            new DescribeScalableTargetsCommand({ ServiceNamespace: ECS_NAMESPACE, ScalableDimension: ECS_DIMENSION, ResourceIds: batch, NextToken }),
          );
        },
        (page) => page.NextToken,
      );
      for (const t of pages.flatMap((p) => p.ScalableTargets ?? [])) if (t.ResourceId) found.set(t.ResourceId, t);
    } catch (err) {
      for (const id of batch) failed.set(id, asError(err));
    }
  });
  return { found, failed, calls };
}

/** Combine what ECS and Application Auto Scaling say; limits fall back to `fallback` when nothing is registered. */
export function serviceState(ref: ServiceRef, service: Service | undefined, target: AasTarget | undefined, fallback: { min: number; max: number }): TargetState {
  if (!service || service.status === 'INACTIVE') throw new TargetNotFoundError(`ECS service ${ref.service} in cluster ${ref.cluster}`);
  return {
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    min: target?.MinCapacity ?? fallback.min,
    max: target?.MaxCapacity ?? fallback.max,
    suspension: suspensionOf(target),
    registered: Boolean(target),
    status: service.status ?? 'UNKNOWN',
  };
}

/** Read many services with their scalable targets: a state or the reason it could not be read, per resource ID. */
export async function readServiceStates(
  refs: readonly (ServiceRef & { readonly fallback: { min: number; max: number } })[],
): Promise<{ states: Map<string, TargetState | Error>; calls: number }> {
  const ids = refs.map((r) => ecsResourceId(r.cluster, r.service));
  const [services, targets] = await Promise.all([describeServices(refs), describeScalableTargets(ids)]);
  const states = new Map<string, TargetState | Error>();
  refs.forEach((ref, i) => {
    const id = ids[i]!;
    const failure = services.failed.get(id) ?? targets.failed.get(id);
    if (failure) {
      states.set(id, failure);
      return;
    }
    try {
      states.set(id, serviceState(ref, services.found.get(id), targets.found.get(id), ref.fallback));
    } catch (err) {
      states.set(id, asError(err));
    }
  });
  return { states, calls: services.calls + targets.calls };
}

/** The last path segment of an ECS ARN: the cluster or service name (old and new ARN formats). */
const nameOfArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export async function listClusterNames(): Promise<string[]> {
  const pages = await paginate(
    (nextToken) => send<ListClustersCommandOutput>(ecs, new ListClustersCommand({ nextToken })),
    (page) => page.nextToken,
  );
  return pages.flatMap((p) => (p.clusterArns ?? []).map(nameOfArn));
}

/** Service names of one cluster; ClusterNotFoundException when it does not exist. */
export async function listServiceNames(cluster: string): Promise<string[]> {
  const pages = await paginate(
    (nextToken) => send<ListServicesCommandOutput>(ecs, new ListServicesCommand({ cluster, nextToken })),
    (page) => page.nextToken,
  );
  return pages.flatMap((p) => (p.serviceArns ?? []).map(nameOfArn));
}
