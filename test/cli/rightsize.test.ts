import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { ecs } from '../../lambdas/aws/clients/ecs';
import { parseConfig } from '../../lambdas/core/config';
import type { EcsService, FakeAws } from '../fakes/aws';
import { readFileSync } from 'node:fs';
import { CLUSTER, FIXTURE, NOW, cli, expectNothingChanged, expectOneLineError, lines, run, useFixtureAccount } from './harness';

const fake = useFixtureAccount();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The newest datapoint the CLI reads: the minute before NOW (its window ends at NOW, exclusive). */
const LAST = NOW.getTime() - MINUTE;
const dims = (service: string) => ({ ClusterName: CLUSTER, ServiceName: service });
const cpuMetric = (service: string) => ({ namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensions: dims(service), statistic: 'Average' });
const memoryMetric = (service: string) => ({ namespace: 'AWS/ECS', metricName: 'MemoryUtilization', dimensions: dims(service), statistic: 'Maximum' });
const tasksMetric = (service: string) => ({ namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensions: dims(service), statistic: 'Average' });

interface Arrange {
  readonly service?: string;
  /** Task-level size of the deployed revision. */
  readonly cpu?: number;
  readonly memory?: number;
  readonly architecture?: 'X86_64' | 'ARM64';
  /** When the PRIMARY deployment was created, hours before NOW. @default 30 days */
  readonly deployedHoursAgo?: number;
  /** Minutes of datapoints ending at LAST. @default 14 days */
  readonly minutes?: number;
  /** CPU % of minute i (0 = oldest). @default 95 % of minutes at 30, 5 % at 90: p95 30 */
  readonly cpuAt?: (i: number) => number;
  /** Memory % (Maximum) of minute i. @default 99 % at 35, 1 % at 60: p99 35 */
  readonly memoryAt?: (i: number) => number;
  /** RunningTaskCount of minute i; null: Container Insights off. @default 4 */
  readonly tasksAt?: ((i: number) => number) | null;
  readonly memorySeries?: boolean;
}

/** A deployed revision with its size, deployment and 1-minute utilisation series. */
function arrange(f: FakeAws, a: Arrange = {}): EcsService {
  const service = a.service ?? 'engine';
  const minutes = a.minutes ?? 14 * 24 * 60;
  const arn = f.addTaskDefinition({
    family: service,
    revision: 7,
    cpu: String(a.cpu ?? 1024),
    memory: String(a.memory ?? 2048),
    requiresCompatibilities: ['FARGATE'],
    ...(a.architecture ? { runtimePlatform: { cpuArchitecture: a.architecture, operatingSystemFamily: 'LINUX' } } : {}),
  });
  const s = f.service(CLUSTER, service);
  s.taskDefinition = arn;
  s.deployments = [{ status: 'PRIMARY', taskDefinition: arn, createdAt: new Date(NOW.getTime() - (a.deployedHoursAgo ?? 30 * 24) * HOUR), rolloutState: 'COMPLETED' }];
  s.launchType = 'FARGATE';
  const series = (at: (i: number) => number) => Array.from({ length: minutes }, (_, i) => at(i));
  f.setSeries(cpuMetric(service), series(a.cpuAt ?? ((i) => (i % 100 < 95 ? 30 : 90))), LAST);
  if (a.memorySeries !== false) f.setSeries(memoryMetric(service), series(a.memoryAt ?? ((i) => (i % 100 < 99 ? 35 : 60))), LAST);
  if (a.tasksAt !== null) f.setSeries(tasksMetric(service), series(a.tasksAt ?? (() => 4)), LAST);
  return s;
}

