import { describe, expect, it } from 'vitest';
import { parseConfig, selectEnvironment, type ConfigInput } from '../../lambdas/core/config';
import { documentFor, renderTargetsDocument } from '../../lambdas/core/config/render';
import { parseTargetsDocument, parseTargetsJson, type TargetSpec } from '../../lambdas/core/config/document';
import { exampleConfig } from '../util';


type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function render(config: ConfigInput = exampleConfig(), environment = 'production') {
  const env = selectEnvironment(parseConfig(config), environment);
  return { env, document: renderTargetsDocument(env) };
}

function target(targets: readonly TargetSpec[], name: string): TargetSpec {
  const t = targets.find((x) => x.name === name);
  if (!t) throw new Error(`no target ${name}`);
  return t;
}

/** The fields DESIGN.md ("Managed targets") requires of every target. */
function expectRequiredFields(raw: Record<string, unknown>) {
  for (const field of ['name', 'kind', 'cluster', 'pool', 'minCapacity', 'maxCapacity']) expect(raw, field).toHaveProperty(field);
  expect(raw).toHaveProperty(raw.kind === 'ecs-service' ? 'service' : 'nodegroup');
  if (raw.pool === 'scale-to-zero') {
    expect(raw.work).toMatchObject({ namespace: expect.any(String), metricName: expect.any(String), dimensions: expect.any(Object), statistic: expect.any(String) });
    expect(raw.idleMinutes).toEqual(expect.any(Number));
  }
}

