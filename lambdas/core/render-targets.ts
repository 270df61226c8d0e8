import type { AlarmKind, ResolvedEnvironment } from './config';
import type { TargetsDocumentInput } from './targets';

type TargetInput = TargetsDocumentInput['targets'][number];

/**
 * Render one environment's config into the managed-targets document the
 * Lambdas read (MLSCALE_CONFIG): every pool as an `ecs-service` target and
 * every EKS GPU node group as an `eks-nodegroup` target.
 */
export function renderTargetsDocument(
  env: ResolvedEnvironment,
  alarmName: (pool: string, kind: AlarmKind) => string,
  /** Alarm kinds each pool really has (not every kind applies to every pool). */
  alarmKindsOf: (pool: string) => readonly AlarmKind[],
): TargetsDocumentInput {
  const targets: TargetInput[] = env.pools.map((pool) => {
    const emergencyKinds = alarmKindsOf(pool.name).filter((k) => env.emergency.alarmKinds.includes(k));
    const target: TargetInput = {
      name: pool.name,
      kind: 'ecs-service',
      cluster: env.clusterName,
      service: pool.name,
      pool: pool.kind,
      minCapacity: pool.minCapacity,
      maxCapacity: pool.maxCapacity,
      emergencyEnabled: pool.emergency.enabled,
      emergencyCeiling: pool.emergency.ceiling,
      alarms: pool.emergency.enabled ? emergencyKinds.map((k) => alarmName(pool.name, k)) : [],
      plannedEvents: env.plannedEvents.filter((e) => e.pool === pool.name).map(({ pool: _pool, ...event }) => event),
      peakHours: env.peakHours.filter((p) => p.pool === pool.name).map(({ pool: _pool, ...peak }) => peak),
    };
    if (pool.kind === 'scale-to-zero') {
      Object.assign(target, {
        work: pool.metrics.work,
        ...(pool.metrics.inFlight ? { inFlight: pool.metrics.inFlight } : {}),
        idleMinutes: pool.idleMinutes,
        scaleFromZeroTo: pool.scaleFromZeroTo,
        missingDataIsIdle: pool.missingDataIsIdle,
      });
    }
    if (pool.predictive.enabled) {
      target.predictive = {
        load: pool.metrics.requests,
        targetPerReplica: pool.predictive.targetPerReplica,
        headroom: pool.predictive.headroom,
        leadMinutes: pool.predictive.leadMinutes,
        mode: pool.predictive.mode,
        historyDays: env.predictive.historyDays,
        horizonHours: env.predictive.horizonHours,
      };
    }
    return target;
  });

  for (const ng of env.eks?.nodeGroups ?? []) {
    targets.push({
      name: ng.name,
      kind: 'eks-nodegroup',
      cluster: env.eks!.clusterName,
      nodegroup: ng.name,
      pool: ng.scaleToZero ? 'scale-to-zero' : 'gpu-nodes',
      minCapacity: ng.minSize,
      maxCapacity: ng.maxSize,
      work: ng.work,
      idleMinutes: ng.idleMinutes,
      missingDataIsIdle: ng.missingDataIsIdle,
      emergencyEnabled: false,
    });
  }
  return { targets };
}
