import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { PAUSE_HOLDER } from '../../lambdas/core/holds';
import { CLUSTER, EKS, NOW_S, cli, expectNoAwsCalls, expectNothingChanged, expectOneLineError, lines, putHold, run, storedHolds, useFixtureAccount } from './harness';

const fake = useFixtureAccount();
const engine = () => fake().service(CLUSTER, 'engine');

describe('mlscale scale (ECS service)', () => {
  it('writes the manual hold, reconciles once, and says what changed (DESIGN.md first line)', async () => {
    const r = await cli('scale', 'engine', '--replicas', '6');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 6 replicas in namespace pipestream-production',
      "hold manual: floor 6 until 2026-12-02T11:00:00Z; 'mlscale release engine manual --config test/cli/fixtures/mlscale.json' ends it sooner",
      'min capacity raised from 2 to 6 (manual: mlscale scale --replicas 6 by alice)',
    ]);
    expect(storedHolds(fake(), 'engine')).toEqual([
      { target: 'engine', holder: 'manual', floor: 6, reason: 'mlscale scale --replicas 6 by alice', createdAt: NOW_S, expiresAt: NOW_S + 3600 },
    ]);
    expect(engine()).toMatchObject({ desired: 6, min: 6, max: 10, suspended: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    // The CLI wrote the hold; only the reconcile pass wrote capacity: limits first, then desired.
    expect(fake().changes().map((c) => c.call)).toEqual(['applicationautoscaling:registerScalableTarget', 'ecs:updateService']);
  });

  it('--for sets the end of the hold (up to 7d) and --min a floor below the replicas', async () => {
    const r = await cli('scale', 'engine', '--replicas', '6', '--min', '3', '--for', '4h30m');
    expect(r.code).toBe(0);
    expect(storedHolds(fake(), 'engine')[0]).toMatchObject({ floor: 3, expiresAt: NOW_S + 4.5 * 3600, reason: 'mlscale scale --replicas 6 --min 3 by alice' });
    expect(engine()).toMatchObject({ desired: 6, min: 3 });
    expect(lines(r.stdout)[1]).toBe("hold manual: floor 3 until 2026-12-02T14:30:00Z; 'mlscale release engine manual --config test/cli/fixtures/mlscale.json' ends it sooner");
  });

  it('leaves the user out of the reason when $USER is not set', async () => {
    vi.stubEnv('USER', '');
    await cli('scale', 'engine', '--replicas', '5');
    expect(storedHolds(fake(), 'engine')[0]!.reason).toBe('mlscale scale --replicas 5');
  });

  it('above max: warns, holds and asks for max, leaves max alone', async () => {
    const r = await cli('scale', 'engine', '--replicas', '15');
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('Warning: only scheduled 10 replicas (max capacity 10; use --raise-max to go up to the ceiling 20)');
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine scaled from 4 to 10 replicas in namespace pipestream-production');
    expect(storedHolds(fake(), 'engine')[0]).toMatchObject({ floor: 10 });
    expect(storedHolds(fake(), 'engine')[0]!.ceiling).toBeUndefined();
    expect(engine()).toMatchObject({ desired: 10, min: 10, max: 10 });
  });

  it('--raise-max goes above max with a ceiling on the hold, up to the emergency ceiling', async () => {
    const r = await cli('scale', 'engine', '--replicas', '15', '--raise-max');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 15 replicas in namespace pipestream-production',
      "hold manual: floor 15, ceiling 15 until 2026-12-02T11:00:00Z; 'mlscale release engine manual --config test/cli/fixtures/mlscale.json' ends it sooner",
      'min capacity raised from 2 to 15 (manual: mlscale scale --replicas 15 --raise-max by alice)',
      'max capacity raised from 10 to 15 (manual: mlscale scale --replicas 15 --raise-max by alice)',
    ]);
    expect(engine()).toMatchObject({ desired: 15, min: 15, max: 15 });
  });

  it('--raise-max above the emergency ceiling is an error before any AWS call', async () => {
    expectOneLineError(
      await cli('scale', 'engine', '--replicas', '21', '--raise-max'),
      'Error: --replicas 21 is above the emergency ceiling 20 of engine (--raise-max goes up to the ceiling, no further)',
    );
    expectNoAwsCalls(fake());
  });

  it('below the configured min: the floor cannot go under it, and it says so', async () => {
    const r = await cli('scale', 'engine', '--replicas', '1');
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('Warning: scheduled 2 replicas, not 1: min capacity is 2 (configured)');
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine scaled from 4 to 2 replicas in namespace pipestream-production');
    expect(engine()).toMatchObject({ desired: 2, min: 2 });
  });

  it('--replicas 0 writes the pause hold (every kind of scaling suspended), replaces a manual hold, desired 0', async () => {
    putHold(fake(), { target: 'engine', holder: 'manual', floor: 6, reason: 'earlier', createdAt: NOW_S - 60, expiresAt: NOW_S + 600 });
    const r = await cli('scale', 'engine', '--replicas', '0', '--for', '2h');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 0 replicas in namespace pipestream-production',
      "hold pause: suspends in,out,scheduled until 2026-12-02T12:00:00Z; 'mlscale resume engine --config test/cli/fixtures/mlscale.json' ends it sooner",
      'hold manual released (--replicas 0 replaces it)',
      'min capacity lowered from 2 to 0 (paused at 0; 2 (configured) applies on resume)',
      'suspension: scale-in suspended by pause; scale-out suspended by pause; scheduled scaling suspended by pause',
    ]);
    expect(storedHolds(fake(), 'engine')).toEqual([
      {
        target: 'engine',
        holder: PAUSE_HOLDER,
        suspendScaleIn: true,
        suspendScaleOut: true,
        suspendScheduled: true,
        reason: 'mlscale scale --replicas 0 by alice',
        createdAt: NOW_S,
        expiresAt: NOW_S + 7200,
      },
    ]);
    expect(engine()).toMatchObject({ desired: 0, min: 0, max: 10, suspended: { dynamicIn: true, dynamicOut: true, scheduled: true } });
  });

  it('scaling a paused target keeps the pause and says how to hand it back', async () => {
    putHold(fake(), { target: 'engine', holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'mlscale pause', createdAt: NOW_S - 60, expiresAt: NOW_S + 3600 });
    const r = await cli('scale', 'engine', '--replicas', '7');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toContain(
      "hold pause stays until 2026-12-02T11:00:00Z: nothing automatic moves desired; 'mlscale resume engine --config test/cli/fixtures/mlscale.json' hands it back to the autoscaler",
    );
    expect(engine()).toMatchObject({ desired: 7, suspended: { dynamicIn: true, dynamicOut: true, scheduled: true } });
  });

  it('prints one JSON document with -o json (warnings stay on stderr), YAML with -o yaml, the name with -o name', async () => {
    const json = await cli('scale', 'engine', '--replicas', '12', '-o', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'service',
      name: 'engine',
      namespace: CLUSTER,
      target: 'engine',
      from: 4,
      to: 10,
      requested: 12,
      hold: { holder: 'manual', floor: 10, ceiling: null, expiresAt: '2026-12-02T11:00:00Z' },
      minCapacity: { from: 2, to: 10 },
      maxCapacity: { from: 10, to: 10, ceiling: 20 },
      paused: false,
      holds: ['manual'],
      warnings: ['only scheduled 10 replicas (max capacity 10; use --raise-max to go up to the ceiling 20)'],
    });
    expect(json.stderr).toContain('Warning: only scheduled 10 replicas');
    const yaml = await cli('scale', 'engine', '--replicas', '5', '-o', 'yaml');
    // A new manual hold replaces the one before: floor 5 now.
    expect(parseYaml(yaml.stdout)).toMatchObject({ from: 10, to: 5, requested: 5, hold: { floor: 5 } });
    const name = await cli('scale', 'engine', '--replicas', '5', '-o', 'name');
    expect(name.stdout).toBe('service.mlscale/engine\n');
  });

  it('finds the namespace in the config when -n is not given, and takes -n, MLSCALE_NAMESPACE and service/NAME', async () => {
    expect((await cli('scale', 'service/engine', '--replicas', '5', '-n', CLUSTER)).code).toBe(0);
    vi.stubEnv('MLSCALE_NAMESPACE', CLUSTER);
    expect((await cli('scale', 'service', 'engine', '--replicas', '6')).code).toBe(0);
    expect(engine().desired).toBe(6);
    vi.stubEnv('MLSCALE_NAMESPACE', 'elsewhere');
    expectOneLineError(
      await cli('scale', 'engine', '--replicas', '6'),
      "Error: engine in namespace elsewhere is not managed by mlscale in production (mlscale manages engine in namespace pipestream-production; drop -n or see --env)",
    );
  });

  it('uses config/mlscale.json of the checkout when --config is not given', async () => {
    const r = await run('scale', 'engine', '--replicas', '5');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[1]).toBe("hold manual: floor 5 until 2026-12-02T11:00:00Z; 'mlscale release engine manual' ends it sooner");
  });

  it('--env picks the environment, and hints repeat it', async () => {
    fake().addService({ cluster: 'pipestream-staging', service: 'engine', desired: 1, min: 1, max: 4 });
    const r = await cli('scale', 'engine', '--replicas', '3', '--env', 'staging');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine scaled from 1 to 3 replicas in namespace pipestream-staging');
    expect(lines(r.stdout)[1]).toContain("'mlscale release engine manual --env staging --config test/cli/fixtures/mlscale.json'");
    expect(fake().table('pipestream-staging-holds').size).toBe(1);
  });
});

