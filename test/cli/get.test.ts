import { DescribeServicesCommand, ListClustersCommand as ListEcsClustersCommand, ListServicesCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { ALL, ecs, expectNothingChanged, expectOneLineError, lines, nodegroup, resetAws, run, service, target, world } from './harness';

const saved = { ...retryPolicy };
beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
afterAll(() => configureRetries(saved));
beforeEach(() => {
  resetAws();
  world.ecs = {
    pipestream: [
      service('engine', 3),
      service('cpu-modules', 4, 2, { pendingCount: 2 }),
      service('embedder', 0, 0),
      service('reranker', 2),
    ],
    batch: [service('scorer', 1)],
  };
  world.targets = [
    target('pipestream', 'engine', 2, 10),
    target('pipestream', 'cpu-modules', 1, 20),
    target('pipestream', 'embedder', 0, 5),
    target('pipestream', 'reranker', 1, 4, ALL),
  ];
  world.eks = {
    'ml-prod': [
      nodegroup('ml-prod', 'gpu-workers', 0, 2, 4),
      nodegroup('ml-prod', 'gpu-batch', 0, 0, 4),
      nodegroup('ml-prod', 'gpu-paused', 0, 1, 4, { tags: { 'mlscale:paused': 'true' } }),
      nodegroup('ml-prod', 'gpu-updating', 0, 3, 8, { status: 'UPDATING' }),
    ],
  };
});

describe('mlscale get services', () => {
  it('prints NAMESPACE NAME REPLICAS READY STATUS for one namespace, READY as running/desired', async () => {
    const r = await run('get', 'services', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'NAMESPACE    NAME          REPLICAS   READY   STATUS',
      'pipestream   cpu-modules   4          2/4     Scaling',
      'pipestream   embedder      0          0/0     Stopped',
      'pipestream   engine        3          3/3     Running',
      'pipestream   reranker      2          2/2     Paused',
    ]);
    expect(ecs).toHaveReceivedCommandWith(ListServicesCommand, { cluster: 'pipestream' });
    expect(ecs).not.toHaveReceivedCommand(ListEcsClustersCommand);
    expectNothingChanged();
  });

  it('lists every ECS cluster with -A', async () => {
    const r = await run('get', 'svc', '-A');
    expect(r.code).toBe(0);
    const rows = lines(r.stdout).slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'));
    expect(rows).toEqual(['batch/scorer', 'pipestream/cpu-modules', 'pipestream/embedder', 'pipestream/engine', 'pipestream/reranker']);
    expect(ecs).toHaveReceivedCommand(ListEcsClustersCommand);
  });

  it('uses the namespace `default` when -n is not given', async () => {
    world.ecs.default = [service('api', 2)];
    const r = await run('get', 'services');
    expect(lines(r.stdout)).toEqual(['NAMESPACE   NAME   REPLICAS   READY   STATUS', 'default     api    2          2/2     Running']);
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'default', services: ['api'] });
  });

  it('prints one JSON array with -o json', async () => {
    const r = await run('get', 'services', '-n', 'pipestream', '-o', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(4);
    expect(rows.find((x) => x.name === 'reranker')).toMatchObject({
      kind: 'service',
      namespace: 'pipestream',
      replicas: 2,
      ready: 2,
      status: 'Paused',
      paused: true,
      minCapacity: 1,
      maxCapacity: 4,
      suspended: { dynamicScalingIn: true, dynamicScalingOut: true, scheduledScaling: true },
    });
    expect(rows.find((x) => x.name === 'cpu-modules')).toMatchObject({ replicas: 4, ready: 2, pending: 2, status: 'Scaling' });
  });

  it('prints an empty array and no table when there is nothing', async () => {
    world.ecs.empty = [];
    const json = await run('get', 'services', '-n', 'empty', '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual([]);
    const table = await run('get', 'services', '-n', 'empty');
    expect(table.code).toBe(0);
    expect(table.stdout).toBe('');
    expect(table.stderr.trim()).toBe('No resources found in empty namespace.');
  });

  it('shows one service by name, and fails with the not-found line for a missing one', async () => {
    const one = await run('get', 'services', 'engine', '-n', 'pipestream');
    expect(lines(one.stdout)[1]).toMatch(/^pipestream\s+engine\s+3\s+3\/3\s+Running$/);
    const missing = await run('get', 'services', 'nope', '-n', 'pipestream');
    expectOneLineError(missing, "Error: Service 'nope' not found in namespace 'pipestream' (see: mlscale get services -A)");
  });

  it('fails with one line for a namespace that does not exist', async () => {
    const r = await run('get', 'services', '-n', 'ghost');
    expectOneLineError(r, /^Error: Namespace 'ghost' not found .*mlscale get services -A\)$/);
  });
});

describe('mlscale get nodegroups', () => {
  it('prints the node groups of an EKS cluster, paused by tag, scaling while UPDATING', async () => {
    const r = await run('get', 'nodegroups', '-n', 'ml-prod');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'NAMESPACE   NAME           REPLICAS   READY   STATUS',
      'ml-prod     gpu-batch      0          0/0     Stopped',
      'ml-prod     gpu-paused     1          1/1     Paused',
      'ml-prod     gpu-updating   3          0/3     Scaling',
      'ml-prod     gpu-workers    2          2/2     Running',
    ]);
  });

  it('lists every EKS cluster with -A and prints JSON', async () => {
    world.eks.staging = [nodegroup('staging', 'gpu-small', 0, 1, 2)];
    const r = await run('get', 'ng', '-A', '-o', 'json');
    const rows = JSON.parse(r.stdout) as { namespace: string; name: string; kind: string }[];
    expect(rows.map((x) => `${x.namespace}/${x.name}`)).toEqual([
      'ml-prod/gpu-batch',
      'ml-prod/gpu-paused',
      'ml-prod/gpu-updating',
      'ml-prod/gpu-workers',
      'staging/gpu-small',
    ]);
    expect(rows.every((x) => x.kind === 'nodegroup')).toBe(true);
  });

  it('fails with the node-group not-found line', async () => {
    const r = await run('get', 'nodegroups', 'nope', '-n', 'ml-prod');
    expectOneLineError(r, "Error: Node group 'nope' not found in namespace 'ml-prod' (see: mlscale get nodegroups -A)");
  });
});