describe('mlscale rightsize', () => {
  it('recommends the cheapest Fargate size that keeps p95 CPU under the target and p99 memory under 80 %, with the cost and the config change', async () => {
    arrange(fake());
    const r = await cli('rightsize', 'engine');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'SIZE          CPU    MEMORY   CPU_P95   MEM_P99   FITS   MONTHLY',
      'current       1024   2048     30.0%     35.0%     yes    $144.16',
      'recommended   512    1024     60.0%     70.0%     yes    $72.08',
      'Recommendation: downsize to 512 CPU / 1024 MiB: 512 CPU / 1024 MiB is the cheapest Fargate size that keeps p95 CPU at or under 70 % and p99 memory at or under 80 % (projected p95 CPU 60 %, p99 memory 70 %; memory-bound)',
      'Monthly difference: -$72.08 (-50.0 %)',
      'Costs: 4 task(s) on average (ECS/ContainerInsights RunningTaskCount), 730 h/month, eu-west-1 Linux/X86_64 on-demand prices of 2026-12-02',
      'Data: 336 hours of 1-minute datapoints of engine:7 from 2026-11-18T10:00:00Z to 2026-12-02T10:00:00Z; p95 of CPUUtilization (Average), p99 of MemoryUtilization (Maximum: the fullest task)',
      'Limits: p95 CPU <= 70 % (thresholds.cpuPercent), p99 memory <= 80 % (thresholds.memoryPercent)',
      'Config change: in test/cli/fixtures/mlscale.json, set in pools[0] (engine):',
      '{',
      '  "name": "engine",',
      '  "cpu": 512,',
      '  "memoryMiB": 1024,',
      '  "containers": [',
      '    {',
      '      "name": "engine",',
      '      "memoryLimitMiB": 768',
      '    },',
      '    {',
      '      "name": "sidecar",',
      '      "memoryLimitMiB": 256',
      '    }',
      '  ]',
      '}',
      'Note: the containers that set their own cpu or memoryLimitMiB are scaled in proportion (AWS/ECS measures the task, not its containers): check the split',
    ]);
    // It reads, and only reads: the service, its task definition, one GetMetricData call.
    expect(fake().calls.map((c) => c.call)).toEqual(['ecs:describeServices', 'ecs:describeTaskDefinition', 'cloudwatch:getMetricData']);
    const q = fake().callsOf('cloudwatch:getMetricData')[0]!.input;
    expect(q.MetricDataQueries.map((m: { MetricStat: { Metric: { Namespace: string; MetricName: string }; Stat: string; Period: number } }) => `${m.MetricStat.Metric.Namespace} ${m.MetricStat.Metric.MetricName} ${m.MetricStat.Stat} ${m.MetricStat.Period}`)).toEqual([
      'AWS/ECS CPUUtilization Average 60',
      'AWS/ECS MemoryUtilization Maximum 60',
      'ECS/ContainerInsights RunningTaskCount Average 60',
    ]);
    expect(new Date(q.StartTime).toISOString()).toBe('2026-11-18T10:00:00.000Z');
    expectNothingChanged(fake());
  });

  it('the config change it prints is a valid config', async () => {
    arrange(fake());
    const doc = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    const config = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const pool = config.pools[0];
    const set = doc.configChange.set;
    Object.assign(pool, { cpu: set.cpu, memoryMiB: set.memoryMiB });
    for (const c of set.containers) Object.assign(pool.containers.find((x: { name: string }) => x.name === c.name), c);
    const parsed = parseConfig(config, 'patched');
    expect(parsed.config.pools[0]).toMatchObject({ name: 'engine', cpu: 512, memoryMiB: 1024 });
    expect(parsed.config.pools[0]!.containers.reduce((s, c) => s + (c.memoryLimitMiB ?? 0), 0)).toBeLessThanOrEqual(1024);
  });

  it('-o json and -o yaml: one document with both sizes, the window, the prices and the change', async () => {
    arrange(fake());
    const r = await cli('rightsize', 'engine', '-o', 'json');
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      name: 'engine',
      namespace: CLUSTER,
      target: 'engine',
      pool: 'engine',
      environment: 'production',
      taskDefinition: 'engine:7',
      window: { start: '2026-11-18T10:00:00Z', end: '2026-12-02T10:00:00Z', historyDays: 14, sinceDeployment: false, hoursOfData: 336, minimumHours: 24, periodSeconds: 60 },
      limits: { cpuPercent: 70, memoryPercent: 80 },
      tasks: { average: 4, source: 'ECS/ContainerInsights RunningTaskCount' },
      prices: { region: 'eu-west-1', architecture: 'X86_64', usdPerVcpuHour: 0.04048, usdPerGbHour: 0.004445, hoursPerMonth: 730, asOf: '2026-12-02' },
      current: { cpu: 1024, memoryMiB: 2048, cpuP95Percent: 30, memoryP99Percent: 35, monthlyCostUsd: 144.16, fits: true },
      recommended: { cpu: 512, memoryMiB: 1024, cpuP95Percent: 60, memoryP99Percent: 70, monthlyCostUsd: 72.08, fits: true },
      verdict: 'downsize',
      bound: 'memory',
      monthlyDifferenceUsd: -72.08,
      configChange: { file: 'test/cli/fixtures/mlscale.json', path: 'pools[0]', set: { name: 'engine', cpu: 512, memoryMiB: 1024 } },
    });
    expect(parseYaml((await cli('rightsize', 'engine', '-o', 'yaml')).stdout)).toEqual(json);
  });

  it('per revision: only the datapoints since the current task definition was deployed, and says so', async () => {
    // Before the deployment (an older revision) CPU ran at 90 %; since then at 30 %.
    const deployedMinutesAgo = 30 * 60;
    arrange(fake(), { deployedHoursAgo: 30, cpuAt: (i) => (i < 14 * 24 * 60 - deployedMinutesAgo ? 90 : 30) });
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.window).toMatchObject({ start: '2026-12-01T04:00:00Z', sinceDeployment: true, hoursOfData: 30 });
    expect(json.deployedAt).toBe('2026-12-01T04:00:00Z');
    expect(json.current.cpuP95Percent).toBe(30);
    expect(json.notes).toContain('AWS/ECS metrics are per service, not per revision: only datapoints since engine:7 was deployed (2026-12-01T04:00:00Z) are used');
    expect(new Date(fake().callsOf('cloudwatch:getMetricData')[0]!.input.StartTime).toISOString()).toBe('2026-12-01T04:00:00.000Z');
  });

  it('a rollout in progress is named: the old revision’s tasks are mixed in', async () => {
    const s = arrange(fake());
    s.deployments = [
      { status: 'PRIMARY', taskDefinition: s.taskDefinition!, createdAt: new Date(NOW.getTime() - 30 * DAY), rolloutState: 'IN_PROGRESS' },
      { status: 'ACTIVE', taskDefinition: s.taskDefinition!.replace(':7', ':6'), createdAt: new Date(NOW.getTime() - 40 * DAY), runningCount: 2 },
    ];
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.notes).toContain("a deployment is in progress (engine:6 still running): the old tasks' utilisation is mixed in; run rightsize again once it completes");
  });

  it('too little history: not enough data (N hours, need 24), nothing changed', async () => {
    arrange(fake(), { deployedHoursAgo: 12 });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: not enough data for engine (12 hours, need 24)');
    expectNothingChanged(fake());
  });

  it('counts hours of datapoints, not of the window: 23 h 59 min is not 24 h, 24 h is', async () => {
    arrange(fake(), { minutes: 24 * 60 - 1 });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: not enough data for engine (23 hours, need 24)');
    arrange(fake(), { minutes: 24 * 60 });
    expect((await cli('rightsize', 'engine')).code).toBe(0);
  });

  it('no datapoints at all is no data (0 hours)', async () => {
    const s = fake().service(CLUSTER, 'engine');
    s.taskDefinition = fake().addTaskDefinition({ family: 'engine', revision: 1, cpu: '1024', memory: '2048' });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: not enough data for engine (0 hours, need 24)');
  });

  it('metrics missing: memory without datapoints while CPU has them, or a query CloudWatch refuses', async () => {
    arrange(fake(), { memorySeries: false });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: metrics missing for engine: no AWS/ECS MemoryUtilization datapoints since 2026-11-18T10:00:00Z (CPUUtilization has 336 hours)');
    arrange(fake());
    fake().metricStatus.set(`AWS/ECS|CPUUtilization|ClusterName=${CLUSTER},ServiceName=engine|Average`, 'Forbidden');
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: cannot read AWS/ECS CPUUtilization of engine: Forbidden: Forbidden (fake)');
  });

  it('AWS errors are the CLI’s one line', async () => {
    arrange(fake());
    fake().fail({ call: 'cloudwatch:getMetricData', error: 'AccessDeniedException', cause: 'not authorized to perform: cloudwatch:GetMetricData' });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: Access denied: not authorized to perform: cloudwatch:GetMetricData');
    fake().fail({ call: 'ecs:describeTaskDefinition', error: 'AccessDeniedException', cause: 'not authorized to perform: ecs:DescribeTaskDefinition' });
    expectOneLineError(await cli('rightsize', 'engine'), 'Error: Access denied: not authorized to perform: ecs:DescribeTaskDefinition');
  });

  it('unknown service: not in the config, not in ECS, or in another namespace', async () => {
    expectOneLineError(await cli('rightsize', 'reranker'), /^Error: reranker is not managed by mlscale in production \(managed: engine, cpu-modules, gpu-modules, /);
    expectOneLineError(await cli('rightsize', 'engine', '-n', 'batch'), /^Error: engine in namespace batch is not managed by mlscale in production/);
    fake().services.delete(`service/${CLUSTER}/engine`);
    expectOneLineError(await cli('rightsize', 'engine'), "Error: Service 'engine' not found in namespace 'pipestream-production' (see: mlscale get services -A)");
    expect(fake().callsOf('cloudwatch:getMetricData')).toHaveLength(0);
  });

  it('refuses what is not a Fargate task: a GPU pool on EC2, a node group', async () => {
    expectOneLineError(await cli('rightsize', 'gpu-modules'), 'Error: gpu-modules runs on EC2 GPU instances (pool gpu-modules, compute ec2-gpu), not Fargate: rightsize sizes Fargate tasks only');
    expectOneLineError(await cli('rightsize', 'nodegroup/gpu-workers'), 'Error: rightsize sizes the Fargate tasks of ECS services; nodegroup/gpu-workers is an EKS node group (its size is its instanceTypes)');
    expect(fake().calls).toEqual([]);
  });

  it('keeps a size that is already the cheapest that fits, and prints no change', async () => {
    // cpu-modules: 2048 CPU / 4096 MiB at p95 60 % (1024 CPU would be 120 %), memory at 50 % (2048 MiB would be 100 %).
    arrange(fake(), { service: 'cpu-modules', cpu: 2048, memory: 4096, cpuAt: () => 60, memoryAt: () => 50 });
    const r = await cli('rightsize', 'cpu-modules');
    const out = lines(r.stdout);
    expect(out.slice(0, 3)).toEqual([
      'SIZE          CPU    MEMORY   CPU_P95   MEM_P99   FITS   MONTHLY',
      'current       2048   4096     60.0%     50.0%     yes    $288.32',
      'recommended   2048   4096     60.0%     50.0%     yes    $288.32',
    ]);
    expect(out).toContain('Config change: none');
    expect(out[3]).toMatch(/^Recommendation: keep 2048 CPU \/ 4096 MiB: 2048 CPU \/ 4096 MiB is already the cheapest/);
    const json = JSON.parse((await cli('rightsize', 'cpu-modules', '-o', 'json')).stdout);
    expect(json).toMatchObject({ verdict: 'keep', monthlyDifferenceUsd: 0, configChange: null });
  });

  it('sizes up a task that runs over its limits, at a higher cost', async () => {
    arrange(fake(), { cpuAt: () => 85, memoryAt: () => 40 });
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json).toMatchObject({ verdict: 'upsize', bound: 'cpu', current: { fits: false }, recommended: { cpu: 2048, memoryMiB: 4096, cpuP95Percent: 42.5, fits: true } });
    expect(json.monthlyDifferenceUsd).toBeGreaterThan(0);
    const out = lines((await cli('rightsize', 'engine')).stdout);
    expect(out[1]).toBe('current       1024   2048     85.0%     40.0%     no     $144.16');
    expect(out.find((l) => l.startsWith('Monthly difference:'))).toBe('Monthly difference: +$144.16 (+100.0 %)');
  });

  it('Container Insights off: the cost is for the tasks running now, and it says so', async () => {
    arrange(fake(), { tasksAt: null });
    fake().service(CLUSTER, 'engine').running = 3;
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.tasks).toEqual({ average: 3, source: 'runningCount now' });
    expect(json.current.monthlyCostUsd).toBe(108.12);
    expect(json.notes).toContain('no ECS/ContainerInsights RunningTaskCount (Container Insights off?): monthly costs are for the 3 task(s) running now');
  });

  it('averages the running task count over the window', async () => {
    arrange(fake(), { tasksAt: (i) => (i % 2 === 0 ? 2 : 6) });
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.tasks.average).toBe(4);
  });

  it('prices an ARM64 task at Graviton prices', async () => {
    arrange(fake(), { architecture: 'ARM64' });
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.prices).toMatchObject({ region: 'eu-west-1', architecture: 'ARM64', usdPerVcpuHour: 0.03238, usdPerGbHour: 0.00356 });
  });

  it('falls back to us-east-1 prices for a region the table lacks, and says so', async () => {
    arrange(fake());
    const region = vi.spyOn(ecs.config, 'region').mockResolvedValue('sa-east-1');
    try {
      const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
      expect(json.prices).toMatchObject({ region: 'us-east-1', usdPerVcpuHour: 0.04048 });
      expect(json.notes).toContain('no Fargate prices for sa-east-1 in lambdas/core/config/fargate-prices.ts: us-east-1 prices used');
    } finally {
      region.mockRestore();
    }
  });

  it('says when the deployed size differs from the config, and sizes from what is deployed', async () => {
    arrange(fake(), { cpu: 2048, memory: 4096, cpuAt: () => 15, memoryAt: () => 17.5 });
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(json.current).toMatchObject({ cpu: 2048, memoryMiB: 4096 });
    expect(json.recommended).toMatchObject({ cpu: 512, memoryMiB: 1024 });
    expect(json.notes).toContain(
      'test/cli/fixtures/mlscale.json sets 1024 CPU / 2048 MiB for engine, but engine:7 runs 2048 CPU / 4096 MiB: the utilisation, and so the recommendation, is of the deployed size',
    );
  });

  it('follows GetMetricData’s NextToken', async () => {
    arrange(fake());
    fake().metricPageSize = 5_000;
    const json = JSON.parse((await cli('rightsize', 'engine', '-o', 'json')).stdout);
    expect(fake().callsOf('cloudwatch:getMetricData')).toHaveLength(5);
    expect(json.window.hoursOfData).toBe(336);
    expect(json.recommended).toMatchObject({ cpu: 512, memoryMiB: 1024 });
  });

  it('is offered by completion and listed in the help', async () => {
    const bash = (await run('completion', 'bash')).stdout;
    expect(bash).toMatch(/^ {4}rightsize\) opts="--config --env --namespace -n --output -o --help".*mlscale __complete targets/m);
    expect((await run('--help')).stdout).toContain('rightsize');
    expectOneLineError(await cli('rightsize', 'engine', '-o', 'pretty'), /^Error: option '-o, --output <format>' argument 'pretty' is invalid\. Allowed choices are table, wide, json, yaml, name\.$/);
  });

  it('-o wide adds the next cheapest sizes that also fit; -o name prints the size to deploy', async () => {
    arrange(fake());
    const wide = lines((await cli('rightsize', 'engine', '-o', 'wide')).stdout);
    const table = wide.filter((l) => /^(SIZE|current|recommended|alternative) /.test(l));
    expect(table[1]).toMatch(/^current +1024 +2048 /);
    expect(table[2]).toMatch(/^recommended +512 +1024 /);
    const alternatives = table.slice(3);
    expect(alternatives.length).toBeGreaterThan(0);
    expect(alternatives.length).toBeLessThanOrEqual(8);
    // Each fits, and none is cheaper than the recommendation.
    const monthly = (row: string) => Number(row.split(/\s+/).pop()!.replace('$', ''));
    for (const row of alternatives) {
      expect(row).toMatch(/^alternative +\d+ +\d+ +[\d.]+% +[\d.]+% +yes +\$/);
      expect(monthly(row)).toBeGreaterThanOrEqual(monthly(table[2]!));
    }
    expect(lines((await cli('rightsize', 'engine', '-o', 'name')).stdout)).toEqual(['fargate/512x1024']);
  });
});
