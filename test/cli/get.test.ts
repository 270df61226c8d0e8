import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { CLUSTER, FIXTURE, NOW_S, cli, expectNothingChanged, expectOneLineError, lines, putHold, run, runWith, useFixtureAccount } from './harness';

const fake = useFixtureAccount();

describe('mlscale get services', () => {
  it('prints NAMESPACE NAME REPLICAS READY STATUS for the environment’s cluster when -n is not given', async () => {
    fake().service(CLUSTER, 'cpu-modules').running = 2;
    const r = await cli('get', 'services');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'NAMESPACE               NAME           REPLICAS   READY   STATUS',
      'pipestream-production   cpu-modules    4          2/4     Scaling',
      'pipestream-production   engine         4          4/4     Running',
      'pipestream-production   gpu-modules    0          0/0     Stopped',
      'pipestream-production   reranker       2          2/2     Paused',
      'pipestream-production   sidecar-free   1          1/1     Running',
    ]);
    expect(fake().callsOf('ecs:listServices').map((c) => c.input.cluster)).toEqual([CLUSTER]);
    expect(fake().callsOf('ecs:listClusters')).toHaveLength(0);
    expectNothingChanged(fake());
  });

  it('-o wide adds MIN, MAX and the active HOLDS of managed targets (- for none and for unmanaged)', async () => {
    putHold(fake(), { target: 'engine', holder: 'manual', floor: 6, reason: 'x', createdAt: NOW_S, expiresAt: NOW_S + 60 });
    putHold(fake(), { target: 'engine', holder: 'pause', suspendScaleIn: true, reason: 'x', createdAt: NOW_S, expiresAt: NOW_S + 60 });
    putHold(fake(), { target: 'engine', holder: 'wake', floor: 1, reason: 'expired', createdAt: NOW_S - 600, expiresAt: NOW_S - 60 });
    const r = await cli('get', 'svc', '-o', 'wide');
    expect(lines(r.stdout)).toEqual([
      'NAMESPACE               NAME           REPLICAS   READY   STATUS    MIN   MAX   HOLDS',
      'pipestream-production   cpu-modules    4          4/4     Running   4     20    peak-hours:office-hours',
      'pipestream-production   engine         4          4/4     Paused    2     10    manual,pause',
      'pipestream-production   gpu-modules    0          0/0     Stopped   0     5     -',
      'pipestream-production   reranker       2          2/2     Paused    1     4     -',
      'pipestream-production   sidecar-free   1          1/1     Running   -     -     -',
    ]);
    // One Scan for the holds of every managed target listed.
    expect(fake().callsOf('dynamodb:scan')).toHaveLength(1);
  });

  it('lists every ECS cluster with -A, and takes -n and MLSCALE_NAMESPACE', async () => {
    const all = await cli('get', 'services', '-A');
    expect(lines(all.stdout).slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual([
      'batch/scorer',
      `${CLUSTER}/cpu-modules`,
      `${CLUSTER}/engine`,
      `${CLUSTER}/gpu-modules`,
      `${CLUSTER}/reranker`,
      `${CLUSTER}/sidecar-free`,
    ]);
    expect(lines((await cli('get', 'services', '-n', 'batch')).stdout)[1]).toMatch(/^batch\s+scorer\s+1\s+1\/1\s+Running$/);
    vi.stubEnv('MLSCALE_NAMESPACE', 'batch');
    expect(lines((await cli('get', 'services')).stdout)).toHaveLength(2);
  });

  it('-o json / -o yaml print one array; -o name one resource per line', async () => {
    const rows = JSON.parse((await cli('get', 'services', '-o', 'json')).stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(5);
    expect(rows.find((x) => x.name === 'reranker')).toEqual({
      kind: 'service',
      namespace: CLUSTER,
      name: 'reranker',
      replicas: 2,
      ready: 2,
      pending: 0,
      status: 'Paused',
      paused: true,
      minCapacity: 1,
      maxCapacity: 4,
      suspended: { dynamicScalingIn: true, dynamicScalingOut: true, scheduledScaling: true },
      managed: false,
      target: null,
      holds: null,
    });
    expect(rows.find((x) => x.name === 'cpu-modules')).toMatchObject({ managed: true, target: 'cpu-modules', holds: ['peak-hours:office-hours'] });
    expect(parseYaml((await cli('get', 'services', '-o', 'yaml')).stdout)).toEqual(rows);
    expect((await cli('get', 'services', '-o', 'name')).stdout).toBe(
      ['cpu-modules', 'engine', 'gpu-modules', 'reranker', 'sidecar-free'].map((n) => `service.mlscale/${n}\n`).join(''),
    );
  });

  it('with no type lists services and node groups, each NAME with its kind', async () => {
    const r = await cli('get');
    expect(lines(r.stdout).map((l) => l.split(/\s+/)[1])).toEqual([
      'NAME',
      'service/cpu-modules',
      'service/engine',
      'service/gpu-modules',
      'service/reranker',
      'service/sidecar-free',
      'nodegroup/gpu-batch',
      'nodegroup/gpu-legacy',
      'nodegroup/gpu-workers',
    ]);
  });

  it('shows resources by name (TYPE NAME and TYPE/NAME), and the not-found line for a missing one', async () => {
    expect(lines((await cli('get', 'services', 'engine')).stdout)[1]).toMatch(/^pipestream-production\s+engine\s+4\s+4\/4\s+Running$/);
    const two = await cli('get', 'service/engine', 'nodegroup/gpu-workers');
    expect(lines(two.stdout).map((l) => l.split(/\s+/)[1])).toEqual(['NAME', 'service/engine', 'nodegroup/gpu-workers']);
    expectOneLineError(await cli('get', 'services', 'nope'), "Error: Service 'nope' not found in namespace 'pipestream-production' (see: mlscale get services -A)");
  });

  it('prints nothing on stdout and says so on stderr when there is nothing; an empty array as JSON', async () => {
    fake().addService({ cluster: 'empty', service: 'gone', desired: 0, min: 0, max: 1, status: 'INACTIVE' });
    const table = await cli('get', 'services', '-n', 'empty');
    expect(table.code).toBe(0);
    expect(table.stdout).toBe('');
    expect(table.stderr.trim()).toBe('No resources found in empty namespace.');
    expect(JSON.parse((await cli('get', 'services', '-n', 'empty', '-o', 'json')).stdout)).toEqual([]);
  });

  it('fails with one line for a namespace that does not exist', async () => {
    expectOneLineError(await cli('get', 'services', '-n', 'ghost'), "Error: Namespace 'ghost' not found (no ECS cluster of that name; see: mlscale get services -A)");
    expectOneLineError(await cli('get', 'nodegroups', '-n', 'ghost'), "Error: Namespace 'ghost' not found (no EKS cluster of that name; see: mlscale get nodegroups -A)");
  });

  it('still lists when the holds table is missing, with one warning on stderr', async () => {
    fake().fail({ call: 'dynamodb:scan', error: 'ResourceNotFoundException', cause: 'Requested resource not found' });
    const r = await cli('get', 'services', '-o', 'wide');
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toEqual([
      'Warning: holds table pipestream-production-holds not found (is the MlscalePipestreamProduction stack deployed in this account and region? see --env); holds not shown',
    ]);
    expect(lines(r.stdout)[2]).toMatch(/\s+engine\s+.*\s+-$/);
  });
});

