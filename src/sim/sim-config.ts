import type { PeakHours, PlannedEvent, ResolvedEnvironment, ResolvedPool, Thresholds } from '../../lambdas/core/config';
import { alarmSpecsForPool, type AlarmSpec } from '../../lambdas/core/config/alarm-specs';
import { DEFAULTS } from '../../lambdas/core/config/defaults';
import { DEFAULT_PRICE_REGION, FARGATE_PRICES } from '../../lambdas/core/config/fargate-prices';
import { GPU_INSTANCES } from '../../lambdas/core/config/instances';
import { emergencyHoldMinutes } from '../../lambdas/core/runbook-plan';
import { lagGrowthPolicy, type LagGrowthPolicy } from '../../lambdas/core/lag-growth';
import { scalesToZero } from '../../lambdas/core/config/pool-kind';

/** The values `--tune` searches; everything else comes from the config as it is. */
export interface Tunables {
  /** Target tracking target: CPU % for always-on pools (queue per task keeps its own target). */
  readonly cpuPercent: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  readonly leadMinutes: number;
  readonly headroom: number;
  readonly idleMinutes: number;
  /** Seconds a backlog should take to clear (drain-sized scale-out and emergencies). */
  readonly drainSeconds: number;
  /** Always-on pools: minutes below 90 % of the CPU target before a scale-in (15 = target tracking's own). */
  readonly scaleInMinutes: number;
}

/** Everything the simulator needs about the one pool it replays a trace through. */
export interface SimPool {
  readonly environment: string;
  readonly pool: ResolvedPool;
  readonly thresholds: Thresholds;
  readonly tunables: Tunables;
  readonly predictive: {
    readonly enabled: boolean;
    readonly mode: string;
    readonly horizonHours: number;
    readonly scheduleMinutes: number;
    readonly historyDays: number;
    /** Largest backtest WAPE (a fraction) at which the forecast is acted on. */
    readonly maxError: number;
  };
  /** The alarms that declare an emergency for this pool (as deployed: emergency.alarmKinds it has). */
  readonly emergency: {
    readonly enabled: boolean;
    readonly ceiling: number;
    readonly stableMinutes: number;
    /** How long an incident's hold lasts when nothing releases it (the runbook's readiness + monitoring time). */
    readonly holdMinutes: number;
    readonly alarms: readonly AlarmSpec[];
  };
  readonly plannedEvents: readonly PlannedEvent[];
  readonly peakHours: readonly PeakHours[];
  /** USD per task-hour (Fargate vCPU + memory, or the GPU instance's share). */
  readonly usdPerTaskHour: number;
  /** Thrash detection: more direction reversals of desired capacity than this in an hour is flapping. */
  readonly thrash: { readonly maxDirectionChangesPerHour: number };
  /** Batch pools: the queue's SLO and the alarm on it, as deployed. */
  readonly batch?: {
    readonly messagesPerTask: number;
    readonly maxMessageAgeSeconds: number;
    /** The `oldestMessageAge` alarm (lambdas/core/config/alarm-specs.ts). */
    readonly ageAlarm: AlarmSpec | undefined;
  };
}

/**
 * The lag-growth step policy an always-on pool with `scaleOnLagGrowth` gets
 * (lambdas/core/lag-growth.ts), sized as the drain floor is: the CPU target as
 * the share of a task planned for. Undefined for every other pool.
 */
export function lagGrowthOf(sim: SimPool): LagGrowthPolicy | undefined {
  const { pool, tunables } = sim;
  if (pool.kind !== 'always-on' || !pool.scaleOnLagGrowth) return undefined;
  return lagGrowthPolicy({
    capacityPerTask: pool.capacityPerTask,
    targetUtilization: tunables.cpuPercent / 100,
    startupSeconds: pool.startupSeconds,
    scaleOutCooldownSeconds: tunables.scaleOutCooldownSeconds,
  });
}

/**
 * Fargate Linux/x86 on-demand prices of the default price region (per vCPU-hour, per GB-hour), from the one
 * price table (lambdas/core/config/fargate-prices.ts: edit it there for your region).
 */
