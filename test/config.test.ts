import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigInput, parseConfig, selectEnvironment } from '../lambdas/core/config';
import { loadConfigFile } from '../lambdas/core/config/load';
import { exampleConfig } from './util';

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Parse the example config after `mutate` changed it; return the error message (or fail). */
function errorFor(mutate: (c: Mutable) => void): string {
  const config = exampleConfig() as Mutable;
  mutate(config);
  try {
    parseConfig(config as ConfigInput);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected the config to be rejected');
}

function pool(env: ReturnType<typeof parseConfig>['environments'][number], name: string) {
  const p = env.pools.find((x) => x.name === name);
  if (!p) throw new Error(`no pool ${name}`);
  return p;
}

describe('config: the example', () => {
  const parsed = parseConfig(exampleConfig());
  const production = selectEnvironment(parsed, 'production');

  it('resolves the runbook defaults', () => {
    expect(production.thresholds).toEqual({
      cpuPercent: 70,
      memoryPercent: 80,
      consumerLag: 1000,
      engineGrpcP99Ms: 500,
      queueDepthPerTask: 10,
      cpuModuleP99Ms: 2000,
      gpuModuleP99Ms: 10000,
      p95Ms: 100,
      emergencyP95Ms: 200,
      gpuUtilizationPercent: 80,
      noRequestsMinutes: 5,
    });
    expect([pool(production, 'engine').minCapacity, pool(production, 'engine').maxCapacity]).toEqual([2, 10]);
    expect([pool(production, 'cpu-modules').minCapacity, pool(production, 'cpu-modules').maxCapacity]).toEqual([1, 20]);
    expect([pool(production, 'gpu-modules').minCapacity, pool(production, 'gpu-modules').maxCapacity]).toEqual([0, 5]);
  });

  it('uses the Kafka ConsumerLag metric of the design for the always-on pool', () => {
    expect(pool(production, 'engine').metrics.consumerLag).toEqual({
      namespace: 'Pipestream/Kafka',
      metricName: 'ConsumerLag',
      dimensions: { ConsumerGroup: 'engine' },
      statistic: 'Maximum',
    });
  });

  it('gives cooldowns of 60 s out and 300 s in', () => {
    const engine = pool(production, 'engine');
    expect([engine.scaleOutCooldownSeconds, engine.scaleInCooldownSeconds]).toEqual([60, 300]);
  });

  it('applies the staging environment preset and override', () => {
    const staging = selectEnvironment(parsed, 'staging');
    expect(staging.preset).toBe('low-cost');
    expect(pool(staging, 'engine').minCapacity).toBe(1);
    expect(pool(staging, 'engine').maxCapacity).toBe(4);
    expect(staging.clusterName).toBe('pipestream-staging');
    expect(staging.stackName).toBe('MlscalePipestreamStaging');
  });

  it('defaults the emergency ceiling to twice the max and start-up to 60 s / 300 s', () => {
    expect(pool(production, 'engine').emergency).toEqual({ enabled: true, ceiling: 20 });
    expect(pool(production, 'gpu-modules').emergency.enabled).toBe(false);
    expect(pool(production, 'engine').startupSeconds).toBe(60);
    expect(pool(production, 'gpu-modules').startupSeconds).toBe(300);
  });
});

describe('config: presets', () => {
  function minsFor(preset: string): number[] {
    const config = exampleConfig() as Mutable;
    config.preset = preset;
    config.environments = [{ name: 'only' }];
    const env = parseConfig(config as ConfigInput).environments[0]!;
    return ['engine', 'cpu-modules', 'gpu-modules'].map((n) => pool(env, n).minCapacity);
  }

  it.each([
    ['low-cost', [1, 1, 0]],
    ['balanced', [2, 1, 0]],
    ['low-latency', [3, 2, 1]],
  ])('%s sets engine/CPU-module/GPU-module minimums to %j', (preset, mins) => {
    expect(minsFor(preset)).toEqual(mins);
  });

  it('lets an explicit pool minimum win over the preset', () => {
    const config = exampleConfig() as Mutable;
    config.preset = 'low-cost';
    config.pools[0].minCapacity = 4;
    const env = selectEnvironment(parseConfig(config as ConfigInput), 'production');
    expect(pool(env, 'engine').minCapacity).toBe(4);
  });
});

describe('config: errors name the field', () => {
  it('scaleInMinutes: 1 to 15 whole minutes (default 12), on always-on pools only', () => {
    const engine = pool(selectEnvironment(parseConfig(exampleConfig()), 'production'), 'engine');
    expect(engine.kind === 'always-on' && engine.scaleInMinutes).toBe(12);
    expect(errorFor((c) => (c.pools[0].scaleInMinutes = 0))).toMatch(/pools\[0\]\.scaleInMinutes: /);
    expect(errorFor((c) => (c.pools[0].scaleInMinutes = 16))).toMatch(/pools\[0\]\.scaleInMinutes: /);
    expect(errorFor((c) => (c.pools[0].scaleInMinutes = 2.5))).toMatch(/pools\[0\]\.scaleInMinutes: /);
    expect(errorFor((c) => (c.pools[1].scaleInMinutes = 5))).toMatch(/pools\[1\].*scaleInMinutes/);
  });

  it('min above max', () => {
    expect(errorFor((c) => (c.pools[1].minCapacity = 25))).toMatch(/pools\[1\]\.minCapacity: must be <= maxCapacity, got 25 > 20/);
  });

  it('min above max from an environment override', () => {
    expect(errorFor((c) => (c.environments[1].pools = { engine: { minCapacity: 12 } }))).toMatch(
      /environments\[1\]\.pools\.engine\.minCapacity: must be <= maxCapacity, got 12 > 10/,
    );
  });

  it('a preset whose minimum exceeds a pool maximum', () => {
    expect(
      errorFor((c) => {
        c.environments[1].preset = 'low-latency';
        c.pools[1].maxCapacity = 1;
      }),
    ).toMatch(/environments\[1\]\.preset: preset low-latency sets minCapacity 2 for pool cpu-modules, above its maxCapacity 1/);
  });

  it('an always-on pool at zero', () => {
    expect(errorFor((c) => (c.pools[0].minCapacity = 0))).toMatch(/pools\[0\]\.minCapacity: an always-on pool never scales to zero/);
  });

  it('a percentage out of range', () => {
    expect(errorFor((c) => (c.thresholds.cpuPercent = 150))).toMatch(/thresholds\.cpuPercent: .*100/);
  });

  it('a negative threshold', () => {
    expect(errorFor((c) => (c.thresholds.consumerLag = -5))).toMatch(/thresholds\.consumerLag: /);
  });

  it('an emergency threshold not above the warning threshold', () => {
    expect(errorFor((c) => (c.thresholds.emergencyP95Ms = 80))).toMatch(/thresholds\.emergencyP95Ms: must be > p95Ms, got 80 <= 100/);
  });

  it('a duplicate pool name', () => {
    expect(errorFor((c) => (c.pools[1].name = 'engine'))).toMatch(/pools: duplicate pool name 'engine'/);
  });

  it('a duplicate environment name', () => {
    expect(errorFor((c) => (c.environments[1].name = 'staging'))).toMatch(/environments: duplicate environment name 'staging'/);
  });

  it('an unknown pool in a planned event', () => {
    const msg = errorFor(
      (c) => (c.plannedEvents = [{ name: 'launch', pool: 'enigne', start: '2026-12-01T10:00:00Z', end: '2026-12-01T12:00:00Z', replicas: 6 }]),
    );
    expect(msg).toMatch(/plannedEvents\[0\]\.pool: unknown pool 'enigne' \(known pools: engine, cpu-modules, gpu-modules\)/);
  });

  it('an unknown pool in peak hours', () => {
    const msg = errorFor(
      (c) => (c.peakHours = [{ name: 'office', pool: 'nope', startCron: '0 8 ? * MON-FRI *', endCron: '0 18 ? * MON-FRI *', minCapacity: 4 }]),
    );
    expect(msg).toMatch(/peakHours\[0\]\.pool: unknown pool 'nope'/);
  });

  it('an unknown pool in an environment override', () => {
    expect(errorFor((c) => (c.environments[0].pools = { ghost: { maxCapacity: 3 } }))).toMatch(
      /environments\[0\]\.pools\.ghost: unknown pool 'ghost'/,
    );
  });

  it('a planned event with both replicas and multiplier, ending before it starts', () => {
    const msg = errorFor(
      (c) =>
        (c.plannedEvents = [
          { name: 'launch', pool: 'engine', start: '2026-12-01T12:00:00Z', end: '2026-12-01T10:00:00Z', replicas: 6, multiplier: 2 },
        ]),
    );
    expect(msg).toMatch(/plannedEvents\[0\]: give exactly one of replicas or multiplier/);
    expect(msg).toMatch(/plannedEvents\[0\]\.end: must be after start/);
  });

  it('a planned event above the pool ceiling', () => {
    const msg = errorFor(
      (c) => (c.plannedEvents = [{ name: 'launch', pool: 'engine', start: '2026-12-01T10:00:00Z', end: '2026-12-01T12:00:00Z', replicas: 40 }]),
    );
    expect(msg).toMatch(/plannedEvents\[0\]\.replicas: must be <= the pool's maxCapacity, got 40 > 10/);
  });

  it('a planned event time without a zone', () => {
    const msg = errorFor(
      (c) => (c.plannedEvents = [{ name: 'launch', pool: 'engine', start: '2026-12-01 10:00', end: '2026-12-01T12:00:00Z', replicas: 4 }]),
    );
    expect(msg).toMatch(/plannedEvents\[0\]\.start: must be an ISO-8601 time with a zone/);
  });

  it('a misspelt key', () => {
    expect(errorFor((c) => (c.pools[0].maxCapactiy = 3))).toMatch(/pools\[0\]: Unrecognized key: "maxCapactiy"/);
  });

  it('an unknown pool kind', () => {
    expect(errorFor((c) => (c.pools[0].kind = 'sometimes'))).toMatch(/pools\[0\]\.kind: /);
  });

  it('a Fargate size that does not exist', () => {
    expect(errorFor((c) => (c.pools[0].memoryMiB = 1000))).toMatch(/pools\[0\]\.memoryMiB: memoryMiB 1000 does not fit cpu 1024 on Fargate/);
  });

  it('more GPUs per task than the instance has', () => {
    expect(errorFor((c) => (c.pools[2].compute.gpusPerTask = 4))).toMatch(
      /pools\[2\]\.compute\.gpusPerTask: g5\.xlarge has 1 GPU\(s\), got gpusPerTask 4/,
    );
  });

  it('an emergency ceiling below the maximum', () => {
    expect(errorFor((c) => (c.pools[0].emergency = { ceiling: 5 }))).toMatch(/pools\[0\]\.emergency\.ceiling: must be >= maxCapacity, got 5 < 10/);
  });

  it('an existing VPC without subnets', () => {
    expect(errorFor((c) => (c.network = { vpcId: 'vpc-0abc1234def567890' }))).toMatch(/network\.privateSubnetIds: required with network\.vpcId/);
  });

  it('node groups on an existing EKS cluster without subnets', () => {
    const msg = errorFor((c) => (c.eks = { clusterName: 'ml-prod', nodeGroups: [{ name: 'gpu-a', instanceTypes: ['g5.xlarge'], maxSize: 4 }] }));
    expect(msg).toMatch(/eks\.subnetIds: required to add node groups to an existing cluster/);
  });

  it('a node group desired size outside min..max', () => {
    const msg = errorFor(
      (c) =>
        (c.eks = {
          clusterName: 'ml-prod',
          subnetIds: ['subnet-0a1b2c3d4e5f60718'],
          nodeGroups: [{ name: 'gpu-a', instanceTypes: ['g5.xlarge'], minSize: 1, maxSize: 4, desiredSize: 6 }],
        }),
    );
    expect(msg).toMatch(/eks\.nodeGroups\[0\]\.desiredSize: must be within minSize\.\.maxSize \(1\.\.4\), got 6/);
  });

  it('reports every problem in one line', () => {
    const msg = errorFor((c) => {
      c.pools[1].minCapacity = 25;
      c.thresholds.memoryPercent = 0;
    });
    expect(msg).toMatch(/^Invalid mlscale config: /);
    expect(msg).toContain('thresholds.memoryPercent');
  });

  it('an unknown environment', () => {
    expect(() => selectEnvironment(parseConfig(exampleConfig()), 'prod')).toThrow(/env: unknown environment 'prod' \(known: staging, production\)/);
  });
});

describe('config: files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-config-'));

  it('loads the example file', () => {
    expect(loadConfigFile().environments.map((e) => e.name)).toEqual(['staging', 'production']);
  });

  it('rejects a file that is not JSON, naming the file', () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ "pools": [ }');
    expect(() => loadConfigFile(file)).toThrow(/broken\.json: not valid JSON/);
  });

  it('rejects a missing file', () => {
    expect(() => loadConfigFile(path.join(dir, 'absent.json'))).toThrow(/absent\.json: cannot read the file \(ENOENT\)/);
  });

  it('names a missing file exactly as it was given, absolute or relative (never rewritten relative to the working directory)', () => {
    const absolute = path.join(dir, 'nowhere', 'mlscale.json');
    expect(() => loadConfigFile(absolute)).toThrow(`Invalid ${absolute}: cannot read the file (ENOENT)`);
    expect(() => loadConfigFile(path.resolve('../elsewhere/mlscale.json'), '../elsewhere/mlscale.json')).toThrow('Invalid ../elsewhere/mlscale.json: cannot read the file (ENOENT)');
  });
});

