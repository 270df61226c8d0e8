import type { Command } from 'commander';
import { isAwsError } from '../../../lambdas/aws/send';
import { TargetNotFoundError } from '../../../lambdas/aws/target-state';
import { clientRegion, readServiceSizing, readUtilization, UTILIZATION_PERIOD_SECONDS, type Series, type ServiceSizing } from '../../../lambdas/aws/utilization';
import { DEFAULTS } from '../../../lambdas/core/config/defaults';
import { FARGATE_PRICES_AS_OF, FARGATE_PRICES_SOURCE, fargatePrice, HOURS_PER_MONTH, type PriceLookup } from '../../../lambdas/core/config/fargate-prices';
import type { ResolvedPool } from '../../../lambdas/core/config/resolve';
import {
  CPU_PERCENTILE,
  MEMORY_PERCENTILE,
  MIN_HISTORY_HOURS,
  rightsize,
  scaleContainers,
  summarizeUtilization,
  wholeHours,
  type FargateSize,
  type RightsizeDecision,
  type SizeOption,
} from '../../../lambdas/core/rightsize';
import { loadScope, managedTarget, scopeOptions, type Managed, type Scope, type ScopeOptions } from '../context';
import { CliError } from '../errors';
import { isDocument, isoSeconds, out, outputOption, printDocument, renderTable, type OutputFormat } from '../output';
import { argumentOf, notFound } from '../resource';

interface RightsizeOptions extends ScopeOptions {
  readonly output: OutputFormat;
}

/** Days of history read: the same look-back as predictive scaling's (14, what 1-minute CloudWatch data still covers). */
export const RIGHTSIZE_HISTORY_DAYS = DEFAULTS.predictive.historyDays;

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Where the monthly cost's task count came from. */
type TaskSource = 'container-insights' | 'running-now';

