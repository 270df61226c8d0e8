import { autoscaling } from '../../lambdas/aws/clients/autoscaling';
import { ecs } from '../../lambdas/aws/clients/ecs';
import { eks } from '../../lambdas/aws/clients/eks';
import { ecsResourceId, isPaused, suspensionOf } from '../../lambdas/aws/ecs-service-target';
import { describeNodegroup, nodegroupState } from '../../lambdas/aws/eks-nodegroup-target';
import { listEksClusterNames, listNodegroupNames, type Nodegroup } from '../../lambdas/aws/eks-nodegroups';
import {
  listClusterNames,
  listServiceNames,
  readServices,
  readServiceScalableTargets,
  type AasScalableTarget as AasTarget,
  type Service,
} from '../../lambdas/aws/ecs-services';
import { TargetNotFoundError } from '../../lambdas/aws/target-types';
import { NOT_SUSPENDED, type Suspension } from '../../lambdas/core/emergency';
import { mapLimit } from '../../lambdas/shared/map-limit';
import { via } from './aws';
import { CliError } from './errors';
import { checkName, listHint, notFound, parseResource, type Kind, type ResourceRef } from './resource';

/** How `get` shows a resource; KEDA's "paused" is Application Auto Scaling's suspension (or the node group's pause tag). */
export type Status = 'Running' | 'Scaling' | 'Paused' | 'Stopped';