describe('config: peak hours', () => {
  it('rejects a cron expression mlscale cannot evaluate, and an unknown time zone', () => {
    const msg = errorFor(
      (c) => (c.peakHours = [{ name: 'office', pool: 'engine', startCron: '0 8 ? * MON#2 *', endCron: '0 18 * * MON-FRI *', minCapacity: 4, timezone: 'Mars/Olympus' }]),
    );
    expect(msg).toMatch(/peakHours\[0\]\.startCron: cron day-of-week: 'MON#2' uses L, W or #/);
    expect(msg).toMatch(/peakHours\[0\]\.endCron: cron '0 18 \* \* MON-FRI \*': exactly one of day-of-month and day-of-week must be '\?'/);
    expect(msg).toMatch(/peakHours\[0\]\.timezone: unknown time zone 'Mars\/Olympus'/);
  });
});

describe('config: AWS IDs', () => {
  it('rejects a subnet ID that CloudFormation would reject', () => {
    const msg = errorFor(
      (c) => (c.network = { vpcId: 'vpc-0abc1234def567890', privateSubnetIds: ['subnet-0a1'], availabilityZones: ['eu-west-1a'] }),
    );
    expect(msg).toMatch(/network\.privateSubnetIds\[0\]: must be an ID like subnet-0123456789abcdef0/);
  });
});

describe('Config: one model', () => {
  it('accepts only the log retention periods CloudWatch Logs accepts (2 would synthesize a template CloudFormation rejects)', () => {
    expect(errorFor((c) => (c.logRetentionDays = 2))).toMatch(/^Invalid mlscale config: logRetentionDays: must be one of 1, 3, 5, 7, 14, 30, /);
    expect(() => parseConfig({ ...exampleConfig(), logRetentionDays: 14 })).not.toThrow();
  });

  it('checks peak-hours crons and time zones with the same code as the targets document, with the same message', async () => {
    const { parseTargetsDocument } = await import('../lambdas/core/config/document');
    const bad = { name: 'office', startCron: '0 9 * * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 4, timezone: 'Mars/Olympus' };
    const fromConfig = errorFor((c) => (c.peakHours = [{ ...bad, pool: 'engine' }]));
    let fromDocument = '';
    try {
      parseTargetsDocument({ targets: [{ name: 'engine', kind: 'ecs-service', cluster: 'c', service: 'engine', pool: 'always-on', minCapacity: 2, maxCapacity: 10, peakHours: [bad] }] }, 'doc');
    } catch (err) {
      fromDocument = (err as Error).message;
    }
    const problems = (message: string) => message.replace(/^Invalid [^:]+: /, '').split('; ').map((p) => p.replace(/^[^:]*peakHours\[0\]\./, ''));
    expect(problems(fromConfig)).toEqual(problems(fromDocument));
    expect(fromConfig).toContain("unknown time zone 'Mars/Olympus'");
    expect(fromConfig).toContain('exactly one of day-of-month and day-of-week');
  });

  it('gives every default once: the document a handler parses carries the config defaults', async () => {
    const { DEFAULTS } = await import('../lambdas/core/config/defaults');
    const { documentFor } = await import('../lambdas/core/config/render');
    const doc = documentFor(selectEnvironment(parseConfig(exampleConfig()), 'production'));
    expect(doc.emergency).toEqual({ stableMinutes: DEFAULTS.emergency.stableMinutes, holdMinutes: DEFAULTS.emergency.maxMonitorMinutes, maxMonitorMinutes: DEFAULTS.emergency.maxMonitorMinutes });
    const engine = doc.targets.find((t) => t.name === 'engine')!;
    expect(engine.plannedEvents[0]).toMatchObject({ leadMinutes: DEFAULTS.event.leadMinutes, cooldownMinutes: DEFAULTS.event.cooldownMinutes });
    expect(engine.predictive).toMatchObject({ historyDays: DEFAULTS.predictive.historyDays, horizonHours: DEFAULTS.predictive.horizonHours, maxError: DEFAULTS.predictive.maxErrorPercent / 100 });
    expect(engine.drain?.drainSeconds).toBe(DEFAULTS.drainSeconds);
  });
});
