import {
  describeScalableTargets,
  describeServices,
  ecsResourceId,
  listClusterNames,
  listServiceNames,
  suspensionOf,
  type AasTarget,
  type Service,
} from '../../lambdas/aws/ecs';
import { describeNodegroup, listEksClusterNames, listNodegroupNames, nodegroupState } from '../../lambdas/aws/eks';
import { isAwsError } from '../../lambdas/aws/send';
import { TargetNotFoundError } from '../../lambdas/aws/target-state';
import { NOT_SUSPENDED, type Suspension } from '../../lambdas/core/holds';
import { mapLimit } from '../../lambdas/shared/map-limit';
import { CliError } from './errors';
import { listHint, type Kind } from './resource';

/** How `get` shows a resource. Paused: an operator's pause hold, or every kind of automatic scaling suspended. */
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
  /** ACTIVE, DRAINING, UPDATING … as ECS or EKS says it. */
  readonly serviceStatus: string;
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
  return {
    kind: 'service',
    namespace,
    name: service.serviceName ?? '',
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    ...(target ? { limits: { min: target.MinCapacity ?? 0, max: target.MaxCapacity ?? 0 } } : {}),
    suspension: target ? suspensionOf(target) : NOT_SUSPENDED,
    serviceStatus: service.status ?? 'ACTIVE',
  };
}

const isClusterNotFound = (err: unknown) => isAwsError(err, 'ClusterNotFoundException');

/** The first failure of a batch read that is not "the cluster is gone". */
function firstFailure(failed: Map<string, Error>): Error | undefined {
  return [...failed.values()].find((e) => !isClusterNotFound(e));
}

/** Services with their scalable targets, in the order given; services that do not exist are left out. */
async function readServiceViews(refs: readonly { cluster: string; service: string }[]): Promise<ResourceView[]> {
  if (refs.length === 0) return [];
  const ids = refs.map((r) => ecsResourceId(r.cluster, r.service));
  const [services, targets] = await Promise.all([describeServices(refs), describeScalableTargets(ids)]);
  const failure = firstFailure(services.failed) ?? firstFailure(targets.failed);
  if (failure) throw failure;
  return refs.flatMap((r, i) => {
    const service = services.found.get(ids[i]!);
    if (!service || service.status === 'INACTIVE') return [];
    return [serviceView(r.cluster, service, targets.found.get(ids[i]!))];
  });
}

export async function readNodegroup(namespace: string, name: string): Promise<ResourceView | undefined> {
  try {
    const s = nodegroupState(await describeNodegroup({ cluster: namespace, nodegroup: name }));
    return {
      kind: 'nodegroup',
      namespace,
      name,
      desired: s.desired,
      running: s.running,
      pending: s.pending,
      limits: { min: s.min, max: s.max },
      suspension: s.suspension,
      serviceStatus: s.status,
    };
  } catch (err) {
    if (err instanceof TargetNotFoundError) return undefined;
    throw err;
  }
}

/** One resource by name, or undefined when it does not exist. */
export async function read(kind: Kind, namespace: string, name: string): Promise<ResourceView | undefined> {
  return kind === 'service' ? (await readServiceViews([{ cluster: namespace, service: name }]))[0] : readNodegroup(namespace, name);
}

function namespaceNotFound(kind: Kind, namespace: string): CliError {
  return new CliError(`Namespace '${namespace}' not found (no ${kind === 'service' ? 'ECS' : 'EKS'} cluster of that name; see: ${listHint(kind)})`);
}

/** Every service of the namespaces (all ECS clusters when `namespaces` is undefined), sorted by namespace and name. */
export async function listServices(namespaces: readonly string[] | undefined): Promise<ResourceView[]> {
  const all = namespaces === undefined;
  const clusters = namespaces ?? (await listClusterNames());
  const perCluster = await mapLimit(clusters, CONCURRENCY, async (cluster) => {
    try {
      return (await listServiceNames(cluster)).map((service) => ({ cluster, service }));
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
  const clusters = namespaces ?? (await listEksClusterNames());
  const perCluster = await mapLimit(clusters, CONCURRENCY, async (cluster) => {
    try {
      return (await listNodegroupNames(cluster)).map((nodegroup) => ({ cluster, nodegroup }));
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) {
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