describe('mlscale scale (EKS node group)', () => {
  it('scales a node group through one UpdateNodegroupConfig, min raised with it', async () => {
    const r = await cli('scale', 'nodegroup/gpu-workers', '--replicas', '3');
    expect(r.code).toBe(0);
    expect(lines(r.stdout).slice(0, 3)).toEqual([
      'nodegroup.mlscale/gpu-workers scaled from 1 to 3 replicas in namespace ml-prod',
      "hold manual: floor 3 until 2026-12-02T11:00:00Z; 'mlscale release nodegroup/gpu-workers manual --config test/cli/fixtures/mlscale.json' ends it sooner",
      'min capacity raised from 0 to 3 (manual: mlscale scale --replicas 3 by alice)',
    ]);
    expect(fake().nodegroup(EKS, 'gpu-workers')).toMatchObject({ desired: 3, min: 3, max: 4 });
    expect(fake().changes().map((c) => c.call)).toEqual(['eks:updateNodegroupConfig']);
  });

  it('a bare NAME that only a node group has is that node group; TYPE NAME works too; above max is capped', async () => {
    expect((await cli('scale', 'gpu-workers', '--replicas', '2')).code).toBe(0);
    const r = await cli('scale', 'nodegroup', 'gpu-workers', '--replicas', '9');
    expect(r.stderr.trim()).toBe('Warning: only scheduled 4 replicas (max capacity 4; use --raise-max to go up to the ceiling 8)');
    expect(fake().nodegroup(EKS, 'gpu-workers')).toMatchObject({ desired: 4, min: 4 });
  });

  it('--replicas 0 pauses the group at zero', async () => {
    const r = await cli('scale', 'nodegroup/gpu-workers', '--replicas', '0');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('nodegroup.mlscale/gpu-workers scaled from 1 to 0 replicas in namespace ml-prod');
    expect(fake().nodegroup(EKS, 'gpu-workers')).toMatchObject({ desired: 0, min: 0 });
    expect(storedHolds(fake(), 'gpu-workers').map((h) => h.holder)).toEqual(['pause']);
  });
});

