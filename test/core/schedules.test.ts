import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isActive } from '../../lambdas/core/holds';
import { reconcile } from '../../lambdas/core/reconcile';
import { peakWindow, scheduleHolds, type PeakHoursSpec, type PlannedEventSpec, type Schedules } from '../../lambdas/core/schedules';

const utc = (s: string) => Date.parse(s);
const secs = (s: string) => utc(s) / 1000;
const HOUR = 3_600_000;

function event(overrides: Partial<PlannedEventSpec> = {}): PlannedEventSpec {
  return { name: 'launch', start: '2026-06-01T14:00:00Z', end: '2026-06-01T15:00:00Z', leadMinutes: 30, cooldownMinutes: 20, replicas: 8, ...overrides };
}

const OFFICE_HOURS: PeakHoursSpec = { name: 'office', startCron: '0 9 ? * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 6, timezone: 'Europe/Berlin' };

const target = (s: Partial<Schedules> = {}): Schedules => ({ name: 'engine', plannedEvents: [], peakHours: [], ...s });

describe('Function: scheduleHolds (planned events)', () => {
  it('holds a fixed-replica event from lead before its start until cooldown after its end', () => {
    const [h] = scheduleHolds(target({ plannedEvents: [event()] }), utc('2026-06-01T13:45:00Z'), 2);
    expect(h).toMatchObject({ holder: 'event:launch', floor: 8, startsAt: secs('2026-06-01T13:30:00Z'), expiresAt: secs('2026-06-01T15:20:00Z') });
    expect(h!.reason).toContain('planned event launch');
  });

  it('is in force only inside its window (the reconciler asks about now)', () => {
    const holds = (t: string) => scheduleHolds(target({ plannedEvents: [event()] }), utc(t), 2).filter((h) => isActive(h, utc(t)));
    expect(holds('2026-06-01T13:29:00Z')).toEqual([]);
    expect(holds('2026-06-01T13:30:00Z')).toHaveLength(1);
    expect(holds('2026-06-01T15:19:59Z')).toHaveLength(1);
    expect(holds('2026-06-01T15:20:00Z')).toEqual([]);
  });

  it('lists an event starting within the lookahead, for `mlscale holds`', () => {
    expect(scheduleHolds(target({ plannedEvents: [event()] }), utc('2026-06-01T10:00:00Z'), 2, 0)).toEqual([]);
    expect(scheduleHolds(target({ plannedEvents: [event()] }), utc('2026-06-01T10:00:00Z'), 2, 6 * HOUR)).toHaveLength(1);
  });

  it('multiplies the reference it is given (configured min or forecast floor), never the raise itself', () => {
    const [h] = scheduleHolds(target({ plannedEvents: [event({ replicas: undefined, multiplier: 1.5 })] }), utc('2026-06-01T14:10:00Z'), 3);
    expect(h!.floor).toBe(5);
    // Zero reference (a scale-to-zero pool): one times the multiplier, at least.
    expect(scheduleHolds(target({ plannedEvents: [event({ replicas: undefined, multiplier: 2 })] }), utc('2026-06-01T14:10:00Z'), 0)[0]!.floor).toBe(2);
  });

  it('raises min and max with it when the event asks for more than max, up to the ceiling (through reconcile)', () => {
    const now = utc('2026-06-01T14:10:00Z');
    const r = reconcile({
      configured: { min: 2, max: 10, ceiling: 20, scaleToZero: false },
      holds: scheduleHolds(target({ plannedEvents: [event({ replicas: 12 })] }), now, 2),
      observed: { desired: 4, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false }, registered: true },
      now,
    });
    expect(r).toMatchObject({ min: 12, max: 12, desired: 12 });
  });
});

describe('Function: peakWindow / scheduleHolds (peak hours)', () => {
  it('opens at the start cron in its time zone and closes at the end cron', () => {
    // 09:00-17:00 in Berlin (CEST, UTC+2) is 07:00-15:00Z.
    expect(peakWindow(OFFICE_HOURS, utc('2026-06-01T10:00:00Z'))).toEqual({ from: utc('2026-06-01T07:00:00Z'), to: utc('2026-06-01T15:00:00Z') });
    expect(peakWindow(OFFICE_HOURS, utc('2026-06-01T05:00:00Z'))).toBeUndefined();
    expect(peakWindow(OFFICE_HOURS, utc('2026-06-01T05:00:00Z'), 3 * HOUR)).toEqual({ from: utc('2026-06-01T07:00:00Z'), to: utc('2026-06-01T15:00:00Z') });
  });

  it('holds the peak minimum while the window is open, with the window as its start and end', () => {
    const [h] = scheduleHolds(target({ peakHours: [OFFICE_HOURS] }), utc('2026-06-01T10:00:00Z'), 2);
    expect(h).toMatchObject({ holder: 'peak-hours:office', floor: 6, startsAt: secs('2026-06-01T07:00:00Z'), expiresAt: secs('2026-06-01T15:00:00Z') });
  });

  it('holds nothing on a weekend', () => {
    // Saturday 2026-06-06.
    expect(scheduleHolds(target({ peakHours: [OFFICE_HOURS] }), utc('2026-06-06T10:00:00Z'), 2, 6 * HOUR)).toEqual([]);
  });

  it('rejects a malformed cron with a one-line message', () => {
    expect(() => scheduleHolds(target({ peakHours: [{ ...OFFICE_HOURS, startCron: '0 9 * * MON-FRI *' }] }), utc('2026-06-01T10:00:00Z'), 2)).toThrow(/exactly one of day-of-month and day-of-week/);
  });
});

describe('Property: schedule holds', () => {
  it('an event holds at least its replicas for its whole window, and nothing outside it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 60 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 20 }), (startMin, lengthMin, replicas) => {
        const start = utc('2026-06-01T00:00:00Z') + startMin * 60_000;
        const e = event({ start: new Date(start).toISOString(), end: new Date(start + lengthMin * 60_000).toISOString(), replicas, leadMinutes: 10, cooldownMinutes: 5 });
        for (const probe of [start - 11 * 60_000, start - 10 * 60_000, start, start + lengthMin * 60_000 + 4 * 60_000, start + lengthMin * 60_000 + 5 * 60_000]) {
          const active = scheduleHolds(target({ plannedEvents: [e] }), probe, 1).filter((h) => isActive(h, probe));
          const inside = probe >= start - 10 * 60_000 && probe < start + (lengthMin + 5) * 60_000;
          expect(active.length).toBe(inside ? 1 : 0);
          if (inside) expect(active[0]!.floor).toBe(replicas);
        }
      }),
    );
  });
});