describe('mlscale get nodegroups', () => {
  it('prints the node groups of the environment’s EKS cluster; Paused by a pause hold, Scaling while UPDATING', async () => {
    fake().nodegroup('ml-prod', 'gpu-legacy').status = 'UPDATING';
    putHold(fake(), { target: 'gpu-workers', holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'x', createdAt: NOW_S, expiresAt: NOW_S + 60 });
    const r = await cli('get', 'nodegroups', '-o', 'wide');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'NAMESPACE   NAME          REPLICAS   READY   STATUS    MIN   MAX   HOLDS',
      'ml-prod     gpu-batch     0          0/0     Stopped   0     8     -',
      'ml-prod     gpu-legacy    2          0/2     Scaling   2     2     -',
      'ml-prod     gpu-workers   1          1/1     Paused    0     4     pause',
    ]);
  });

  it('lists every EKS cluster with -A as JSON', async () => {
    fake().addNodegroup({ cluster: 'staging', nodegroup: 'gpu-small', desired: 1, min: 0, max: 2 });
    const rows = JSON.parse((await cli('get', 'ng', '-A', '-o', 'json')).stdout) as { namespace: string; name: string; kind: string }[];
    expect(rows.map((x) => `${x.namespace}/${x.name}`)).toEqual(['ml-prod/gpu-batch', 'ml-prod/gpu-legacy', 'ml-prod/gpu-workers', 'staging/gpu-small']);
    expect(rows.every((x) => x.kind === 'nodegroup')).toBe(true);
  });

  it('without -n needs the config to name an EKS cluster', async () => {
    // config/mlscale.json (the default) has no eks section.
    expectOneLineError(await run('get', 'nodegroups'), /^Error: production in config\/mlscale\.json has no EKS cluster \(no eks section\): give -n CLUSTER for node groups$/);
    expectOneLineError(await cli('get', 'nodegroups', 'nope'), "Error: Node group 'nope' not found in namespace 'ml-prod' (see: mlscale get nodegroups -A)");
  });
});

