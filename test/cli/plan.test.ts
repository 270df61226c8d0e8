import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GPU_INSTANCES } from '../../lambdas/core/config/instances';
import { main, userArgs } from '../../src/cli/main';
import { planCapacity } from '../../src/cli/plan/capacity-plan';
import { loadPlanTable, type Profile } from '../../src/cli/plan/plan-table';
import { parse as parseYaml } from 'yaml';
import { FakeAws } from '../fakes/aws';
import { installFakeAws } from '../fakes/install';
import { expectNoAwsCalls, expectOneLineError, lines, run } from './harness';

// plan is arithmetic on a table: it never calls AWS.
let fake = new FakeAws();
beforeEach(() => {
  fake = new FakeAws();
  installFakeAws(fake);
});
afterEach(() => expectNoAwsCalls(fake));

const profile = (name: string, workers: number, rpsPerWorker: number, p95Ms: number, usdPerHour: number): Profile => ({
  name,
  kind: 'fargate',
  size: '',
  workers,
  rpsPerWorker,
  p95Ms,
  usdPerHour,
});

function tableFile(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-plan-'));
  const file = path.join(dir, 'table.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const SMALL_TABLE = {
  workload: 'test model',
  pricing: { region: 'test-region-1', fargate: { usdPerVcpuHour: 0.04, usdPerGbHour: 0.005 } },
  profiles: [
    { name: 'cpu-1', kind: 'fargate', cpu: 1024, memoryMiB: 2048, workers: 1, rpsPerWorker: 10, p95Ms: 120 },
    { name: 'cpu-4', kind: 'fargate', cpu: 4096, memoryMiB: 8192, workers: 4, rpsPerWorker: 10, p95Ms: 120, usdPerHour: 0.1 },
    { name: 'g5', kind: 'gpu', instanceType: 'g5.xlarge', workers: 1, rpsPerWorker: 700, p95Ms: 30 },
  ],
};

describe('capacity arithmetic', () => {
  it('replicas = ceil(rps / (workers x rps per worker x utilisation))', () => {
    const plan = planCapacity([profile('a', 2, 10, 100, 1)], { rps: 100, targetUtilization: 0.7, minReplicas: 1 });
    // 100 / (2 x 10 x 0.7) = 7.14 -> 8
    expect(plan.options[0]).toMatchObject({ rpsPerReplica: 20, plannedRpsPerReplica: 14, replicas: 8, usdPerHour: 8, utilization: 0.625 });
    // $8/h for 360,000 requests/h
    expect(plan.options[0]!.usdPerMillionRequests).toBeCloseTo(22.2222, 4);
  });

  it('does not round 7 / 0.7 up to 11', () => {
    const plan = planCapacity([profile('a', 1, 1, 100, 1)], { rps: 7, targetUtilization: 0.7, minReplicas: 1 });
    expect(plan.options[0]!.replicas).toBe(10);
  });

  it('recommends the cheapest profile that meets latency and budget, or says why none does', () => {
    const profiles = [profile('slow-cheap', 1, 100, 300, 0.5), profile('fast', 1, 100, 50, 2), profile('faster', 1, 100, 20, 3)];
    const input = { rps: 100, targetUtilization: 0.5, minReplicas: 1 };
    expect(planCapacity(profiles, input).recommended?.profile.name).toBe('slow-cheap');
    expect(planCapacity(profiles, { ...input, p95Ms: 60 }).recommended?.profile.name).toBe('fast');
    const none = planCapacity(profiles, { ...input, p95Ms: 60, budgetUsdPerHour: 3 });
    expect(none.recommended).toBeUndefined();
    expect(none.reason).toBe('no profile meets p95 <= 60 ms and within $3.00/h; the cheapest that meets the latency is fast x 2 at $4.00/h');
  });

  it('never plans fewer than --min-replicas', () => {
    expect(planCapacity([profile('a', 1, 1000, 10, 1)], { rps: 1, targetUtilization: 0.7, minReplicas: 2 }).options[0]!.replicas).toBe(2);
  });
});

describe('the shipped plan table', () => {
  it('loads, lists every GPU instance of lambdas/core/config/instances.ts at its price, and Fargate sizes priced per vCPU and GB', () => {
    const table = loadPlanTable();
    const gpus = table.profiles.filter((p) => p.kind === 'gpu');
    expect(gpus.map((p) => p.name).sort()).toEqual(Object.keys(GPU_INSTANCES).sort());
    for (const p of gpus) expect(p.usdPerHour).toBe(GPU_INSTANCES[p.name]!.usdPerHour);
    const oneVcpu = table.profiles.find((p) => p.name === 'fargate-1vcpu')!;
    expect(oneVcpu.usdPerHour).toBeCloseTo(0.04048 + 2 * 0.004445, 4);
    expect(table.profiles.filter((p) => p.kind === 'fargate').length).toBeGreaterThanOrEqual(5);
  });
});

describe('mlscale plan', () => {
  it('prints the arithmetic, a table cheapest first, and the recommendation', async () => {
    const r = await run('plan', '--rps', '100', '--table', tableFile(SMALL_TABLE));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    expect(out[0]).toBe('Capacity plan for 100 req/s at 70% target utilisation');
    expect(out[1]).toBe('replicas = ceil(100 / (workers x req/s per worker x 0.7)), at least 1; test-region-1 on-demand prices');
    expect(out[2]!.split(/\s+/)).toEqual(['PROFILE', 'SIZE', 'WORKERS', 'RPS_PER_WORKER', 'REPLICAS', 'UTIL', 'USD_PER_HOUR', 'USD_PER_1M_REQ', 'P95_MS', 'FITS']);
    // cpu-4: ceil(100 / 28) = 4 x $0.10; cpu-1: ceil(100 / 7) = 15 x $0.05; g5: 1 x $1.006. One token per cell: awk-friendly.
    expect(out.slice(3, 6).map((l) => l.split(/\s+/))).toEqual([
      ['cpu-4', '4vCPU/8GiB', '4', '10', '4', '63%', '0.40', '1.111', '120', 'yes'],
      ['cpu-1', '1vCPU/2GiB', '1', '10', '15', '67%', '0.75', '2.083', '120', 'yes'],
      ['g5', '1xA10G/24GiB', '1', '700', '1', '14%', '1.01', '2.794', '30', 'yes'],
    ]);
    expect(out[6]).toBe('Recommended: cpu-4 x 4 (4vCPU/8GiB): $0.40/h, $1.111 per 1M requests, p95 120 ms - cheapest profile');
  });

  it('applies --p95-ms, --budget and --target-utilization (as a percentage too)', async () => {
    const r = await run('plan', '--rps', '100', '--p95-ms', '50', '--budget', '$2', '--target-utilization', '50%', '--table', tableFile(SMALL_TABLE));
    const out = lines(r.stdout);
    expect(out[0]).toBe('Capacity plan for 100 req/s at 50% target utilisation, p95 <= 50 ms, budget $2.00/h');
    expect(out.find((l) => l.startsWith('cpu-4'))).toMatch(/\s5\s.*no\(p95\)$/);
    expect(out.find((l) => l.startsWith('Recommended:'))).toBe(
      'Recommended: g5 x 1 (1xA10G/24GiB): $1.01/h, $2.794 per 1M requests, p95 30 ms - cheapest profile that meets p95 <= 50 ms and within $2.00/h',
    );
  });

  it('prints one JSON object with -o json', async () => {
    const r = await run('plan', '--rps', '1400', '--p95-ms', '40', '--table', tableFile(SMALL_TABLE), '-o', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { input: unknown; recommendation: Record<string, unknown>; options: unknown[]; reason: string };
    expect(json.input).toEqual({ rps: 1400, targetUtilization: 0.7, minReplicas: 1, p95Ms: 40 });
    // 1400 / (700 x 0.7) = 2.86 -> 3 g5
    expect(json.recommendation).toMatchObject({ profile: 'g5', replicas: 3, usdPerHour: 3.018, meetsLatency: true });
    expect(json.options).toHaveLength(3);
  });

  it('-o wide adds the per-replica numbers; -o yaml is the JSON document; -o name lists the profiles that fit, cheapest first', async () => {
    const file = tableFile(SMALL_TABLE);
    const wide = lines((await run('plan', '--rps', '100', '--table', file, '-o', 'wide')).stdout);
    expect(wide[2]!.split(/\s+/)).toEqual([
      'PROFILE', 'KIND', 'SIZE', 'WORKERS', 'RPS_PER_WORKER', 'RPS_PER_REPLICA', 'PLANNED_RPS', 'REPLICAS', 'UTIL', 'USD_PER_REPLICA_HOUR', 'USD_PER_HOUR', 'USD_PER_1M_REQ', 'P95_MS', 'FITS',
    ]);
    expect(wide[3]!.split(/\s+/)).toEqual(['cpu-4', 'fargate', '4vCPU/8GiB', '4', '10', '40', '28', '4', '63%', '0.1000', '0.40', '1.111', '120', 'yes']);
    const json = JSON.parse((await run('plan', '--rps', '100', '--table', file, '-o', 'json')).stdout);
    expect(parseYaml((await run('plan', '--rps', '100', '--table', file, '-o', 'yaml')).stdout)).toEqual(json);
    expect((await run('plan', '--rps', '100', '--p95-ms', '50', '--table', file, '-o', 'name')).stdout).toBe('profile.mlscale/g5\n');
  });

  it('says when nothing fits', async () => {
    const r = await run('plan', '--rps', '100', '--p95-ms', '5', '--table', tableFile(SMALL_TABLE));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No recommendation: no profile meets p95 <= 5 ms (fastest: g5)');
  });

  it('runs on the shipped table', async () => {
    const r = await run('plan', '--rps', '500', '--p95-ms', '50');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Recommended: \S+ x \d+ /m);
    expect(r.stdout).toContain('config/plan-table.json');
  });

  it.each([
    [['--rps', '0'], "Error: --rps must be a number > 0, got '0'"],
    [['--rps', 'lots'], "Error: --rps must be a number > 0, got 'lots'"],
    [['--rps', '10', '--target-utilization', '0%'], "Error: --target-utilization must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '0%'"],
    [['--rps', '10', '--target-utilization', '1.5'], "Error: --target-utilization must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '1.5'"],
    [['--rps', '10', '--target-utilization', '70'], "Error: --target-utilization must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '70'"],
    [['--rps', '10', '--target-utilization', '0'], "Error: --target-utilization must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '0'"],
    [['--rps', '10', '--p95-ms', 'x'], "Error: --p95-ms must be a number > 0, got 'x'"],
    [['--rps', '10', '--target-utilization', '120%'], "Error: --target-utilization must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '120%'"],
    [['--rps', '10', '--budget', '-3'], "Error: --budget must be a number > 0, got '-3'"],
    [[], "Error: required option '--rps <requests>' not specified"],
  ])('rejects %j in one line', async (argv, message) => {
    expectOneLineError(await run('plan', ...argv), message);
  });

  it('names the bad field of a broken table', async () => {
    const broken = { ...SMALL_TABLE, profiles: [{ ...SMALL_TABLE.profiles[0], memoryMiB: 1000 }, { ...SMALL_TABLE.profiles[2], instanceType: 'x9.huge' }] };
    const file = tableFile(broken);
    const r = await run('plan', '--rps', '10', '--table', file);
    // The file as it was given, not rewritten relative to the working directory.
    expect(r.stderr.startsWith(`Error: Invalid ${file}: `)).toBe(true);
    expectOneLineError(r, /^Error: Invalid .*table\.json: profiles\[0\]: memoryMiB 1000 does not fit cpu 1024 on Fargate .*; profiles\[1\]\.instanceType: 'x9\.huge' is not in lambdas\/core\/config\/instances\.ts; give usdPerHour$/);
    expectOneLineError(await run('plan', '--rps', '10', '--table', tableFile('{ not json')), /^Error: Invalid .*table\.json: not valid JSON/);
  });
});

describe('main(argv)', () => {
  it('takes process.argv (node, script, args) or the arguments alone', async () => {
    expect(userArgs(['/usr/bin/node', '/x/bin/mlscale.js', 'plan'])).toEqual(['plan']);
    expect(userArgs([process.execPath, 'anything', 'plan'])).toEqual(['plan']);
    expect(userArgs(['mlscale', 'plan'])).toEqual(['plan']);
    expect(userArgs(['plan', '--rps', '1'])).toEqual(['plan', '--rps', '1']);
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    try {
      await expect(main(['plan', '--rps', '10', '-o', 'json'])).resolves.toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(stdout)).toMatchObject({ input: { rps: 10 } });
  });
});