interface Rightsized {
  readonly m: Managed;
  readonly scope: Scope;
  readonly pool: ResolvedPool;
  readonly sizing: ServiceSizing;
  readonly current: FargateSize;
  readonly window: { readonly start: Date; readonly end: Date; readonly since: Date; readonly sinceDeployment: boolean; readonly hours: number };
  readonly tasks: { readonly average: number; readonly source: TaskSource };
  readonly prices: PriceLookup;
  readonly limits: { readonly cpuPercent: number; readonly memoryPercent: number };
  readonly decision: RightsizeDecision;
  readonly configChange?: { readonly file: string; readonly index: number; readonly set: Record<string, unknown> };
  readonly notes: readonly string[];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const percentCell = (n: number) => `${n.toFixed(1)}%`;
const usd = (n: number) => `$${Math.abs(n).toFixed(2)}`;
const signedUsd = (n: number) => `${n < 0 ? '-' : n > 0 ? '+' : ''}${usd(n)}`;
const sizeText = (s: FargateSize) => `${s.cpu} CPU / ${s.memoryMiB} MiB`;

/** A rightsize target must be a managed ECS service of a Fargate pool. */
function fargatePool(scope: Scope, m: Managed): ResolvedPool {
  if (m.spec.kind !== 'ecs-service') {
    throw new CliError(`rightsize sizes the Fargate tasks of ECS services; ${argumentOf(m.ref)} is an EKS node group (its size is its instanceTypes)`);
  }
  const pool = scope.environment.pools.find((p) => p.name === m.spec.name);
  if (!pool) throw new CliError(`${m.ref.name} has no pool in ${scope.shown}`);
  if (pool.kind === 'scale-to-zero' && pool.compute.type !== 'fargate') {
    throw new CliError(`${m.ref.name} runs on EC2 GPU instances (pool ${pool.name}, compute ${pool.compute.type}), not Fargate: rightsize sizes Fargate tasks only`);
  }
  return pool;
}

async function readSizing(m: Managed, ref: { cluster: string; service: string }): Promise<ServiceSizing> {
  try {
    return await readServiceSizing(ref);
  } catch (e) {
    if (e instanceof TargetNotFoundError || isAwsError(e, 'ClusterNotFoundException')) throw notFound(m.ref, m.namespace);
    throw e;
  }
}

/** `AWS/ECS CPUUtilization` with CloudWatch's complaint, as one line. */
function unreadable(service: string, s: Series): CliError {
  return new CliError(`cannot read ${s.metric.namespace} ${s.metric.metricName} of ${service}: ${s.error}`);
}

async function gather(scope: Scope, m: Managed): Promise<Rightsized> {
  const pool = fargatePool(scope, m);
  const service = m.ref.name;
  const ref = { cluster: m.spec.cluster, service: m.ref.name };
  const sizing = await readSizing(m, ref);
  if (sizing.launch === 'EC2' || sizing.launch === 'EXTERNAL') {
    throw new CliError(`${service} runs on the ${sizing.launch} launch type, not Fargate: rightsize sizes Fargate tasks only`);
  }
  if (!sizing.operatingSystem.startsWith('LINUX')) {
    throw new CliError(`${service} runs ${sizing.operatingSystem} tasks: rightsize knows the Linux Fargate sizes and prices only`);
  }
  if (!sizing.size) {
    throw new CliError(`task definition ${sizing.revision} of ${service} sets no task-level cpu and memory (Fargate needs both)`);
  }
  const current = sizing.size;

  const end = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  const start = new Date(end.getTime() - RIGHTSIZE_HISTORY_DAYS * DAY);
  const deployed = sizing.revisionSince;
  const sinceDeployment = deployed !== undefined && deployed.getTime() > start.getTime();
  const since = sinceDeployment ? new Date(Math.ceil(deployed.getTime() / MINUTE) * MINUTE) : start;
  const u = since.getTime() < end.getTime() ? await readUtilization(ref, since, end) : undefined;
  const cpu = u?.cpu.points ?? [];
  const memory = u?.memory.points ?? [];
  if (u?.cpu.error) throw unreadable(service, u.cpu);
  if (u?.memory.error) throw unreadable(service, u.memory);
  const summary = summarizeUtilization(cpu, memory, UTILIZATION_PERIOD_SECONDS);
  const missing = cpu.length === 0 && memory.length > 0 ? 'CPUUtilization' : memory.length === 0 && cpu.length > 0 ? 'MemoryUtilization' : undefined;
  if (missing) {
    const other = missing === 'CPUUtilization' ? `MemoryUtilization has ${wholeHours(summary.memoryHours)} hours` : `CPUUtilization has ${wholeHours(summary.cpuHours)} hours`;
    throw new CliError(`metrics missing for ${service}: no AWS/ECS ${missing} datapoints since ${isoSeconds(since.getTime() / 1000)} (${other})`);
  }
  if (summary.hours < MIN_HISTORY_HOURS || summary.cpuP95 === undefined || summary.memoryP99 === undefined) {
    throw new CliError(`not enough data for ${service} (${wholeHours(summary.hours)} hours, need ${MIN_HISTORY_HOURS})`);
  }

  const notes: string[] = [];
  if (sinceDeployment) {
    notes.push(`AWS/ECS metrics are per service, not per revision: only datapoints since ${sizing.revision} was deployed (${isoSeconds(since.getTime() / 1000)}) are used`);
  } else if (deployed === undefined) {
    notes.push(`ECS lists no deployment for ${service}: the whole ${RIGHTSIZE_HISTORY_DAYS}-day window is used, whatever revision ran in it`);
  }
  if (sizing.rolloutInProgress) {
    notes.push(`a deployment is in progress${sizing.replacing.length ? ` (${sizing.replacing.join(', ')} still running)` : ''}: the old tasks' utilisation is mixed in; run rightsize again once it completes`);
  }

  const taskPoints = u?.runningTasks.points ?? [];
  const tasks =
    taskPoints.length > 0 && !u?.runningTasks.error
      ? { average: taskPoints.reduce((s, p) => s + p.v, 0) / taskPoints.length, source: 'container-insights' as const }
      : { average: sizing.service.runningCount ?? 0, source: 'running-now' as const };
  if (tasks.source === 'running-now') {
    notes.push(
      `no ECS/ContainerInsights RunningTaskCount${u?.runningTasks.error ? ` (${u.runningTasks.error})` : ' (Container Insights off?)'}: monthly costs are for the ${tasks.average} task(s) running now`,
    );
  }

  const region = (await clientRegion()) ?? scope.environment.region;
  const prices = fargatePrice(region, sizing.architecture);
  if (prices.fallback) notes.push(`no Fargate prices for ${region ?? 'an unknown region'} in lambdas/core/config/fargate-prices.ts: ${prices.region} prices used`);
  if (sizing.launch === 'FARGATE_SPOT') notes.push('some tasks run on FARGATE_SPOT: costs are at on-demand prices, so they overstate what the service pays');

  const limits = { cpuPercent: scope.environment.thresholds.cpuPercent, memoryPercent: scope.environment.thresholds.memoryPercent };
  const decision = rightsize({
    current,
    cpuP95Percent: summary.cpuP95,
    memoryP99Percent: summary.memoryP99,
    cpuTargetPercent: limits.cpuPercent,
    memoryLimitPercent: limits.memoryPercent,
    price: prices.price,
    averageTasks: tasks.average,
  });

  if (pool.cpu !== current.cpu || pool.memoryMiB !== current.memoryMiB) {
    notes.push(`${scope.shown} sets ${sizeText(pool)} for ${pool.name}, but ${sizing.revision} runs ${sizeText(current)}: the utilisation, and so the recommendation, is of the deployed size`);
  }

  let configChange: Rightsized['configChange'];
  const r = decision.recommended;
  if (r && (r.cpu !== pool.cpu || r.memoryMiB !== pool.memoryMiB) && decision.verdict !== 'none-fits') {
    const index = scope.parsed.config.pools.findIndex((p) => p.name === pool.name);
    const containers = scaleContainers(pool.containers, pool, r);
    configChange = { file: scope.shown, index, set: { name: pool.name, cpu: r.cpu, memoryMiB: r.memoryMiB, ...(containers.length ? { containers } : {}) } };
    if (containers.length) {
      notes.push('the containers that set their own cpu or memoryLimitMiB are scaled in proportion (AWS/ECS measures the task, not its containers): check the split');
    }
  }

  return {
    m,
    scope,
    pool,
    sizing,
    current,
    window: { start, end, since, sinceDeployment, hours: summary.hours },
    tasks,
    prices,
    limits,
    decision,
    ...(configChange ? { configChange } : {}),
    notes,
  };
}

function sizeDocument(o: SizeOption) {
  return { cpu: o.cpu, memoryMiB: o.memoryMiB, cpuP95Percent: round(o.cpuP95Percent), memoryP99Percent: round(o.memoryP99Percent), monthlyCostUsd: round(o.monthlyCostUsd), fits: o.fits };
}

function document(x: Rightsized) {
  const { m, scope, sizing, decision: d, window: w } = x;
  return {
    name: m.ref.name,
    namespace: m.namespace,
    target: m.spec.name,
    pool: x.pool.name,
    environment: scope.environment.name,
    taskDefinition: sizing.revision,
    taskDefinitionArn: sizing.taskDefinitionArn,
    deployedAt: sizing.revisionSince ? isoSeconds(sizing.revisionSince.getTime() / 1000) : null,
    window: {
      start: isoSeconds(w.since.getTime() / 1000),
      end: isoSeconds(w.end.getTime() / 1000),
      historyDays: RIGHTSIZE_HISTORY_DAYS,
      sinceDeployment: w.sinceDeployment,
      hoursOfData: round(w.hours, 1),
      minimumHours: MIN_HISTORY_HOURS,
      periodSeconds: UTILIZATION_PERIOD_SECONDS,
    },
    statistics: {
      cpu: `p${CPU_PERCENTILE} of 1-minute AWS/ECS CPUUtilization (Average)`,
      memory: `p${MEMORY_PERCENTILE} of 1-minute AWS/ECS MemoryUtilization (Maximum: the fullest task)`,
    },
    limits: x.limits,
    tasks: { average: round(x.tasks.average), source: x.tasks.source === 'container-insights' ? 'ECS/ContainerInsights RunningTaskCount' : 'runningCount now' },
    prices: {
      region: x.prices.region,
      architecture: x.prices.architecture,
      usdPerVcpuHour: x.prices.price.vcpuHour,
      usdPerGbHour: x.prices.price.gbHour,
      hoursPerMonth: HOURS_PER_MONTH,
      asOf: FARGATE_PRICES_AS_OF,
      source: FARGATE_PRICES_SOURCE,
    },
    current: sizeDocument(d.current),
    recommended: d.recommended ? sizeDocument(d.recommended) : null,
    verdict: d.verdict,
    bound: d.bound ?? null,
    monthlyDifferenceUsd: d.monthlyDifferenceUsd !== undefined ? round(d.monthlyDifferenceUsd) : null,
    reason: d.reason,
    configChange: x.configChange ? { file: x.configChange.file, path: `pools[${x.configChange.index}]`, set: x.configChange.set } : null,
    notes: x.notes,
  };
}

/** Most sizes `-o wide` lists beside the current and the recommended one. */
const WIDE_ALTERNATIVES = 8;

function text(x: Rightsized, wide = false): string[] {
  const { decision: d, sizing, window: w } = x;
  const row = (label: string, o: SizeOption | undefined) =>
    o ? [label, o.cpu, o.memoryMiB, percentCell(o.cpuP95Percent), percentCell(o.memoryP99Percent), o.fits ? 'yes' : 'no', usd(o.monthlyCostUsd)] : [label, '-', '-', '-', '-', '-', '-'];
  // -o wide: the next cheapest sizes that also fit, so the choice can be weighed (e.g. headroom for growth).
  const alternatives = wide ? d.fitting.slice(1, 1 + WIDE_ALTERNATIVES).map((o) => row('alternative', o)) : [];
  const lines = [
    renderTable(['SIZE', 'CPU', 'MEMORY', 'CPU_P95', 'MEM_P99', 'FITS', 'MONTHLY'], [row('current', d.current), row('recommended', d.recommended), ...alternatives]),
    '',
  ];
  const tasks = `${round(x.tasks.average)} task(s) on average (${x.tasks.source === 'container-insights' ? 'ECS/ContainerInsights RunningTaskCount' : 'running now'})`;
  const prices = `${x.prices.region} Linux/${x.prices.architecture} on-demand prices of ${FARGATE_PRICES_AS_OF}`;
  if (d.verdict === 'none-fits') lines.push(`Recommendation: none: ${d.reason}`);
  else if (d.verdict === 'keep') lines.push(`Recommendation: keep ${sizeText(d.current)}: ${d.reason}`);
  else {
    const diff = d.monthlyDifferenceUsd!;
    const share = d.current.monthlyCostUsd > 0 ? ` (${diff > 0 ? '+' : ''}${((diff / d.current.monthlyCostUsd) * 100).toFixed(1)} %)` : '';
    lines.push(`Recommendation: ${d.verdict} to ${sizeText(d.recommended!)}: ${d.reason}`);
    lines.push(`Monthly difference: ${signedUsd(diff)}${share}`);
  }
  lines.push(`Costs: ${tasks}, ${HOURS_PER_MONTH} h/month, ${prices}`);
  lines.push(
    `Data: ${wholeHours(w.hours)} hours of 1-minute datapoints of ${sizing.revision} from ${isoSeconds(w.since.getTime() / 1000)} to ${isoSeconds(w.end.getTime() / 1000)}; ` +
      `p${CPU_PERCENTILE} of CPUUtilization (Average), p${MEMORY_PERCENTILE} of MemoryUtilization (Maximum: the fullest task)`,
  );
  lines.push(`Limits: p${CPU_PERCENTILE} CPU <= ${x.limits.cpuPercent} % (thresholds.cpuPercent), p${MEMORY_PERCENTILE} memory <= ${x.limits.memoryPercent} % (thresholds.memoryPercent)`);
  if (x.configChange) {
    lines.push(`Config change: in ${x.configChange.file}, set in pools[${x.configChange.index}] (${x.pool.name}):`);
    lines.push(JSON.stringify(x.configChange.set, null, 2));
  } else if (d.verdict !== 'none-fits') {
    lines.push('Config change: none');
  }
  for (const n of x.notes) lines.push(`Note: ${n}`);
  return lines;
}

async function rightsizeCommand(name: string, opts: RightsizeOptions): Promise<void> {
  const scope = loadScope(opts);
  const m = managedTarget(scope, name, undefined, opts.namespace);
  const x = await gather(scope, m);
  if (isDocument(opts.output)) printDocument(opts.output, document(x));
  // -o name: the size to deploy (`fargate/512x1024`), nothing when no Fargate size fits.
  else if (opts.output === 'name') {
    if (x.decision.recommended) out(`fargate/${x.decision.recommended.cpu}x${x.decision.recommended.memoryMiB}`);
  } else text(x, opts.output === 'wide').forEach((l) => out(l));
}

export function registerRightsizeCommand(program: Command): void {
  scopeOptions(
    program
      .command('rightsize')
      .description('recommend the cheapest Fargate cpu/memory for a service from its CPU and memory utilisation (reads only)')
      .argument('<name>', 'NAME (or service/NAME) of a managed service on Fargate'),
  )
    .addOption(outputOption(['table', 'wide', 'json', 'yaml', 'name']))
    .addHelpText(
      'after',
      `
Reads ${RIGHTSIZE_HISTORY_DAYS} days of the service's 1-minute AWS/ECS CPUUtilization (Average) and
MemoryUtilization (Maximum: the fullest task), from when its current task definition was
deployed if that is later (the metrics are per service, not per revision), and needs at
least ${MIN_HISTORY_HOURS} hours of them. Projected utilisation = observed % x current size / candidate size;
the recommendation is the cheapest valid Fargate cpu/memory pair with p${CPU_PERCENTILE} CPU at or under
thresholds.cpuPercent and p${MEMORY_PERCENTILE} memory at or under thresholds.memoryPercent. Monthly costs are at
the average running task count (Container Insights RunningTaskCount, else the count now)
and the prices of lambdas/core/config/fargate-prices.ts. It prints the config change; it
changes nothing. IAM: cloudwatch:GetMetricData, ecs:DescribeServices, ecs:DescribeTaskDefinition.

Examples:
  mlscale rightsize engine
  mlscale rightsize cpu-modules -n pipestream-production -o json`,
    )
    .action(async (name: string, opts: RightsizeOptions) => rightsizeCommand(name, opts));
}