describe('mlscale get --watch', () => {
  it('prints the table again every --interval until the signal aborts (Ctrl-C in a terminal)', async () => {
    const controller = new AbortController();
    const engine = fake().service(CLUSTER, 'engine');
    // Between the frames the service moves; after the second frame's read, stop.
    const tick = setInterval(() => {
      const reads = fake().callsOf('ecs:describeServices').length;
      if (reads >= 1) engine.desired = 7;
      if (reads >= 2) controller.abort();
    }, 20);
    const started = Date.now();
    const r = await runWith({ signal: controller.signal }, 'get', 'services', 'engine', '--watch', '--interval', '1s', '--config', FIXTURE).finally(() => clearInterval(tick));
    expect(r.code).toBe(0);
    const tables = r.stdout.trimEnd().split('\n\n');
    expect(tables).toHaveLength(2);
    expect(lines(tables[0]!)).toEqual(['NAMESPACE               NAME     REPLICAS   READY   STATUS', 'pipestream-production   engine   4          4/4     Running']);
    expect(lines(tables[1]!)).toEqual(['NAMESPACE               NAME     REPLICAS   READY   STATUS', 'pipestream-production   engine   7          4/7     Scaling']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('-o json prints each frame as one document on one line', async () => {
    const controller = new AbortController();
    // Stop once the first frame has read the service: it prints, then the wait ends at once.
    fake().before('ecs:describeServices', async () => controller.abort());
    const r = await runWith({ signal: controller.signal }, 'get', 'services', 'engine', '-w', '-o', 'json', '--config', FIXTURE);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'engine', replicas: 4, managed: true })]);
  });

  it('rejects an --interval below 1s before any AWS call', async () => {
    expectOneLineError(await cli('get', 'services', '--watch', '--interval', '0'), "Error: --interval must be at least 1s, got '0'");
    expectOneLineError(await cli('get', 'services', '--watch', '--interval', '500ms'), "Error: --interval must be at least 1s, got '500ms'");
    expectOneLineError(await cli('get', 'services', '--watch', '--interval', 'soon'), "Error: --interval must be a duration like 2s, 5s or 1m, got 'soon'");
    expect(fake().calls).toEqual([]);
  });
});
