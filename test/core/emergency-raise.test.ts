import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { doublingRaise, emergencyHold, incidentClaim, incidentIdFor, incidentOf, openIncident } from '../../lambdas/core/emergency-raise';
import type { Hold } from '../../lambdas/core/holds';

const NOW = Date.parse('2026-12-02T10:15:42Z');
const S = NOW / 1000;

describe('Function: doublingRaise', () => {
  it('doubles desired and lets max rise only as far as the raise', () => {
    expect(doublingRaise(4, 10, 20)).toMatchObject({ from: 4, floor: 8, ceiling: 10, atCeiling: false, reason: 'doubled 4 -> 8' });
    expect(doublingRaise(7, 10, 20)).toMatchObject({ floor: 14, ceiling: 14 });
  });

  it('goes from 0 to 1, rounds fractions up and adds at least one', () => {
    expect(doublingRaise(0, 5, 10).floor).toBe(1);
    expect(doublingRaise(1, 5, 10).floor).toBe(2);
  });

  it('caps the raise at the emergency ceiling and says so', () => {
    const r = doublingRaise(12, 10, 20);
    expect(r).toMatchObject({ floor: 20, ceiling: 20, atCeiling: true });
    expect(r.reason).toContain('capped at the emergency ceiling 20');
  });

  it('holds what runs when it is already at or above the ceiling, lowering nothing', () => {
    expect(doublingRaise(25, 10, 20)).toMatchObject({ floor: 25, ceiling: 25, atCeiling: true, reason: expect.stringContaining('already at or above') });
  });

  it('rejects a ceiling that is not a positive integer', () => {
    expect(() => doublingRaise(2, 10, 0)).toThrow(/positive integer, got 0/);
  });

  it('keeps floor within [desired, max(desired, ceiling)] and ceiling >= both floor and configured max (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 60 }), (desired, max, extra) => {
        const ceiling = max + extra;
        const r = doublingRaise(desired, max, ceiling);
        expect(r.floor).toBeGreaterThanOrEqual(desired);
        expect(r.floor).toBeLessThanOrEqual(Math.max(desired, ceiling));
        expect(r.ceiling).toBeGreaterThanOrEqual(Math.max(r.floor, max));
        if (desired < ceiling) expect(r.floor).toBe(Math.min(ceiling, Math.max(desired + 1, Math.ceil(2 * desired))));
      }),
    );
  });
});

describe('Function: emergencyHold', () => {
  it('is one hold per incident: floor, ceiling, scale-in suspended, ending by itself', () => {
    const h = emergencyHold('engine', 'engine-20261202-1015', doublingRaise(4, 10, 20), NOW, 195);
    expect(h).toEqual({
      target: 'engine',
      holder: 'emergency:engine-20261202-1015',
      floor: 8,
      ceiling: 10,
      suspendScaleIn: true,
      reason: 'incident engine-20261202-1015: doubled 4 -> 8',
      createdAt: Math.floor(S),
      expiresAt: Math.floor(S) + 195 * 60,
    });
  });
});

describe('Function: openIncident', () => {
  const hold = (holder: string, createdAt: number, expiresAt = S + 600): Hold => ({ target: 'engine', holder, reason: 'r', createdAt, expiresAt });

  it('finds the oldest active emergency hold and ignores other holders and expired incidents', () => {
    const holds = [hold('manual', S - 900), hold('emergency:b', S - 60), hold('emergency:a', S - 120), hold('emergency:old', S - 9000, S - 1)];
    expect(openIncident(holds, NOW)?.holder).toBe('emergency:a');
    expect(openIncident([hold('event:x', S - 60)], NOW)).toBeUndefined();
    expect(incidentOf('emergency:engine-20261202-1015')).toBe('engine-20261202-1015');
  });
});

describe('Function: incidentIdFor', () => {
  it('names the target and the UTC opening minute, so triggers within one minute are one incident', () => {
    expect(incidentIdFor('engine', new Date(NOW))).toBe('engine-20261202-1015');
    expect(incidentIdFor('engine', new Date(NOW + 10_000))).toBe('engine-20261202-1015');
  });
});

describe('Function: incidentClaim (one incident, one hold)', () => {
  const hold = (incident: string, expiresAt: number, createdAt = S - 60): Hold => ({
    target: 'engine',
    holder: `emergency:${incident}`,
    floor: 8,
    ceiling: 8,
    suspendScaleIn: true,
    reason: `incident ${incident}`,
    createdAt,
    expiresAt,
  });

  it('nothing open: a new incident', () => {
    expect(incidentClaim([], 'engine-1015', NOW)).toEqual({ kind: 'new' });
    // An expired hold of the same or another incident counts as gone.
    expect(incidentClaim([hold('engine-0900', S - 1), hold('engine-1015', S - 1)], 'engine-1015', NOW)).toEqual({ kind: 'new' });
  });

  it('its own active hold: a retry of the same incident, which gets its hold back', () => {
    const mine = hold('engine-1015', S + 3600);
    expect(incidentClaim([mine], 'engine-1015', NOW)).toEqual({ kind: 'retry', mine });
  });

  it("another incident's active hold: nothing is opened, whoever holds it", () => {
    const other = hold('engine-1000', S + 3600);
    expect(incidentClaim([other], 'engine-1015', NOW)).toEqual({ kind: 'other-open', open: other });
    // Both there (a race left two): the oldest is the open incident, and it is not ours.
    const mine = hold('engine-1015', S + 3600, S - 10);
    expect(incidentClaim([mine, other], 'engine-1015', NOW)).toEqual({ kind: 'other-open', open: other });
  });
});