export interface ResourceView {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  /** Min / max capacity; absent for an ECS service with no scalable target (nothing autoscales it). */
  readonly limits?: { readonly min: number; readonly max: number };
  readonly suspension: Suspension;
  readonly paused: boolean;
  readonly status: Status;
  /** Node groups: for tagging. */
  readonly arn?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Paused wins (an operator said so); then nothing wanted; then on the way; else running. */
export function statusOf(v: { desired: number; running: number; pending: number; paused: boolean; serviceStatus: string }): Status {
  if (v.paused) return 'Paused';
  if (v.serviceStatus === 'DRAINING' || v.serviceStatus === 'DELETING') return 'Stopped';
  if (v.desired === 0 && v.running === 0) return 'Stopped';
  if (v.running !== v.desired || v.pending > 0 || v.serviceStatus === 'UPDATING' || v.serviceStatus === 'CREATING') return 'Scaling';
  return 'Running';
}

const CONCURRENCY = 10;

function serviceView(namespace: string, service: Service, target: AasTarget | undefined): ResourceView {
  const suspension = target ? suspensionOf(target) : NOT_SUSPENDED;
  const paused = isPaused(suspension);
  const desired = service.desiredCount ?? 0;
  const running = service.runningCount ?? 0;
  const pending = service.pendingCount ?? 0;
  return {
    kind: 'service',
    namespace,
    name: service.serviceName ?? '',
    desired,
    running,
    pending,
    ...(target ? { limits: { min: target.MinCapacity ?? 0, max: target.MaxCapacity ?? 0 } } : {}),
    suspension,
    paused,
    status: statusOf({ desired, running, pending, paused, serviceStatus: service.status ?? 'ACTIVE' }),
  };
}

function nodegroupView(namespace: string, ng: Nodegroup): ResourceView {
  const s = nodegroupState(ng);
  return {
    kind: 'nodegroup',
    namespace,
    name: ng.nodegroupName ?? '',
    desired: s.desired,
    running: s.running,
    pending: s.pending,
    limits: { min: s.min, max: s.max },
    suspension: s.suspension,
    paused: s.paused,
    status: statusOf({ desired: s.desired, running: s.running, pending: s.pending, paused: s.paused, serviceStatus: s.status }),
    ...(ng.nodegroupArn ? { arn: ng.nodegroupArn } : {}),
    tags: ng.tags ?? {},
  };
}

const isClusterNotFound = (err: unknown) => (err as Error)?.name === 'ClusterNotFoundException';

/** Services with their scalable targets, in the order given; services that do not exist are left out. */
async function readServiceViews(refs: readonly { cluster: string; service: string }[]): Promise<ResourceView[]> {
  if (refs.length === 0) return [];
  const [services, targets] = await Promise.all([
    via(ecs, () => readServices(refs)).catch((err: unknown) => {
      if (isClusterNotFound(err)) return new Map<string, Service>();
      throw err;
    }),
    via(autoscaling, () => readServiceScalableTargets(refs)),
  ]);
  return refs.flatMap((r) => {
    const id = ecsResourceId(r.cluster, r.service);
    const service = services.get(id);
    if (!service || service.status === 'INACTIVE') return [];
    return [serviceView(r.cluster, service, targets.get(id))];
  });
}

export async function readService(namespace: string, name: string): Promise<ResourceView | undefined> {
  return (await readServiceViews([{ cluster: namespace, service: name }]))[0];
}

export async function readNodegroup(namespace: string, name: string): Promise<ResourceView | undefined> {
  try {
    return nodegroupView(namespace, await via(eks, () => describeNodegroup(namespace, name)));
  } catch (err) {
    if (err instanceof TargetNotFoundError) return undefined;
    throw err;
  }
}

export async function read(kind: Kind, namespace: string, name: string): Promise<ResourceView | undefined> {
  return kind === 'service' ? readService(namespace, name) : readNodegroup(namespace, name);
}

/** Read a resource named on the command line or fail with the not-found line; the names are checked before any call. */
export async function mustRead(first: string, second: string | undefined, namespaceOpt: string): Promise<{ ref: ResourceRef; namespace: string; view: ResourceView }> {
  const ref = parseResource(first, second);
  const namespace = checkName(namespaceOpt, 'namespace');
  const view = await read(ref.kind, namespace, ref.name);
  if (!view) throw notFound(ref, namespace);
  return { ref, namespace, view };
}

function namespaceNotFound(kind: Kind, namespace: string): CliError {
  return new CliError(`Namespace '${namespace}' not found (no ${kind === 'service' ? 'ECS' : 'EKS'} cluster of that name; see: ${listHint(kind)})`);
}

/** Every service of the namespaces (all ECS clusters when `namespaces` is undefined), sorted by namespace and name. */
export async function listServices(namespaces: readonly string[] | undefined): Promise<ResourceView[]> {
  const all = namespaces === undefined;
  const clusters = namespaces ?? (await via(ecs, () => listClusterNames()));
  const perCluster = await mapLimit(clusters, CONCURRENCY, async (cluster) => {
    try {
      return (await via(ecs, () => listServiceNames(cluster))).map((service) => ({ cluster, service }));
    } catch (err) {
      // A cluster deleted between the two calls is simply empty.
      if (isClusterNotFound(err)) {
        if (all) return [];
        throw namespaceNotFound('service', cluster);
      }
      throw err;
    }
  });
  return sortViews(await readServiceViews(perCluster.flat()));
}

/** Every node group of the namespaces (all EKS clusters when undefined), sorted by namespace and name. */
export async function listNodegroups(namespaces: readonly string[] | undefined): Promise<ResourceView[]> {
  const all = namespaces === undefined;
  const clusters = namespaces ?? (await via(eks, () => listEksClusterNames()));
  const perCluster = await mapLimit(clusters, CONCURRENCY, async (cluster) => {
    try {
      return (await via(eks, () => listNodegroupNames(cluster))).map((nodegroup) => ({ cluster, nodegroup }));
    } catch (err) {
      if ((err as Error)?.name === 'ResourceNotFoundException') {
        if (all) return [];
        throw namespaceNotFound('nodegroup', cluster);
      }
      throw err;
    }
  });
  const views = await mapLimit(perCluster.flat(), CONCURRENCY, ({ cluster, nodegroup }) => readNodegroup(cluster, nodegroup));
  return sortViews(views.filter((v): v is ResourceView => v !== undefined));
}

function sortViews(views: ResourceView[]): ResourceView[] {
  return views.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
