import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { CLUSTER, NOW, NOW_S, cli, expectNoAwsCalls, expectNothingChanged, expectOneLineError, lines, putHold, storedHolds, useFixtureAccount } from './harness';

const fake = useFixtureAccount();

const manual = { target: 'engine', holder: 'manual', floor: 6, reason: 'mlscale scale --replicas 6 by alice', createdAt: NOW_S - 60, expiresAt: NOW_S + 3540 };
const emergency = {
  target: 'engine',
  holder: 'emergency:inc-1',
  floor: 8,
  ceiling: 16,
  suspendScaleIn: true,
  reason: 'emergency doubling (inc-1)',
  createdAt: NOW_S - 600,
  expiresAt: NOW_S + 3 * 3600,
};
const expired = { target: 'engine', holder: 'wake', floor: 1, reason: 'work pending', createdAt: NOW_S - 900, expiresAt: NOW_S - 300 };
const EVENT_REASON = 'planned event product-launch (2026-12-02T18:00:00Z to 2026-12-02T20:00:00Z, 30 min lead, 20 min cooldown)';

describe('mlscale holds NAME', () => {
  it('lists the stored holds and the config-derived ones starting within 24h, awk-friendly', async () => {
    putHold(fake(), manual);
    putHold(fake(), emergency);
    putHold(fake(), expired);
    const r = await cli('holds', 'engine');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'HOLDER                 FLOOR   CEILING   SUSPENDS   EXPIRES                        REASON',
      'emergency:inc-1        8       16        in         2026-12-02T13:00:00Z(3h)       emergency doubling (inc-1)',
      'manual                 6       -         -          2026-12-02T10:59:00Z(59m)      mlscale scale --replicas 6 by alice',
      `event:product-launch   9       -         -          2026-12-02T20:20:00Z(10h20m)   (config) (starts 2026-12-02T17:30:00Z, in 7h30m) ${EVENT_REASON}`,
    ]);
    // Every row has the same fields before REASON: awk '{print $5}' is EXPIRES.
    expect(lines(r.stdout).map((l) => l.split(/\s+/)[4])).toEqual(['EXPIRES', '2026-12-02T13:00:00Z(3h)', '2026-12-02T10:59:00Z(59m)', '2026-12-02T20:20:00Z(10h20m)']);
    expect(fake().callsOf('dynamodb:query')).toHaveLength(1);
    expectNothingChanged(fake());
  });

  it('shows expired holds with --all, and more columns with -o wide', async () => {
    putHold(fake(), expired);
    const all = await cli('holds', 'engine', '--all');
    expect(lines(all.stdout)[2]).toMatch(/^wake\s+1\s+-\s+-\s+2026-12-02T09:55:00Z\(expired\)\s+\(expired\) work pending$/);
    const wide = await cli('holds', 'engine', '-o', 'wide');
    expect(lines(wide.stdout)[0]!.split(/\s+/)).toEqual(['HOLDER', 'FLOOR', 'CEILING', 'SUSPENDS', 'EXPIRES', 'STARTS', 'CREATED', 'SOURCE', 'REASON']);
    expect(lines(wide.stdout)[1]!.split(/\s+/).slice(0, 8)).toEqual(['event:product-launch', '9', '-', '-', '2026-12-02T20:20:00Z(10h20m)', '2026-12-02T17:30:00Z', '2026-12-02T17:30:00Z', 'config']);
  });

  it('an active config hold (peak hours) is listed as active; one more than 24h away is not listed', async () => {
    const r = await cli('holds', 'cpu-modules');
    expect(lines(r.stdout)[1]).toMatch(/^peak-hours:office-hours\s+4\s+-\s+-\s+2026-12-02T18:00:00Z\(8h\)\s+\(config\) peak hours office-hours /);
    vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
    const early = await cli('holds', 'engine');
    expect(early.stdout).toBe('');
    expect(early.stderr.trim()).toBe('No holds on service.mlscale/engine (--all shows expired ones too).');
  });

  it('-o json and -o yaml print one document; -o name one hold per line', async () => {
    putHold(fake(), emergency);
    const json = JSON.parse((await cli('holds', 'engine', '-o', 'json')).stdout) as Record<string, unknown>[];
    expect(json).toEqual([
      {
        target: 'engine',
        holder: 'emergency:inc-1',
        source: 'table',
        state: 'active',
        floor: 8,
        ceiling: 16,
        suspends: { scaleIn: true, scaleOut: false, scheduled: false },
        reason: 'emergency doubling (inc-1)',
        createdAt: '2026-12-02T09:50:00Z',
        startsAt: '2026-12-02T09:50:00Z',
        expiresAt: '2026-12-02T13:00:00Z',
        remainingSeconds: 10800,
      },
      expect.objectContaining({ holder: 'event:product-launch', source: 'config', state: 'upcoming', floor: 9, startsAt: '2026-12-02T17:30:00Z' }),
    ]);
    const yaml = parseYaml((await cli('holds', 'engine', '-o', 'yaml')).stdout) as unknown[];
    expect(yaml).toEqual(json);
    expect((await cli('holds', 'engine', '-o', 'name')).stdout).toBe('hold.mlscale/engine/emergency:inc-1\nhold.mlscale/engine/event:product-launch\n');
  });
});