describe('mlscale scale: bad arguments change nothing and call nothing', () => {
  it.each([
    [['--replicas', '-1'], "Error: --replicas must be a whole number >= 0, got '-1'"],
    [['--replicas', '2.5'], "Error: --replicas must be a whole number >= 0, got '2.5'"],
    [['--replicas', 'abc'], "Error: --replicas must be a whole number >= 0, got 'abc'"],
    [['--replicas', '1e3'], "Error: --replicas must be a whole number >= 0, got '1e3'"],
    [['--replicas', ''], "Error: --replicas must be a whole number >= 0, got ''"],
    [['--replicas', '3', '--min', '5'], 'Error: --min 5 is above --replicas 3 (desired cannot be below min)'],
    [['--replicas', '3', '--min', '-2'], "Error: --min must be a whole number >= 0, got '-2'"],
    [['--replicas', '3', '--min', '1.5'], "Error: --min must be a whole number >= 0, got '1.5'"],
    [['--replicas', '3', '--for', '8d'], "Error: --for must be at most 7d (a hold always ends by itself), got '8d'"],
    [['--replicas', '3', '--for', 'forever'], "Error: --for must be a duration like 30m, 1h, 4h or 2d, got 'forever'"],
    [['--replicas', '3', '--for', '0m'], "Error: --for must be a duration like 30m, 1h, 4h or 2d, got '0m'"],
    [['--replicas', '3', '-n', 'bad namespace'], "Error: Invalid namespace 'bad namespace': letters, digits, '-' and '_' only"],
    [['--replicas', '3', '-o', 'xml'], /^Error: option '-o, --output <format>' argument 'xml' is invalid/],
    [['--replicas', '2', '--frobnicate'], /^Error: unknown option '--frobnicate'/],
    [[], "Error: required option '--replicas <count>' not specified"],
  ])('scale engine %j', async (args, message) => {
    expectOneLineError(await cli('scale', 'engine', ...args), message);
    expectNoAwsCalls(fake());
  });

  it('refuses a service or node group the config does not manage, before any AWS call', async () => {
    expectOneLineError(
      await cli('scale', 'engine2', '--replicas', '3'),
      'Error: engine2 is not managed by mlscale in production (managed: engine, cpu-modules, gpu-modules, nodegroup/gpu-workers, nodegroup/gpu-batch)',
    );
    expectOneLineError(await cli('scale', 'reranker', '--replicas', '3'), /^Error: reranker is not managed by mlscale in production/);
    expectOneLineError(await cli('scale', 'nodegroup/engine', '--replicas', '3'), /^Error: nodegroup\/engine is not managed by mlscale in production/);
    expectOneLineError(await cli('scale', 'pods/engine', '--replicas', '2'), "Error: Unknown resource kind 'pods' in 'pods/engine' (use service/NAME or nodegroup/NAME)");
    expectNoAwsCalls(fake());
  });

  it('says when a managed service is not there, writing no hold', async () => {
    fake().services.delete(`service/${CLUSTER}/engine`);
    expectOneLineError(await cli('scale', 'engine', '--replicas', '2'), "Error: Service 'engine' not found in namespace 'pipestream-production' (see: mlscale get services -A)");
    fake().nodegroups.delete(`${EKS}/gpu-workers`);
    expectOneLineError(await cli('scale', 'nodegroup/gpu-workers', '--replicas', '2'), "Error: Node group 'gpu-workers' not found in namespace 'ml-prod' (see: mlscale get nodegroups -A)");
    expectNothingChanged(fake());
  });
});

