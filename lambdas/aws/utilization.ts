import type { MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeTaskDefinitionCommand, type DescribeTaskDefinitionCommandOutput, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import type { MetricRef } from '../core/config/metric';
import type { FargateArchitecture } from '../core/config/fargate-prices';
import type { Point } from '../core/work';
import { ecs } from './clients/ecs';
import { describeServices, ecsResourceId, type ServiceRef } from './ecs';
import { getMetricData, query } from './metrics';
import { send } from './send';
import { TargetNotFoundError } from './target-state';

/**
 * What `mlscale rightsize` reads: the service's deployed task size and its
 * CPU and memory utilisation.
 *
 * Per task-definition revision: AWS/ECS publishes CPUUtilization and
 * MemoryUtilization per service (ClusterName, ServiceName), not per
 * revision, and DescribeServices lists only the deployments that still run
 * (the PRIMARY one and any it is replacing), not the history. So the honest
 * window for the current revision starts when its deployment (the PRIMARY
 * one) was created: datapoints before that belong to earlier revisions,
 * possibly of another size, and are not read. During a rollout the old
 * revision's tasks still run and are mixed in; `rolloutInProgress` says so.
 */

export const ECS_METRICS_NAMESPACE = 'AWS/ECS';
export const CONTAINER_INSIGHTS_NAMESPACE = 'ECS/ContainerInsights';

/** 1-minute datapoints: CloudWatch keeps them for 15 days, so 14 days of them can still be read. */
export const UTILIZATION_PERIOD_SECONDS = 60;

const dimensions = (ref: ServiceRef) => ({ ClusterName: ref.cluster, ServiceName: ref.service });

/**
 * The metrics read, and with which statistic. ECS documents Average, Minimum
 * and Maximum for them (CloudWatch computes percentiles only from raw values),
 * so the percentiles are taken over the 1-minute datapoints
 * (lambdas/core/rightsize.ts): CPU as the service Average
 * (what target tracking holds at its target), memory as the Maximum (the
 * fullest task: a task that runs out of memory is stopped whatever the
 * others use), running tasks from Container Insights when it is on.
 */
export function utilizationMetrics(ref: ServiceRef): { cpu: MetricRef; memory: MetricRef; runningTasks: MetricRef } {
  return {
    cpu: { namespace: ECS_METRICS_NAMESPACE, metricName: 'CPUUtilization', dimensions: dimensions(ref), statistic: 'Average' },
    memory: { namespace: ECS_METRICS_NAMESPACE, metricName: 'MemoryUtilization', dimensions: dimensions(ref), statistic: 'Maximum' },
    runningTasks: { namespace: CONTAINER_INSIGHTS_NAMESPACE, metricName: 'RunningTaskCount', dimensions: dimensions(ref), statistic: 'Average' },
  };
}

export interface ServiceSizing {
  readonly service: Service;
  readonly taskDefinitionArn: string;
  /** `family:revision` of the current task definition. */
  readonly revision: string;
  readonly taskDefinition: TaskDefinition;
  /** Task-level CPU units and MiB; undefined when the task definition sets none (not a Fargate task). */
  readonly size?: { readonly cpu: number; readonly memoryMiB: number };
  readonly architecture: FargateArchitecture;
  /** LINUX, WINDOWS_SERVER_2022_CORE … (LINUX when the task definition says nothing). */
  readonly operatingSystem: string;
  /** When the current revision's (PRIMARY) deployment was created; undefined when ECS lists no deployment. */
  readonly revisionSince?: Date;
  /** Older revisions whose tasks still run (a rollout in progress). */
  readonly replacing: readonly string[];
  readonly rolloutInProgress: boolean;
  /** FARGATE, FARGATE_SPOT (some tasks on Spot), EC2, EXTERNAL … */
  readonly launch: string;
}

/** `arn:aws:ecs:…:task-definition/engine:7` -> `engine:7`. */
export const revisionOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** ECS task sizes are strings: `1024`, or `1 vCPU` / `2 GB` as some writers register them. */
export function parseTaskSize(value: string | undefined, unit: 'cpu' | 'memory'): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!m[2]) return n;
  return m[2].toLowerCase() === (unit === 'cpu' ? 'vcpu' : 'gb') ? Math.round(n * 1024) : undefined;
}

function launchOf(service: Service): string {
  const providers = (service.capacityProviderStrategy ?? []).map((p) => p.capacityProvider ?? '');
  if (providers.includes('FARGATE_SPOT')) return 'FARGATE_SPOT';
  if (providers.length > 0) return providers.every((p) => p === 'FARGATE') ? 'FARGATE' : providers.join(',');
  return service.launchType ?? 'FARGATE';
}