describe('Function: renderTargetsDocument', () => {
  it('renders the example config into a document that parses, survives JSON and has the required fields', () => {
    const { env, document } = render();
    const targets = parseTargetsDocument(document, 'rendered').targets;
    expect(parseTargetsJson(JSON.stringify(document)).targets).toEqual(targets);
    expect(targets.map((t) => [t.name, t.kind, t.pool, t.minCapacity, t.maxCapacity])).toEqual([
      ['engine', 'ecs-service', 'always-on', 2, 10],
      ['cpu-modules', 'ecs-service', 'demand', 1, 20],
      ['gpu-modules', 'ecs-service', 'scale-to-zero', 0, 5],
    ]);
    for (const t of targets) {
      expect(t.cluster).toBe(env.clusterName);
      expect(t.kind === 'ecs-service' && t.service).toBe(t.name);
    }
    for (const raw of JSON.parse(JSON.stringify(document)).targets as Record<string, unknown>[]) expectRequiredFields(raw);
  });

  it('gives the scale-to-zero pool its work metric and idle settings', () => {
    const { env, document } = render();
    const gpu = target(parseTargetsDocument(document).targets, 'gpu-modules');
    const pool = env.pools.find((p) => p.name === 'gpu-modules')!;
    expect(gpu.work).toEqual(pool.metrics.work);
    expect(gpu).toMatchObject({ idleMinutes: 5, scaleFromZeroTo: 1, missingDataIsIdle: false });
    expect(target(parseTargetsDocument(document).targets, 'engine').work).toBeUndefined();
  });

  it('lists only the emergency alarm kinds, and only for pools with the emergency enabled', () => {
    const targets = parseTargetsDocument(render().document).targets;
    expect(target(targets, 'engine').alarms).toEqual(['pipestream-production-engine-emergencyLatency']);
    // The demand pool has no p95 emergency alarm kind: nothing to list.
    expect(target(targets, 'cpu-modules').alarms).toEqual([]);
    // Doubling a pool that scales to zero is opt-in.
    expect(target(targets, 'gpu-modules')).toMatchObject({ emergencyEnabled: false, alarms: [] });
  });

  it('lists every configured emergency alarm kind the pool has', () => {
    const config = exampleConfig() as Mutable;
    config.emergency.alarmKinds = ['emergencyLatency', 'cpu', 'consumerLag'];
    const engine = target(parseTargetsDocument(render(config as ConfigInput).document).targets, 'engine');
    // In the order the pool's alarms are defined; only kinds the pool really has.
    expect(engine.alarms).toEqual(['pipestream-production-engine-cpu', 'pipestream-production-engine-consumerLag', 'pipestream-production-engine-emergencyLatency']);
  });

  it('carries the emergency ceiling (max × ceilingMultiplier)', () => {
    const targets = parseTargetsDocument(render().document).targets;
    expect(target(targets, 'engine')).toMatchObject({ emergencyEnabled: true, emergencyCeiling: 20 });
    expect(target(targets, 'cpu-modules').emergencyCeiling).toBe(40);
  });

  it('renders predictive settings for the pools that enable them', () => {
    const { env, document } = render();
    const targets = parseTargetsDocument(document).targets;
    const engine = target(targets, 'engine');
    expect(engine.predictive).toMatchObject({
      load: env.pools.find((p) => p.name === 'engine')!.metrics.requests,
      targetPerReplica: 50, // the forecast floor is sized at full per-task capacity (50 req/s)
      headroom: 0.1,
      leadMinutes: 10,
      mode: 'forecast-and-scale',
      horizonHours: 6,
    });
    expect(target(targets, 'gpu-modules').predictive).toBeUndefined();
  });

  it('uses the environment overrides', () => {
    const engine = target(parseTargetsDocument(render(exampleConfig(), 'staging').document).targets, 'engine');
    expect(engine.maxCapacity).toBe(4);
  });

  it('gives each pool its own planned events and peak hours, without the pool field', () => {
    const config = exampleConfig() as Mutable;
    config.plannedEvents = [{ name: 'launch', pool: 'engine', start: '2026-06-01T14:00:00Z', end: '2026-06-01T16:00:00Z', multiplier: 2 }];
    config.peakHours = [
      { name: 'office', pool: 'cpu-modules', startCron: '0 9 ? * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 4, timezone: 'Europe/Berlin' },
    ];
    const targets = parseTargetsDocument(render(config as ConfigInput).document).targets;
    expect(target(targets, 'engine').plannedEvents).toEqual([
      { name: 'launch', start: '2026-06-01T14:00:00Z', end: '2026-06-01T16:00:00Z', multiplier: 2, leadMinutes: 30, cooldownMinutes: 20 },
    ]);
    expect(target(targets, 'engine').peakHours).toEqual([]);
    expect(target(targets, 'cpu-modules').peakHours).toEqual([
      { name: 'office', startCron: '0 9 ? * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 4, timezone: 'Europe/Berlin' },
    ]);
    expect(target(targets, 'cpu-modules').plannedEvents).toEqual([]);
  });

  it('renders EKS GPU node groups as eks-nodegroup targets', () => {
    const config = exampleConfig() as Mutable;
    config.eks = {
      clusterName: 'ml-prod',
      subnetIds: ['subnet-0a1b2c3d4e5f60718'],
      nodeGroups: [
        { name: 'gpu-g5', instanceTypes: ['g5.xlarge'], maxSize: 8, idleMinutes: 10 },
        { name: 'gpu-p5', instanceTypes: ['p5.48xlarge'], minSize: 1, maxSize: 2, desiredSize: 1, scaleToZero: false },
      ],
    };
    const { document } = render(config as ConfigInput);
    const targets = parseTargetsDocument(document).targets;
    const g5 = target(targets, 'gpu-g5');
    expect(g5).toMatchObject({ kind: 'eks-nodegroup', cluster: 'ml-prod', nodegroup: 'gpu-g5', pool: 'scale-to-zero', minCapacity: 0, maxCapacity: 8, idleMinutes: 10, emergencyEnabled: false });
    expect(g5.work).toMatchObject({ namespace: expect.any(String), metricName: expect.any(String) });
    expect(target(targets, 'gpu-p5')).toMatchObject({ kind: 'eks-nodegroup', pool: 'gpu-nodes', minCapacity: 1, maxCapacity: 2 });
    for (const raw of JSON.parse(JSON.stringify(document)).targets as Record<string, unknown>[]) expectRequiredFields(raw);
  });

  it('names the holds table and carries the emergency settings the handlers need (no side environment variables)', () => {
    const doc = documentFor(render().env);
    expect(doc).toMatchObject({ pipeline: 'pipestream', environment: 'production', holdsTable: 'pipestream-production-holds', emergency: { stableMinutes: 15, holdMinutes: 180 } });
  });

  it('gives GPU targets a GPU utilisation metric, so a job in flight with no lag is never scaled away', () => {
    const config = exampleConfig() as Mutable;
    config.eks = { clusterName: 'ml-prod', subnetIds: ['subnet-0a1b2c3d4e5f60718'], nodeGroups: [{ name: 'gpu-g5', instanceTypes: ['g5.xlarge'], maxSize: 8 }] };
    const targets = parseTargetsDocument(render(config as ConfigInput).document).targets;
    expect(target(targets, 'gpu-modules').gpuUtilization).toMatchObject({ namespace: 'Pipestream/GPU', metricName: 'GPUUtilization', dimensions: { Pool: 'gpu-modules' } });
    expect(target(targets, 'gpu-g5').gpuUtilization).toMatchObject({ namespace: 'Pipestream/GPU', dimensions: { NodeGroup: 'gpu-g5' } });
    expect(target(targets, 'engine').gpuUtilization).toBeUndefined();
  });
});
