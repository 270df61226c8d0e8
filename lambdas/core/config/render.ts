import { alarmSpecsForPool } from './alarm-specs';
import type { ResolvedEnvironment } from './resolve';
import { HEALTH_ALARM_KINDS } from './schema';
import { alarmName, holdsTableName } from '../names';
import { parseTargetsDocument, type TargetsDocument, type TargetsDocumentInput } from './document';

type TargetInput = TargetsDocumentInput['targets'][number];

/**
 * Render one environment's config into the managed-targets document the
 * Lambdas read (MLSCALE_CONFIG): every pool as an `ecs-service` target and
 * every EKS GPU node group as an `eks-nodegroup` target, the holds table and
 * the emergency settings. The stack, the CLI and the simulator all call it,
 * so they see one document.
 */
export function renderTargetsDocument(env: ResolvedEnvironment): TargetsDocumentInput {
  const prefix = `${env.pipeline}-${env.name}`;
  const targets: TargetInput[] = env.pools.map((pool) => {
    // Only the kinds this pool really has (not every kind applies to every pool).
    const kinds = alarmSpecsForPool(pool, env.thresholds, env.clusterName).map((a) => a.kind);
    const emergencyKinds = kinds.filter((k) => env.emergency.alarmKinds.includes(k));
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
      alarms: pool.emergency.enabled ? emergencyKinds.map((k) => alarmName(prefix, pool.name, k)) : [],
      healthAlarms: kinds.filter((k) => HEALTH_ALARM_KINDS.includes(k)).map((k) => alarmName(prefix, pool.name, k)),
      plannedEvents: env.plannedEvents.filter((e) => e.pool === pool.name).map(({ pool: _pool, ...event }) => event),
      peakHours: env.peakHours.filter((p) => p.pool === pool.name).map(({ pool: _pool, ...peak }) => peak),
      maxDirectionChangesPerHour: env.thrash.maxDirectionChangesPerHour,
    };
    if (pool.kind === 'batch') {
      // Visible messages wake it; invisible ones (being worked on) keep it up: never to zero mid-message.
      Object.assign(target, {
        work: pool.metrics.work,
        inFlight: pool.metrics.inFlight,
        idleMinutes: pool.idleMinutes,
        scaleFromZeroTo: pool.scaleFromZeroTo,
        missingDataIsIdle: pool.missingDataIsIdle,
        queue: pool.queue.name,
      });
    }
    if (pool.kind === 'scale-to-zero') {
      Object.assign(target, {
        work: pool.metrics.work,
        ...(pool.metrics.inFlight ? { inFlight: pool.metrics.inFlight } : {}),
        idleMinutes: pool.idleMinutes,
        scaleFromZeroTo: pool.scaleFromZeroTo,
        missingDataIsIdle: pool.missingDataIsIdle,
        gpuIdlePercent: pool.gpuIdlePercent,
        ...(pool.probe ? { probe: pool.probe } : {}),
        // A GPU job in flight lags nothing: the GPU's own utilisation keeps the pool from going to zero under it.
        ...(pool.compute.type === 'ec2-gpu' ? { gpuUtilization: pool.metrics.gpuUtilization } : {}),
      });
    }
    if (pool.kind === 'always-on' && pool.trackConsumerLag && pool.lagScaling === 'drain') {
      target.drain = {
        backlog: pool.metrics.consumerLag,
        processed: { ...pool.metrics.requests, statistic: 'Sum' },
        capacityPerTask: pool.capacityPerTask,
        targetUtilization: env.thresholds.cpuPercent / 100,
        drainSeconds: pool.drainSeconds,
        startupSeconds: pool.startupSeconds,
        backlogThreshold: env.thresholds.consumerLag,
      };
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
        maxError: env.predictive.maxErrorPercent / 100,
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
      // A GPU node group never goes to zero while its GPUs (or its work in flight) show work.
      gpuUtilization: ng.gpuUtilization,
      gpuIdlePercent: ng.gpuIdlePercent,
      ...(ng.inFlight ? { inFlight: ng.inFlight } : {}),
      ...(ng.probe ? { probe: ng.probe } : {}),
      idleMinutes: ng.idleMinutes,
      missingDataIsIdle: ng.missingDataIsIdle,
      emergencyEnabled: false,
      maxDirectionChangesPerHour: env.thrash.maxDirectionChangesPerHour,
    });
  }
  return {
    pipeline: env.pipeline,
    environment: env.name,
    holdsTable: holdsTableName(env.pipeline, env.name),
    emergency: { stableMinutes: env.emergency.stableMinutes, holdMinutes: env.emergency.maxMonitorMinutes, maxMonitorMinutes: env.emergency.maxMonitorMinutes },
    targets,
  };
}

/** The document of one environment, rendered and checked: what its Lambdas will read. */
export function documentFor(env: ResolvedEnvironment): TargetsDocument {
  return parseTargetsDocument(renderTargetsDocument(env), `targets document of ${env.pipeline}-${env.name}`);
}