/** The service, its current task definition and when that revision's deployment started. */
export async function readServiceSizing(ref: ServiceRef): Promise<ServiceSizing> {
  const read = await describeServices([ref]);
  const id = ecsResourceId(ref.cluster, ref.service);
  const failure = read.failed.get(id);
  if (failure) throw failure;
  const service = read.found.get(id);
  if (!service || service.status === 'INACTIVE') throw new TargetNotFoundError(`ECS service ${ref.service} in cluster ${ref.cluster}`);
  const deployments = service.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  const taskDefinitionArn = service.taskDefinition ?? primary?.taskDefinition;
  if (!taskDefinitionArn) throw new Error(`ECS service ${ref.service} in cluster ${ref.cluster} names no task definition (a service with an external deployment controller is not supported)`);
  const res = await send<DescribeTaskDefinitionCommandOutput>(ecs, new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  const taskDefinition = res.taskDefinition ?? {};
  const cpu = parseTaskSize(taskDefinition.cpu, 'cpu');
  const memoryMiB = parseTaskSize(taskDefinition.memory, 'memory');
  const current = primary?.taskDefinition ?? taskDefinitionArn;
  const replacing = [...new Set(deployments.filter((d) => d.status !== 'PRIMARY' && d.taskDefinition && d.taskDefinition !== current && (d.runningCount ?? 1) > 0).map((d) => revisionOf(d.taskDefinition!)))];
  return {
    service,
    taskDefinitionArn,
    revision: revisionOf(taskDefinitionArn),
    taskDefinition,
    ...(cpu !== undefined && memoryMiB !== undefined ? { size: { cpu, memoryMiB } } : {}),
    architecture: taskDefinition.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
    operatingSystem: taskDefinition.runtimePlatform?.operatingSystemFamily ?? 'LINUX',
    ...(primary?.createdAt ? { revisionSince: new Date(primary.createdAt) } : {}),
    replacing,
    rolloutInProgress: replacing.length > 0 || primary?.rolloutState === 'IN_PROGRESS',
    launch: launchOf(service),
  };
}

/** A series read, or why it could not be. */
export interface Series {
  readonly metric: MetricRef;
  readonly points: readonly Point[];
  /** `Forbidden: …` / `InternalError: …` when CloudWatch said so for this query. */
  readonly error?: string;
}

export interface Utilization {
  readonly cpu: Series;
  readonly memory: Series;
  readonly runningTasks: Series;
  readonly start: Date;
  readonly end: Date;
  readonly periodSeconds: number;
  readonly calls: number;
}

function seriesOf(metric: MetricRef, results: readonly MetricDataResult[]): Series {
  const points: Point[] = [];
  let error: string | undefined;
  for (const r of results) {
    if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
      error = `${r.StatusCode}${r.Messages?.length ? `: ${r.Messages.map((m) => m.Value).join('; ')}` : ''}`;
    }
    const vs = r.Values ?? [];
    (r.Timestamps ?? []).forEach((t, i) => {
      const v = vs[i];
      if (v !== undefined && Number.isFinite(v)) points.push({ t: new Date(t).getTime(), v });
    });
  }
  points.sort((a, b) => a.t - b.t);
  return { metric, points, ...(error ? { error } : {}) };
}

/**
 * CPU, memory and running tasks of a service from `start` to `end`, one
 * GetMetricData call per page (three queries; 14 days of 1-minute
 * datapoints is 60,480 values, under the 100,800 a response may hold, and
 * NextToken is followed all the same). A failed call throws (AwsCallError);
 * a query CloudWatch refuses comes back with its `error`.
 */
export async function readUtilization(ref: ServiceRef, start: Date, end: Date, periodSeconds = UTILIZATION_PERIOD_SECONDS): Promise<Utilization> {
  const metrics = utilizationMetrics(ref);
  const ids = { cpu: 'cpu', memory: 'memory', runningTasks: 'tasks' } as const;
  let calls = 0;
  const results = await getMetricData(
    (Object.keys(ids) as (keyof typeof ids)[]).map((k) => query(ids[k], metrics[k], periodSeconds)),
    start,
    end,
    () => calls++,
  );
  const of = (id: string) => results.filter((r) => r.Id === id);
  return {
    cpu: seriesOf(metrics.cpu, of(ids.cpu)),
    memory: seriesOf(metrics.memory, of(ids.memory)),
    runningTasks: seriesOf(metrics.runningTasks, of(ids.runningTasks)),
    start,
    end,
    periodSeconds,
    calls,
  };
}

/** The region the CLI's AWS clients call (AWS_REGION, the profile's region); undefined when none is set. */
export async function clientRegion(): Promise<string | undefined> {
  try {
    const region = (ecs.config as { region?: () => Promise<string> }).region;
    return region ? await region() : undefined;
  } catch {
    return undefined;
  }
}
