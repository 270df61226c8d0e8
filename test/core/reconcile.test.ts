import { describe, expect, it } from 'vitest';
import { NOT_SUSPENDED, type Hold } from '../../lambdas/core/holds';
import { reconcile, type ConfiguredLimits, type ObservedLimits, type ReconcileInput } from '../../lambdas/core/reconcile';

const NOW = Date.parse('2026-12-02T10:00:30Z');
const S = NOW / 1000;
const CONFIGURED: ConfiguredLimits = { min: 2, max: 10, ceiling: 20, scaleToZero: false };
const AT_REST: ObservedLimits = { desired: 3, min: 2, max: 10, suspension: NOT_SUSPENDED, registered: true };

const hold = (h: Partial<Hold> & Pick<Hold, 'holder'>): Hold => ({ target: 'engine', reason: 'test', createdAt: S - 60, expiresAt: S + 600, ...h });

function run(over: Partial<ReconcileInput> = {}) {
  return reconcile({ configured: CONFIGURED, holds: [], observed: AT_REST, now: NOW, ...over });
}

describe('Function: reconcile', () => {
  it('changes nothing at rest: configured limits, no suspension, desired left alone', () => {
    const r = run();
    expect(r).toMatchObject({ min: 2, max: 10, desired: 3, suspension: NOT_SUSPENDED, paused: false, holds: [] });
    expect(r.changes).toEqual({ limits: false, desired: false });
    expect(r.why.min).toBe('2 (configured)');
  });

  it('raises min to the highest active floor and desired with it, naming the hold', () => {
    const r = run({ holds: [hold({ holder: 'event:launch', floor: 6, reason: 'planned launch' }), hold({ holder: 'emergency:e1', floor: 8, suspendScaleIn: true, reason: 'doubled 4 -> 8' })] });
    expect(r).toMatchObject({ min: 8, desired: 8, holds: ['event:launch', 'emergency:e1'] });
    expect(r.suspension.dynamicIn).toBe(true);
    expect(r.why.min).toBe('8 (emergency:e1: doubled 4 -> 8)');
    expect(r.why.suspension).toContain('scale-in suspended by emergency:e1');
    expect(r.changes).toEqual({ limits: true, desired: true });
  });

  it('raises max to a ceiling but never past the emergency ceiling, and max never below min', () => {
    expect(run({ holds: [hold({ holder: 'emergency:e1', ceiling: 14 })] }).max).toBe(14);
    const capped = run({ holds: [hold({ holder: 'emergency:e1', floor: 30, ceiling: 40 })] });
    expect(capped).toMatchObject({ min: 20, max: 20, desired: 20 });
    expect(capped.why.min).toContain('capped at the ceiling 20');
    // A floor above the configured max carries max with it.
    expect(run({ holds: [hold({ holder: 'event:big', floor: 12 })] })).toMatchObject({ min: 12, max: 12 });
  });

  it('ignores holds that have expired or not started yet', () => {
    const r = run({
      holds: [hold({ holder: 'event:old', floor: 9, expiresAt: S - 1 }), hold({ holder: 'peak-hours:morning', floor: 7, startsAt: S + 60 }), hold({ holder: 'manual', floor: 4, expiresAt: S })],
    });
    expect(r).toMatchObject({ min: 2, holds: [] });
  });

  it('restores the configured limits once holds are gone, without cutting desired within the configured max', () => {
    const raised: ObservedLimits = { desired: 8, min: 8, max: 16, suspension: { dynamicIn: true, dynamicOut: false, scheduled: false }, registered: true };
    const r = run({ observed: raised });
    expect(r).toMatchObject({ min: 2, max: 10, desired: 8, suspension: NOT_SUSPENDED });
    // Above the configured max, desired comes back within it (Application Auto Scaling would do the same).
    expect(run({ observed: { ...raised, desired: 16 } }).desired).toBe(10);
  });

  it('takes an idle scale-to-zero target to zero only with no floor and scale-in allowed', () => {
    const toZero = { configured: { min: 0, max: 5, ceiling: 5, scaleToZero: true }, observed: { desired: 2, min: 0, max: 5, suspension: NOT_SUSPENDED, registered: true } };
    const idle = { idle: true, reason: 'no work for 5 minutes' };
    expect(run({ ...toZero, idle })).toMatchObject({ desired: 0 });
    expect(run({ ...toZero, idle }).why.desired).toBe('0 (idle: no work for 5 minutes)');
    expect(run({ ...toZero, idle, holds: [hold({ holder: 'wake', floor: 1 })] }).desired).toBe(2);
    expect(run({ ...toZero, idle, holds: [hold({ holder: 'emergency:x', suspendScaleIn: true })] }).desired).toBe(2);
    expect(run({ ...toZero, idle: { idle: false, reason: 'work 3 at 09:58Z' } }).desired).toBe(2);
    // Not a scale-to-zero target: idleness changes nothing.
    expect(run({ idle }).desired).toBe(3);
  });

  it('wakes a target at zero through its wake floor', () => {
    const r = run({
      configured: { min: 0, max: 5, ceiling: 5, scaleToZero: true },
      observed: { desired: 0, min: 0, max: 5, suspension: NOT_SUSPENDED, registered: true },
      holds: [hold({ holder: 'wake', floor: 1, reason: 'work pending' })],
      idle: { idle: false, reason: 'work pending' },
    });
    expect(r).toMatchObject({ min: 1, desired: 1 });
  });

  it('while paused moves nothing: the limits bracket the desired the operator left', () => {
    const pause = hold({ holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true });
    const r = run({ holds: [pause], observed: { ...AT_REST, desired: 0 } });
    expect(r).toMatchObject({ paused: true, desired: 0, min: 0, max: 10 });
    expect(r.why.min).toContain('applies on resume');
    // A wake floor does not wake a paused target.
    expect(run({ holds: [pause, hold({ holder: 'wake', floor: 1 })], observed: { ...AT_REST, desired: 0 } }).desired).toBe(0);
  });

  it('applies a one-shot request within the limits, or anywhere up to the ceiling while paused', () => {
    expect(run({ request: { desired: 6, by: 'mlscale scale' } })).toMatchObject({ desired: 6, min: 2 });
    expect(run({ request: { desired: 30, by: 'mlscale scale' } }).desired).toBe(10);
    const r = run({ request: { desired: 1, by: 'mlscale scale' }, holds: [hold({ holder: 'manual', floor: 1 })] });
    expect(r.desired).toBe(2);
    expect(r.why.desired).toBe('2 (asked by mlscale scale, 1 kept within 2-10)');
    const paused = run({ request: { desired: 0, by: 'mlscale scale' }, holds: [hold({ holder: 'pause', suspendScaleIn: true, suspendScaleOut: true })] });
    expect(paused).toMatchObject({ desired: 0, min: 0, paused: true });
  });

  it('registers a target that has no scalable target', () => {
    expect(run({ observed: { ...AT_REST, registered: false } }).changes.limits).toBe(true);
  });
});