const ALL = { dynamicIn: true, dynamicOut: true, scheduled: true };
const NONE = { dynamicIn: false, dynamicOut: false, scheduled: false };

describe('mlscale pause', () => {
  it('writes the pause hold (4h by default): every kind of automatic scaling suspended, desired kept', async () => {
    const r = await cli('pause', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine paused in namespace pipestream-production: 4 replicas kept for 4h; nothing automatic moves them',
      "hold pause: suspends in,out,scheduled until 2026-12-02T14:00:00Z; 'mlscale resume engine --config test/cli/fixtures/mlscale.json' ends it sooner",
      'suspension: scale-in suspended by pause; scale-out suspended by pause; scheduled scaling suspended by pause',
    ]);
    expect(storedHolds(fake(), 'engine')).toEqual([
      { target: 'engine', holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'mlscale pause by alice', createdAt: NOW_S, expiresAt: NOW_S + 4 * 3600 },
    ]);
    expect(engine()).toMatchObject({ desired: 4, min: 2, max: 10, suspended: ALL });
    expect(fake().callsOf('ecs:updateService')).toHaveLength(0);
  });

  it('--for sets how long; a second pause extends it; -o json and -o name', async () => {
    await cli('pause', 'engine', '--for', '30m');
    expect(storedHolds(fake(), 'engine')[0]!.expiresAt).toBe(NOW_S + 1800);
    const json = await cli('pause', 'engine', '--for', '2h', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'engine', paused: true, replicas: 4, expiresAt: '2026-12-02T12:00:00Z', holds: ['pause'] });
    expect(storedHolds(fake(), 'engine')).toHaveLength(1);
    expect((await cli('pause', 'engine', '-o', 'name')).stdout).toBe('service.mlscale/engine\n');
  });

  it('rejects a bad --for and an unmanaged target before any AWS call', async () => {
    expectOneLineError(await cli('pause', 'engine', '--for', '2w'), "Error: --for must be a duration like 30m, 1h, 4h or 2d, got '2w'");
    expectOneLineError(await cli('pause', 'engine', '--for', '169h'), "Error: --for must be at most 7d (a hold always ends by itself), got '169h'");
    expectOneLineError(await cli('pause', 'reranker'), /^Error: reranker is not managed by mlscale in production/);
    expectNoAwsCalls(fake());
  });
});