export const FARGATE_PRICE = FARGATE_PRICES[DEFAULT_PRICE_REGION]!.X86_64;

export function usdPerTaskHour(pool: ResolvedPool): number {
  if (scalesToZero(pool) && pool.compute.type === 'ec2-gpu') {
    const instance = GPU_INSTANCES[pool.compute.instanceType];
    if (instance) return instance.usdPerHour / Math.max(1, Math.floor(instance.gpus / pool.compute.gpusPerTask));
  }
  return (pool.cpu / 1024) * FARGATE_PRICE.vcpuHour + (pool.memoryMiB / 1024) * FARGATE_PRICE.gbHour;
}

export function defaultTunables(pool: ResolvedPool, thresholds: Thresholds): Tunables {
  return {
    cpuPercent: thresholds.cpuPercent,
    scaleOutCooldownSeconds: pool.scaleOutCooldownSeconds,
    scaleInCooldownSeconds: pool.scaleInCooldownSeconds,
    leadMinutes: pool.predictive.leadMinutes,
    headroom: pool.predictive.headroom,
    idleMinutes: scalesToZero(pool) ? pool.idleMinutes : DEFAULTS.scaleToZero.idleMinutes,
    drainSeconds: pool.kind === 'always-on' ? pool.drainSeconds : DEFAULTS.drainSeconds,
    scaleInMinutes: pool.kind === 'always-on' ? pool.scaleInMinutes : DEFAULTS.pool.scaleInMinutes,
  };
}

/** The simulator's pool from one environment of the config; `poolName` defaults to the first always-on pool. */
export function simPoolFrom(env: ResolvedEnvironment, poolName?: string, tunables?: Partial<Tunables>): SimPool {
  const pool = poolName ? env.pools.find((p) => p.name === poolName) : (env.pools.find((p) => p.kind === 'always-on') ?? env.pools[0]);
  if (!pool) throw new Error(`no pool '${poolName}' in environment ${env.name} (pools: ${env.pools.map((p) => p.name).join(', ')})`);
  return {
    environment: env.name,
    pool,
    thresholds: env.thresholds,
    tunables: { ...defaultTunables(pool, env.thresholds), ...tunables },
    predictive: {
      enabled: pool.predictive.enabled,
      mode: pool.predictive.mode,
      horizonHours: env.predictive.horizonHours,
      scheduleMinutes: env.predictive.scheduleMinutes,
      historyDays: env.predictive.historyDays,
      maxError: env.predictive.maxErrorPercent / 100,
    },
    emergency: {
      enabled: pool.emergency.enabled,
      ceiling: pool.emergency.ceiling,
      stableMinutes: env.emergency.stableMinutes,
      // What the emergency runbook gives an incident's hold on an ECS service (readiness + monitoring + 5 minutes).
      holdMinutes: emergencyHoldMinutes('ecs-service', env.emergency.maxMonitorMinutes),
      alarms: pool.emergency.enabled ? alarmSpecsForPool(pool, env.thresholds, env.clusterName).filter((a) => env.emergency.alarmKinds.includes(a.kind)) : [],
    },
    plannedEvents: env.plannedEvents.filter((e) => e.pool === pool.name),
    peakHours: env.peakHours.filter((p) => p.pool === pool.name),
    usdPerTaskHour: usdPerTaskHour(pool),
    thrash: { maxDirectionChangesPerHour: env.thrash.maxDirectionChangesPerHour },
    ...(pool.kind === 'batch'
      ? {
          batch: {
            messagesPerTask: pool.messagesPerTask,
            maxMessageAgeSeconds: pool.maxMessageAgeSeconds,
            ageAlarm: alarmSpecsForPool(pool, env.thresholds, env.clusterName).find((a) => a.kind === 'oldestMessageAge'),
          },
        }
      : {}),
  };
}

/** The same pool with another scale-in cooldown, for every policy (the config's value and the tunable alike). */
export function withScaleInCooldown(sim: SimPool, seconds: number): SimPool {
  return { ...sim, pool: { ...sim.pool, scaleInCooldownSeconds: seconds }, tunables: { ...sim.tunables, scaleInCooldownSeconds: seconds } };
}
