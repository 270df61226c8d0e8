import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { CLUSTER, EKS, NOW, NOW_S, cli, expectNothingChanged, expectOneLineError, lines, putHold, useFixtureAccount } from './harness';

const fake = useFixtureAccount();
const EVENT_REASON = 'planned event product-launch (2026-12-02T18:00:00Z to 2026-12-02T20:00:00Z, 30 min lead, 20 min cooldown)';

describe('mlscale describe', () => {
  it('reads like kubectl describe: config, what AWS has, holds, and the reconciler’s values with their reasons', async () => {
    putHold(fake(), { target: 'engine', holder: 'manual', floor: 6, reason: 'mlscale scale --replicas 6 by alice', createdAt: NOW_S - 60, expiresAt: NOW_S + 3540 });
    const r = await cli('describe', 'engine');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'Name:         engine',
      'Kind:         service (ECS service engine)',
      'Namespace:    pipestream-production',
      'Environment:  production (test/cli/fixtures/mlscale.json; holds table pipestream-production-holds)',
      'Pool:         always-on',
      'Configured:   min 2, max 10, emergency ceiling 20',
      'Observed:',
      '  Desired:    4 (running 4, pending 0)',
      '  Limits:     min 2, max 10',
      '  Suspension: none',
      '  Status:     ACTIVE',
      'Holds:',
      '  manual   floor 6   until 2026-12-02T10:59:00Z (59m left)   mlscale scale --replicas 6 by alice',
      'Upcoming (24h):',
      `  event:product-launch   floor 9   from 2026-12-02T17:30:00Z (in 7h30m) until 2026-12-02T20:20:00Z   (config) ${EVENT_REASON}`,
      'Alarms:',
      '  pipestream-production-engine-emergencyLatency   OK',
      'Reconciled:',
      '  Min:        6 (manual: mlscale scale --replicas 6 by alice)',
      '  Max:        10 (configured)',
      '  Suspension: nothing suspended (no hold asks)',
      '  Desired:    6 (raised to the minimum)',
      'In line:      no: the next reconcile pass would change min 2 -> 6, desired 4 -> 6',
    ]);
    // describe predicts with the pure reconcile(); it writes nothing.
    expectNothingChanged(fake());
    expect(fake().service(CLUSTER, 'engine')).toMatchObject({ desired: 4, min: 2 });
  });

  it('says a target is in line when the next pass would change nothing', async () => {
    const r = await cli('describe', 'cpu-modules');
    expect(lines(r.stdout)).toContain('Holds:');
    expect(lines(r.stdout)).toContain('  Min:        4 (peak-hours:office-hours: peak hours office-hours (0 8 ? * MON-FRI * to 0 18 ? * MON-FRI * UTC))');
    expect(lines(r.stdout).at(-1)).toBe('In line:      yes: the next reconcile pass changes nothing');
  });

  it('shows an active config hold under Holds during its window', async () => {
    vi.setSystemTime(new Date('2026-12-02T18:30:00Z'));
    const r = await cli('describe', 'engine');
    const out = lines(r.stdout);
    expect(out[out.indexOf('Holds:') + 1]).toBe(`  event:product-launch   floor 9   until 2026-12-02T20:20:00Z (1h50m left)   (config) ${EVENT_REASON}`);
    expect(out).toContain(`  Min:        9 (event:product-launch: ${EVENT_REASON})`);
    expect(out.at(-1)).toBe('In line:      no: the next reconcile pass would change min 2 -> 9, desired 4 -> 9');
  });

  it('explains a paused service with a suspended autoscaler', async () => {
    putHold(fake(), { target: 'engine', holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'mlscale pause by bob', createdAt: NOW_S, expiresAt: NOW_S + 7200 });
    const out = lines((await cli('describe', 'engine')).stdout);
    expect(out).toContain('  Suspension: scale-in suspended by pause; scale-out suspended by pause; scheduled scaling suspended by pause');
    expect(out).toContain('  Desired:    4 (paused: nothing automatic moves it)');
    expect(out.at(-1)).toBe('In line:      no: the next reconcile pass would change suspension none -> scale-in, scale-out, scheduled');
  });

  it('a scale-to-zero target: its work, the wake hold the next pass would write, and the wake-up', async () => {
    const gpu = fake().service(CLUSTER, 'gpu-modules');
    expect(gpu.desired).toBe(0);
    fake().setSeries({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'gpu-modules' }, statistic: 'Maximum' }, [0, 0, 0, 0, 12], NOW.getTime() - 60_000);
    const r = await cli('describe', 'gpu-modules');
    const out = lines(r.stdout);
    expect(out).toContain('Work:         work: 12 pending at 09:59Z');
    expect(out).toContain('Would write:  hold wake: floor 1 (work pending (12 pending at 09:59Z))');
    expect(out.at(-1)).toBe('In line:      no: the next reconcile pass would change min 0 -> 1, desired 0 -> 1');
    expectNothingChanged(fake());
  });

  it('a node group: no suspension switches, limits from EKS', async () => {
    const out = lines((await cli('describe', 'nodegroup/gpu-workers')).stdout);
    expect(out.slice(0, 3)).toEqual(['Name:         gpu-workers', 'Kind:         nodegroup (EKS managed node group gpu-workers)', 'Namespace:    ml-prod']);
    expect(out).toContain('  Suspension: - (node groups have no autoscaler switches)');
    expect(out).toContain('Configured:   min 0, max 4, emergency ceiling 8');
    expect(fake().nodegroup(EKS, 'gpu-workers').desired).toBe(1);
  });

  it('-o json and -o yaml give the same as one document; -o name the name', async () => {
    putHold(fake(), { target: 'engine', holder: 'emergency:inc-1', floor: 8, ceiling: 16, suspendScaleIn: true, reason: 'emergency doubling', createdAt: NOW_S - 60, expiresAt: NOW_S + 3600 });
    const json = JSON.parse((await cli('describe', 'engine', '-o', 'json')).stdout);
    expect(json).toMatchObject({
      name: 'engine',
      kind: 'service',
      namespace: CLUSTER,
      environment: 'production',
      holdsTable: 'pipestream-production-holds',
      configured: { min: 2, max: 10, ceiling: 20, scaleToZero: false },
      observed: { desired: 4, running: 4, pending: 0, min: 2, max: 10, registered: true, suspension: { scaleIn: false, scaleOut: false, scheduled: false }, status: 'ACTIVE' },
      alarms: { states: { 'pipestream-production-engine-emergencyLatency': 'OK' }, missing: [], inAlarm: false },
      reconciled: {
        min: 8,
        max: 16,
        desired: 8,
        suspension: { scaleIn: true, scaleOut: false, scheduled: false },
        paused: false,
        holds: ['emergency:inc-1'],
        why: { min: '8 (emergency:inc-1: emergency doubling)', max: '16 (emergency:inc-1: emergency doubling)', desired: '8 (raised to the minimum)' },
      },
      inLine: false,
      nextPass: ['min 2 -> 8', 'max 10 -> 16', 'suspension none -> scale-in', 'desired 4 -> 8'],
    });
    expect(json.holds.map((h: { holder: string; state: string }) => `${h.holder}:${h.state}`)).toEqual(['emergency:inc-1:active', 'event:product-launch:upcoming']);
    expect(parseYaml((await cli('describe', 'engine', '-o', 'yaml')).stdout)).toEqual(json);
    expect((await cli('describe', 'engine', '-o', 'name')).stdout).toBe('service.mlscale/engine\n');
  });

  it('keeps going when the alarms cannot be read, saying why in one line', async () => {
    fake().fail({ call: 'cloudwatch:describeAlarms', error: 'AccessDeniedException', cause: 'not authorized to perform: cloudwatch:DescribeAlarms' });
    const r = await cli('describe', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toContain('Alarms:       not read: Access denied: not authorized to perform: cloudwatch:DescribeAlarms');
  });

  it('fails in one line for an unmanaged or missing target', async () => {
    expectOneLineError(await cli('describe', 'reranker'), /^Error: reranker is not managed by mlscale in production \(managed: /);
    fake().services.delete(`service/${CLUSTER}/engine`);
    expectOneLineError(await cli('describe', 'engine'), "Error: Service 'engine' not found in namespace 'pipestream-production' (see: mlscale get services -A)");
  });
});
