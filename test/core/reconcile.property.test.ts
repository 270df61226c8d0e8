/**
 * The promise of holds + reconciler, as properties over random interleavings
 * of hold writes, releases, expiries, an autoscaler moving desired, ticks that
 * crash between their two writes (limits, then desired), and ticks that never
 * run: whatever happened, once every hold has expired one tick restores the
 * configured state; no tick leaves min below an active floor (unless an
 * operator's pause is in force) or above the ceiling; no tick cuts desired except to bring it within max (or to zero for
 * an idle scale-to-zero target); and scale-to-zero never happens under a
 * floor or a suspension.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isActive, NOT_SUSPENDED, type Hold, type Suspension } from '../../lambdas/core/holds';
import { reconcile, type ConfiguredLimits } from '../../lambdas/core/reconcile';

interface Observed {
  desired: number;
  min: number;
  max: number;
  suspension: Suspension;
}

type Op =
  | { op: 'write'; holder: string; floor?: number; ceiling?: number; suspendIn: boolean; suspendOut: boolean; minutes: number }
  | { op: 'release'; holder: string }
  | { op: 'advance'; minutes: number }
  | { op: 'tick' }
  | { op: 'crashedTick' }
  | { op: 'autoscaler'; to: number };

const HOLDERS = ['emergency:e1', 'emergency:e2', 'event:launch', 'event:sale', 'predictive', 'peak-hours:am', 'wake', 'manual', 'pause', 'rollout:r1'];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('write' as const),
    holder: fc.constantFrom(...HOLDERS),
    floor: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    ceiling: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    suspendIn: fc.boolean(),
    suspendOut: fc.boolean(),
    minutes: fc.integer({ min: 1, max: 240 }),
  }),
  fc.record({ op: fc.constant('release' as const), holder: fc.constantFrom(...HOLDERS) }),
  fc.record({ op: fc.constant('advance' as const), minutes: fc.integer({ min: 0, max: 180 }) }),
  fc.constant({ op: 'tick' as const }),
  fc.constant({ op: 'crashedTick' as const }),
  fc.record({ op: fc.constant('autoscaler' as const), to: fc.integer({ min: 0, max: 40 }) }),
);

const configuredArb: fc.Arbitrary<ConfiguredLimits> = fc.oneof(
  fc.constant({ min: 2, max: 10, ceiling: 20, scaleToZero: false }),
  fc.constant({ min: 0, max: 5, ceiling: 5, scaleToZero: true }),
  fc.constant({ min: 1, max: 20, ceiling: 40, scaleToZero: false }),
);

const START = Date.parse('2026-12-02T00:00:00Z');

function simulate(configured: ConfiguredLimits, ops: readonly Op[], idle: boolean) {
  let now = START;
  const holds = new Map<string, Hold>();
  const observed: Observed = { desired: Math.max(configured.min, 1), min: configured.min, max: configured.max, suspension: NOT_SUSPENDED };
  const ceiling = Math.max(configured.ceiling, configured.max);

  const tick = (crash: boolean) => {
    const before = { ...observed };
    const active = [...holds.values()].filter((h) => isActive(h, now));
    const r = reconcile({ configured, holds: [...holds.values()], observed: { ...observed, registered: true }, now, idle: { idle, reason: 'test' } });
    // Limits land first; a crash before the desired write leaves desired as it was.
    observed.min = r.min;
    observed.max = r.max;
    observed.suspension = r.suspension;
    if (!crash) observed.desired = r.desired;
    if (crash) return;

    const floor = Math.max(0, ...active.map((h) => h.floor ?? 0));
    if (!r.paused) {
      // A pause beats every floor (nothing automatic moves desired); otherwise no floor is undercut.
      expect(r.min).toBeGreaterThanOrEqual(Math.min(floor, ceiling));
      expect(r.min).toBeGreaterThanOrEqual(configured.min);
    }
    expect(r.max).toBeLessThanOrEqual(ceiling);
    expect(r.min).toBeLessThanOrEqual(r.max);
    if (!r.paused) expect(r.desired).toBeGreaterThanOrEqual(r.min);
    expect(r.desired).toBeLessThanOrEqual(r.max);
    if (r.desired < before.desired) {
      // Only two reasons to lower desired: back within max, or an idle scale-to-zero target going to zero.
      const toZero = r.desired === 0 && configured.scaleToZero && idle;
      expect(toZero || r.desired === r.max).toBe(true);
      if (toZero && before.desired > 0) {
        expect(floor).toBe(0);
        expect(r.suspension.dynamicIn).toBe(false);
      }
    }
  };

  for (const o of ops) {
    switch (o.op) {
      case 'write': {
        const s = Math.floor(now / 1000);
        const pause = o.holder === 'pause';
        holds.set(o.holder, {
          target: 't',
          holder: o.holder,
          reason: 'property',
          createdAt: s,
          expiresAt: s + o.minutes * 60,
          ...(o.floor !== undefined && !pause ? { floor: o.floor } : {}),
          ...(o.ceiling !== undefined && !pause ? { ceiling: Math.max(o.ceiling, o.floor ?? 0) } : {}),
          ...(o.suspendIn || pause ? { suspendScaleIn: true } : {}),
          ...(o.suspendOut || pause ? { suspendScaleOut: true } : {}),
        });
        break;
      }
      case 'release':
        holds.delete(o.holder);
        break;
      case 'advance':
        now += o.minutes * 60_000;
        break;
      case 'tick':
        tick(false);
        break;
      case 'crashedTick':
        tick(true);
        break;
      case 'autoscaler': {
        // Target tracking moves desired within the registered limits, in the directions not suspended.
        const to = Math.min(observed.max, Math.max(observed.min, o.to));
        if ((to > observed.desired && !observed.suspension.dynamicOut) || (to < observed.desired && !observed.suspension.dynamicIn)) observed.desired = to;
        break;
      }
    }
  }

  // Every hold expires; whatever state the interleaving left, one tick restores the configured one.
  const last = Math.max(0, ...[...holds.values()].map((h) => h.expiresAt));
  now = Math.max(now, last * 1000);
  tick(false);
  expect({ min: observed.min, max: observed.max, suspension: observed.suspension }).toEqual({ min: configured.min, max: configured.max, suspension: NOT_SUSPENDED });
  expect(observed.desired).toBeGreaterThanOrEqual(configured.min);
  expect(observed.desired).toBeLessThanOrEqual(configured.max);
}

describe('Property: holds and the reconciler', () => {
  it('keeps its invariants under any interleaving and restores the configured state once every hold has expired', () => {
    fc.assert(
      fc.property(configuredArb, fc.array(opArb, { maxLength: 60 }), fc.boolean(), (configured, ops, idle) => simulate(configured, ops, idle)),
      { numRuns: 400 },
    );
  });

  it('a tick that never runs is repaired by the next one', () => {
    fc.assert(
      fc.property(configuredArb, fc.array(opArb, { maxLength: 40 }), (configured, ops) => {
        // Drop every tick: the state drifts; the one final tick after expiry still restores it.
        simulate(configured, ops.filter((o) => o.op !== 'tick'), false);
      }),
      { numRuns: 200 },
    );
  });
});
