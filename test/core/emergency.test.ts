import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  incidentIdFor,
  incidentSuspension,
  NOT_SUSPENDED,
  planEmergency,
  planResume,
  type Capacity,
  type IncidentRecord,
  type Suspension,
} from '../../lambdas/core/emergency';

describe('Function: planEmergency', () => {
  it('doubles desired capacity, raises min to it and max to the ceiling', () => {
    const plan = planEmergency({ desired: 3, min: 2, max: 10 }, 20);
    expect(plan.after).toEqual({ desired: 6, min: 6, max: 20 });
    expect(plan.before).toEqual({ desired: 3, min: 2, max: 10 });
    expect(plan.atCeiling).toBe(false);
    expect(plan.reason).toBe('doubled 3 -> 6');
  });

  it('rounds a fractional doubling up', () => {
    expect(planEmergency({ desired: 2.5, min: 1, max: 10 }, 20).after.desired).toBe(5);
    expect(planEmergency({ desired: 1.2, min: 1, max: 10 }, 20).after.desired).toBe(3);
  });

  it('goes from 0 to 1', () => {
    const plan = planEmergency({ desired: 0, min: 0, max: 5 }, 10);
    expect(plan.after).toEqual({ desired: 1, min: 1, max: 10 });
    expect(plan.reason).toBe('doubled 0 -> 1');
  });

  it('caps the doubling at the emergency ceiling', () => {
    const plan = planEmergency({ desired: 7, min: 2, max: 10 }, 12);
    expect(plan.after).toEqual({ desired: 12, min: 12, max: 12 });
    expect(plan.atCeiling).toBe(true);
    expect(plan.reason).toContain('capped at the emergency ceiling 12');
  });

  it('raises max to the ceiling so scale-out can go on, and never lowers it', () => {
    expect(planEmergency({ desired: 4, min: 2, max: 10 }, 20).after.max).toBe(20);
    expect(planEmergency({ desired: 4, min: 2, max: 30 }, 20).after.max).toBe(30);
  });

  it('keeps max at least desired when desired is already above max and the ceiling', () => {
    const plan = planEmergency({ desired: 15, min: 3, max: 10 }, 12);
    expect(plan.after).toEqual({ desired: 15, min: 15, max: 15 });
  });

  it('raises min to the new desired even when the ceiling caps it', () => {
    expect(planEmergency({ desired: 2, min: 2, max: 10 }, 3).after).toEqual({ desired: 3, min: 3, max: 10 });
    expect(planEmergency({ desired: 5, min: 5, max: 10 }, 6).after).toEqual({ desired: 6, min: 6, max: 10 });
  });

  it('holds at the ceiling and says so', () => {
    const plan = planEmergency({ desired: 12, min: 2, max: 12 }, 12);
    expect(plan.after).toEqual({ desired: 12, min: 12, max: 12 });
    expect(plan.atCeiling).toBe(true);
    expect(plan.reason).toContain('already at or above the emergency ceiling 12');
  });

  it('holds above the ceiling without lowering anything', () => {
    const plan = planEmergency({ desired: 15, min: 3, max: 16 }, 12);
    expect(plan.after).toEqual({ desired: 15, min: 15, max: 16 });
    expect(plan.atCeiling).toBe(true);
  });

  it.each([0, -1, 2.5, Number.NaN])('rejects the ceiling %s', (ceiling) => {
    expect(() => planEmergency({ desired: 1, min: 1, max: 2 }, ceiling)).toThrow(/emergency ceiling must be a positive integer/);
  });
});

const capacityArb: fc.Arbitrary<Capacity> = fc
  .tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 60 }))
  .map(([a, b, max]) => ({ min: Math.min(a, b), desired: Math.max(a, b), max }));

describe('Function: planEmergency (properties)', () => {
  it('keeps desired within [before.desired, max(before.desired, ceiling)]', () => {
    fc.assert(
      fc.property(capacityArb, fc.integer({ min: 1, max: 80 }), (before, ceiling) => {
        const { after } = planEmergency(before, ceiling);
        expect(after.desired).toBeGreaterThanOrEqual(before.desired);
        expect(after.desired).toBeLessThanOrEqual(Math.max(before.desired, ceiling));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves min <= desired <= max', () => {
    fc.assert(
      fc.property(capacityArb, fc.integer({ min: 1, max: 80 }), (before, ceiling) => {
        const { after } = planEmergency(before, ceiling);
        expect(after.min).toBeLessThanOrEqual(after.desired);
        expect(after.desired).toBeLessThanOrEqual(after.max);
      }),
      { numRuns: 500 },
    );
  });

  it('doubles (at least +1) whenever the ceiling leaves room, and raises max to the ceiling', () => {
    fc.assert(
      fc.property(capacityArb, fc.integer({ min: 1, max: 80 }), (before, ceiling) => {
        const plan = planEmergency(before, ceiling);
        const doubled = Math.max(Math.ceil(before.desired * 2), before.desired + 1);
        if (doubled <= ceiling) expect(plan.after.desired).toBe(doubled);
        expect(plan.atCeiling).toBe(plan.after.desired >= ceiling);
        expect(plan.after.min).toBeGreaterThanOrEqual(before.min);
        expect(plan.after.max).toBe(Math.max(before.max, ceiling, plan.after.desired));
      }),
      { numRuns: 500 },
    );
  });
});

describe('Function: incidentSuspension', () => {
  it('suspends scale-in and scheduled scaling, keeps scale-out as it was', () => {
    expect(incidentSuspension(NOT_SUSPENDED)).toEqual({ dynamicIn: true, dynamicOut: false, scheduled: true });
    expect(incidentSuspension({ dynamicIn: false, dynamicOut: true, scheduled: false })).toEqual({ dynamicIn: true, dynamicOut: true, scheduled: true });
  });
});

describe('Function: planResume', () => {
  const suspension: Suspension = { dynamicIn: false, dynamicOut: true, scheduled: false };
  const record: IncidentRecord = {
    target: 'engine',
    incidentId: 'engine-20260601-1200',
    status: 'open',
    openedAt: '2026-06-01T12:00:00.000Z',
    trigger: 'alarm',
    before: { desired: 3, min: 2, max: 10, suspension, registered: true },
    after: { desired: 6, min: 6, max: 10 },
  };

  it('restores exactly the recorded limits and switches, desired only on request', () => {
    expect(planResume(record, false)).toEqual({ capacity: { desired: 3, min: 2, max: 10 }, suspension, setDesired: false });
    expect(planResume(record, true).setDesired).toBe(true);
  });

  it('ignores the raised values of the incident', () => {
    const plan = planResume({ ...record, after: { desired: 20, min: 20, max: 20 } }, true);
    expect(plan.capacity).toEqual({ desired: 3, min: 2, max: 10 });
  });
});

describe('Function: incidentIdFor', () => {
  it('names the target and the UTC opening second', () => {
    expect(incidentIdFor('engine', new Date('2026-03-29T01:30:45.123Z'))).toBe('engine-20260329-013045');
  });

  it('tells apart incidents opened in the same minute', () => {
    const a = incidentIdFor('x', new Date('2026-06-01T12:00:00Z'));
    expect(incidentIdFor('x', new Date('2026-06-01T12:00:00.900Z'))).toBe(a);
    expect(incidentIdFor('x', new Date('2026-06-01T12:00:59Z'))).not.toBe(a);
  });
});