describe('mlscale resume', () => {
  it('releases pause and manual, reconciles, and prints what the reconciler now holds', async () => {
    await cli('scale', 'engine', '--replicas', '6');
    await cli('pause', 'engine');
    expect(engine()).toMatchObject({ desired: 6, min: 6, suspended: ALL });
    const r = await cli('resume', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine resumed: min 2 max 10, desired left to the autoscaler (holds: none)',
      'released: pause, manual',
      'min capacity lowered from 6 to 2 (configured)',
      'suspension: nothing suspended (no hold asks)',
    ]);
    expect(storedHolds(fake(), 'engine')).toEqual([]);
    // A release never cuts desired: the autoscaler scales in from where it is.
    expect(engine()).toMatchObject({ desired: 6, min: 2, max: 10, suspended: NONE });
  });

  it('after --replicas 0, raises desired back to the minimum', async () => {
    await cli('scale', 'engine', '--replicas', '0');
    expect(engine().desired).toBe(0);
    const r = await cli('resume', 'engine');
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine resumed: min 2 max 10, desired 0 -> 2 (raised to the minimum) (holds: none)');
    expect(engine()).toMatchObject({ desired: 2, min: 2, suspended: NONE });
  });

  it("keeps other holders' holds, and names them", async () => {
    putHold(fake(), { target: 'engine', holder: 'emergency:inc-7', floor: 8, ceiling: 16, suspendScaleIn: true, reason: 'emergency', createdAt: NOW_S - 60, expiresAt: NOW_S + 3600 });
    await cli('pause', 'engine');
    const r = await cli('resume', 'engine', '-o', 'yaml');
    expect(parseYaml(r.stdout)).toMatchObject({ released: ['pause'], minCapacity: 8, maxCapacity: 16, holds: ['emergency:inc-7'] });
    expect(storedHolds(fake(), 'engine').map((h) => h.holder)).toEqual(['emergency:inc-7']);
    expect(engine()).toMatchObject({ min: 8, max: 16, suspended: { dynamicIn: true, dynamicOut: false, scheduled: false } });
  });

  it('says so when there was nothing to resume, and changes nothing', async () => {
    const r = await cli('resume', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['service.mlscale/engine was not paused or scaled by hand (no pause or manual hold): min 2 max 10, desired left to the autoscaler (holds: none)']);
    expect(fake().changes()).toEqual([]);
  });

  it('resumes a node group paused at zero', async () => {
    await cli('scale', 'nodegroup/gpu-workers', '--replicas', '0');
    const r = await cli('resume', 'gpu-workers');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('nodegroup.mlscale/gpu-workers resumed: min 0 max 4, desired left to the autoscaler (holds: none)');
    expect(storedHolds(fake(), 'gpu-workers')).toEqual([]);
  });
});