describe('mlscale holds (every target)', () => {
  it('adds a TARGET column, in config order, including holds on targets the config no longer has', async () => {
    putHold(fake(), manual);
    putHold(fake(), { target: 'gpu-workers', holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'mlscale pause', createdAt: NOW_S, expiresAt: NOW_S + 7200 });
    putHold(fake(), { target: 'old-pool', holder: 'manual', floor: 2, reason: 'before the rename', createdAt: NOW_S, expiresAt: NOW_S + 60 });
    const r = await cli('holds');
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.split(/\s+/).slice(0, 6).join(' '))).toEqual([
      'TARGET HOLDER FLOOR CEILING SUSPENDS EXPIRES',
      'engine manual 6 - - 2026-12-02T10:59:00Z(59m)',
      'engine event:product-launch 9 - - 2026-12-02T20:20:00Z(10h20m)',
      'cpu-modules peak-hours:office-hours 4 - - 2026-12-02T18:00:00Z(8h)',
      'gpu-workers pause - - in,out,scheduled 2026-12-02T12:00:00Z(2h)',
      'old-pool manual 2 - - 2026-12-02T10:01:00Z(1m)',
    ]);
    expect(fake().callsOf('dynamodb:scan')).toHaveLength(1);
  });

  it('says when the holds table is not there (stack not deployed)', async () => {
    fake().fail({ call: 'dynamodb:scan', error: 'ResourceNotFoundException', cause: 'Requested resource not found' });
    expectOneLineError(
      await cli('holds'),
      'Error: holds table pipestream-production-holds not found (is the MlscalePipestreamProduction stack deployed in this account and region? see --env)',
    );
  });
});

describe('mlscale release', () => {
  it('releases one hold and reconciles: limits back, desired not cut', async () => {
    await cli('scale', 'engine', '--replicas', '6');
    const r = await cli('release', 'engine', 'manual');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['service.mlscale/engine: hold manual released; min 2 max 10, desired left to the autoscaler (holds: none)']);
    expect(storedHolds(fake(), 'engine')).toEqual([]);
    expect(fake().service(CLUSTER, 'engine')).toMatchObject({ desired: 6, min: 2, max: 10 });
  });

  it('releases any holder, an expired one too, and prints documents', async () => {
    putHold(fake(), emergency);
    putHold(fake(), expired);
    const json = JSON.parse((await cli('release', 'engine', 'emergency:inc-1', '-o', 'json')).stdout);
    expect(json).toMatchObject({ target: 'engine', released: 'emergency:inc-1', expired: false, minCapacity: 2, maxCapacity: 10, holds: [] });
    const r = await cli('release', 'engine', 'wake');
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine: hold wake released (it had already expired); min 2 max 10, desired left to the autoscaler (holds: none)');
    expect(fake().table('pipestream-production-holds').size).toBe(0);
  });

  it('names the holders there are when the one asked for is not there, and changes nothing', async () => {
    putHold(fake(), emergency);
    expectOneLineError(await cli('release', 'engine', 'manual'), "Error: engine has no hold 'manual' (holds: emergency:inc-1, event:product-launch (config))");
    vi.setSystemTime(new Date(NOW.getTime() - 3 * 86_400_000));
    expectOneLineError(await cli('release', 'gpu-modules', 'pause'), "Error: gpu-modules has no hold 'pause' (holds: none)");
    expectNothingChanged(fake());
  });

  it('refuses to release a hold that comes from the config, and says why', async () => {
    expectOneLineError(
      await cli('release', 'engine', 'event:product-launch'),
      "Error: event:product-launch on engine comes from the config (plannedEvents 'product-launch' of test/cli/fixtures/mlscale.json): the reconciler derives it on every pass, so it cannot be released; change the config and deploy",
    );
    expectOneLineError(await cli('release', 'cpu-modules', 'peak-hours:office-hours'), /^Error: peak-hours:office-hours on cpu-modules comes from the config \(peakHours 'office-hours' of /);
    expectNothingChanged(fake());
  });

  it('rejects what is not a holder before any AWS call', async () => {
    expectOneLineError(
      await cli('release', 'engine', 'bob'),
      /^Error: 'bob' is not a holder \(holders: emergency:<name>, event:<name>, predictive, peak-hours:<name>, wake, .*manual, pause, rollout:<name>.*\)$/,
    );
    expectOneLineError(await cli('release', 'engine'), "Error: missing required argument 'holder'");
    expectNoAwsCalls(fake());
  });
});
