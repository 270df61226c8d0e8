import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionName,
  planPrescale,
  PRESCALE_ACTION_PREFIX,
  reconcileActions,
  type ExistingAction,
  type PeakHoursInput,
  type PlannedAction,
  type PlannedEventInput,
  type PrescaleInput,
} from '../../lambdas/core/prescale-plan';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const utc = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString();

/** Monday 2026-06-01 10:20Z, no forecast, events or peak hours; baseMin 2, max 10. */
function input(overrides: Partial<PrescaleInput> = {}): PrescaleInput {
  return {
    now: utc('2026-06-01T10:20:00Z'),
    baseMin: 2,
    max: 10,
    currentMin: 2,
    desired: 2,
    horizonHours: 6,
    events: [],
    peakHours: [],
    ...overrides,
  };
}

const brief = (actions: readonly PlannedAction[]) => actions.map((a) => [iso(a.at), a.minCapacity]);

function event(overrides: Partial<PlannedEventInput>): PlannedEventInput {
  return { name: 'launch', start: '2026-06-01T14:00:00Z', end: '2026-06-01T15:00:00Z', leadMinutes: 30, cooldownMinutes: 20, ...overrides };
}

const OFFICE_HOURS: PeakHoursInput = {
  name: 'office',
  startCron: '0 9 ? * MON-FRI *',
  endCron: '0 17 ? * MON-FRI *',
  minCapacity: 6,
  timezone: 'Europe/Berlin',
};

describe('Function: planPrescale', () => {
  it('raises min leadMinutes before a forecast hour that needs more replicas, and lowers it after', () => {
    const plan = planPrescale(
      input({
        forecast: { firstHour: utc('2026-06-01T11:00:00Z'), load: [100, 300, 100, 100, 100, 100], perReplica: 50, headroom: 0, leadMinutes: 10 },
      }),
    );
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T11:50:00.000Z', 6],
      ['2026-06-01T12:50:00.000Z', 2],
    ]);
    expect(plan.actions[0]!.reason).toBe('forecast 300.0 req/s for 12:00Z');
    expect(plan.forecastReplicas).toEqual([2, 6, 2, 2, 2, 2]);
  });

  it('applies headroom and clamps forecast replicas to [baseMin, max]', () => {
    const plan = planPrescale(
      input({ forecast: { firstHour: utc('2026-06-01T11:00:00Z'), load: [0, 100, 1_000], perReplica: 50, headroom: 0.5, leadMinutes: 0 } }),
    );
    expect(plan.forecastReplicas).toEqual([2, 3, 10]);
  });

  it('holds a planned event with fixed replicas from lead before its start to cooldown after its end', () => {
    const plan = planPrescale(input({ events: [event({ replicas: 8 })] }));
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T13:30:00.000Z', 8],
      ['2026-06-01T15:20:00.000Z', 2],
    ]);
    expect(plan.actions[0]!.reason).toBe('planned event launch');
  });

  it('multiplies the current desired capacity for a multiplier event', () => {
    const plan = planPrescale(input({ desired: 3, events: [event({ multiplier: 1.5 })] }));
    expect(plan.actions[0]).toMatchObject({ at: utc('2026-06-01T13:30:00Z'), minCapacity: 5 });
  });

  it('multiplies baseMin when desired is lower', () => {
    const plan = planPrescale(input({ desired: 0, baseMin: 3, currentMin: 3, events: [event({ multiplier: 2 })] }));
    expect(plan.actions[0]!.minCapacity).toBe(6);
  });

  it('multiplies the forecast at the event start when that is the largest reference', () => {
    const plan = planPrescale(
      input({
        desired: 3,
        max: 12,
        // 14:00Z needs 250 / 50 = 5 replicas.
        forecast: { firstHour: utc('2026-06-01T11:00:00Z'), load: [50, 50, 50, 250, 50, 50], perReplica: 50, headroom: 0, leadMinutes: 10 },
        events: [event({ multiplier: 2 })],
      }),
    );
    expect(plan.intervals.find((i) => i.source === 'planned event launch')?.min).toBe(10);
    expect(plan.actions.find((a) => a.reason === 'planned event launch')?.minCapacity).toBe(10);
  });

  it('caps an event above max at max', () => {
    const plan = planPrescale(input({ events: [event({ replicas: 50 })] }));
    expect(plan.actions[0]!.minCapacity).toBe(10);
  });

  it('keeps the higher floor where a forecast and an event overlap', () => {
    const plan = planPrescale(
      input({
        forecast: { firstHour: utc('2026-06-01T11:00:00Z'), load: [100, 100, 100, 350, 100, 100], perReplica: 50, headroom: 0, leadMinutes: 10 },
        events: [event({ replicas: 4 })],
      }),
    );
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T13:30:00.000Z', 4],
      ['2026-06-01T13:50:00.000Z', 7],
      ['2026-06-01T14:50:00.000Z', 4],
      ['2026-06-01T15:20:00.000Z', 2],
    ]);
  });

  it('schedules the whole of an event that starts within the horizon and ends after it', () => {
    const plan = planPrescale(input({ horizonHours: 4, events: [event({ start: '2026-06-01T14:00:00Z', end: '2026-06-01T20:00:00Z', replicas: 5 })] }));
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T13:30:00.000Z', 5],
      ['2026-06-01T20:20:00.000Z', 2],
    ]);
  });

  it('does not plan an event that starts after the horizon yet', () => {
    expect(planPrescale(input({ horizonHours: 2, events: [event({ replicas: 5 })] })).actions).toEqual([]);
  });

  it('raises min at the start of peak hours given by cron in a time zone and restores it at their end', () => {
    // 09:00-17:00 in Berlin (CEST, UTC+2) is 07:00-15:00Z.
    const plan = planPrescale(input({ now: utc('2026-06-01T05:00:00Z'), peakHours: [OFFICE_HOURS] }));
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T07:00:00.000Z', 6],
      ['2026-06-01T15:00:00.000Z', 2],
    ]);
    expect(plan.actions[0]!.reason).toBe('peak hours office');
  });

  it('raises min two minutes ahead inside peak hours that are already open', () => {
    const plan = planPrescale(input({ now: utc('2026-06-01T10:00:00Z'), peakHours: [OFFICE_HOURS] }));
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T10:02:00.000Z', 6],
      ['2026-06-01T15:00:00.000Z', 2],
    ]);
  });

  it('does not repeat a min the target already has', () => {
    const plan = planPrescale(input({ now: utc('2026-06-01T10:00:00Z'), currentMin: 6, peakHours: [OFFICE_HOURS] }));
    expect(brief(plan.actions)).toEqual([['2026-06-01T15:00:00.000Z', 2]]);
  });

  it('plans nothing for peak hours on a weekend', () => {
    // Saturday 2026-06-06.
    expect(planPrescale(input({ now: utc('2026-06-06T05:00:00Z'), peakHours: [OFFICE_HOURS] })).actions).toEqual([]);
  });

  it('plans no action when nothing is planned and min is already baseMin', () => {
    expect(planPrescale(input()).actions).toEqual([]);
  });

  it('plans one restore action, two minutes ahead, when nothing is planned and min is above baseMin', () => {
    const plan = planPrescale(input({ now: utc('2026-06-01T10:20:30Z'), currentMin: 5 }));
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({ at: utc('2026-06-01T10:23:00Z'), minCapacity: 2 });
  });

  it('ends the plan with baseMin when a forecast floor runs to the horizon', () => {
    const plan = planPrescale(
      input({ horizonHours: 2, forecast: { firstHour: utc('2026-06-01T11:00:00Z'), load: [300, 300, 300], perReplica: 50, headroom: 0, leadMinutes: 10 } }),
    );
    expect(brief(plan.actions)).toEqual([
      ['2026-06-01T10:50:00.000Z', 6],
      ['2026-06-01T12:20:00.000Z', 2],
    ]);
  });

  it('rejects baseMin above max', () => {
    expect(() => planPrescale(input({ baseMin: 11 }))).toThrow(/baseMin must be <= max/);
  });

  it('rejects a malformed peak-hours cron', () => {
    expect(() => planPrescale(input({ peakHours: [{ ...OFFICE_HOURS, startCron: '0 9 * * *' }] }))).toThrow(/must have 6 fields/);
  });
});

// ---- properties ----------------------------------------------------------------

const NOW0 = utc('2026-06-01T00:00:00Z');
/** More than the lead the planner gives its first action. */
const PLAN_MARGIN = 5 * MINUTE;

const eventArb: fc.Arbitrary<PlannedEventInput> = fc
  .record({
    startOffset: fc.integer({ min: -6 * 60, max: 20 * 60 }),
    duration: fc.integer({ min: 1, max: 8 * 60 }),
    size: fc.oneof(fc.record({ replicas: fc.integer({ min: 1, max: 30 }) }), fc.record({ multiplier: fc.double({ min: 1.1, max: 5, noNaN: true }) })),
    leadMinutes: fc.integer({ min: 0, max: 120 }),
    cooldownMinutes: fc.integer({ min: 0, max: 120 }),
  })
  .map(({ startOffset, duration, size, leadMinutes, cooldownMinutes }) => ({
    name: 'e',
    start: iso(NOW0 + startOffset * MINUTE),
    end: iso(NOW0 + (startOffset + duration) * MINUTE),
    leadMinutes,
    cooldownMinutes,
    ...size,
  }));

const peakArb: fc.Arbitrary<PeakHoursInput> = fc.record({
  name: fc.constant('p'),
  startCron: fc.constantFrom('0 9 ? * MON-FRI *', '30 7 * * ? *', '0 */4 * * ? *'),
  endCron: fc.constantFrom('0 17 ? * MON-FRI *', '15 12 * * ? *', '0 2/4 * * ? *'),
  minCapacity: fc.integer({ min: 1, max: 30 }),
  timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York'),
});

const prescaleArb: fc.Arbitrary<PrescaleInput> = fc
  .record({
    nowOffset: fc.integer({ min: 0, max: 3 * 24 * 60 * 60 - 1 }),
    baseMin: fc.integer({ min: 0, max: 5 }),
    span: fc.integer({ min: 0, max: 15 }),
    currentMin: fc.integer({ min: 0, max: 25 }),
    desired: fc.integer({ min: 0, max: 25 }),
    horizonHours: fc.integer({ min: 1, max: 12 }),
    forecast: fc.option(
      fc.record({
        load: fc.array(fc.double({ min: 0, max: 2_000, noNaN: true }), { minLength: 1, maxLength: 14 }),
        perReplica: fc.double({ min: 1, max: 200, noNaN: true }),
        headroom: fc.double({ min: 0, max: 1, noNaN: true }),
        leadMinutes: fc.integer({ min: 0, max: 60 }),
      }),
      { nil: undefined },
    ),
    events: fc.array(eventArb, { maxLength: 3 }),
    peakHours: fc.array(peakArb, { maxLength: 2 }),
  })
  .map(({ nowOffset, baseMin, span, forecast, ...rest }) => {
    // now anywhere in three days, to the second.
    const now = NOW0 + nowOffset * 1_000;
    const firstHour = Math.ceil(now / HOUR) * HOUR;
    return {
      ...rest,
      now,
      baseMin,
      max: Math.max(1, baseMin + span),
      events: rest.events.map((e) => ({ ...e, start: iso(Date.parse(e.start) + nowOffset * 1_000), end: iso(Date.parse(e.end) + nowOffset * 1_000) })),
      ...(forecast ? { forecast: { ...forecast, firstHour } } : {}),
    };
  });

describe('Function: planPrescale (properties)', () => {
  it('keeps every action minCapacity within [baseMin, max]', () => {
    fc.assert(
      fc.property(prescaleArb, (p) => {
        for (const a of planPrescale(p).actions) {
          expect(a.minCapacity).toBeGreaterThanOrEqual(p.baseMin);
          expect(a.minCapacity).toBeLessThanOrEqual(p.max);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('ends with baseMin, on minutes strictly after now and strictly increasing, each changing the min', () => {
    fc.assert(
      fc.property(prescaleArb, (p) => {
        const { actions } = planPrescale(p);
        if (actions.length === 0) {
          expect(p.currentMin).toBe(p.baseMin);
          return;
        }
        expect(actions.at(-1)!.minCapacity).toBe(p.baseMin);
        let previousAt = p.now;
        let previousMin = p.currentMin;
        for (const a of actions) {
          expect(a.at).toBeGreaterThan(previousAt);
          expect(a.at % MINUTE).toBe(0);
          expect(a.minCapacity).not.toBe(previousMin);
          previousAt = a.at;
          previousMin = a.minCapacity;
        }
      }),
      { numRuns: 250 },
    );
  });

  it('holds at least the floor of every event while it runs, up to max', () => {
    fc.assert(
      fc.property(prescaleArb, (p) => {
        const plan = planPrescale(p);
        const minAt = (t: number) => {
          let min = p.currentMin;
          for (const a of plan.actions) if (a.at <= t) min = a.minCapacity;
          return min;
        };
        // The plan starts a little ahead of now (scheduled actions must be in the future).
        const planStart = p.now + PLAN_MARGIN;
        for (const e of p.events) {
          if (e.replicas === undefined) continue;
          // A minute inside the event, once the plan has started.
          const t = Math.ceil(Math.max(Date.parse(e.start), planStart) / MINUTE) * MINUTE;
          if (t >= Date.parse(e.end) || t >= p.now + p.horizonHours * HOUR) continue;
          expect(minAt(t)).toBeGreaterThanOrEqual(Math.min(e.replicas, p.max));
        }
      }),
      { numRuns: 250 },
    );
  });
});

describe('Function: actionName', () => {
  it('is the prefix and the UTC minute', () => {
    expect(actionName(utc('2026-06-01T13:50:00Z'))).toBe('mlscale-prescale-202606011350');
    expect(actionName(utc('2026-06-01T13:50:00Z')).startsWith(PRESCALE_ACTION_PREFIX)).toBe(true);
  });
});

describe('Function: reconcileActions', () => {
  const t1 = utc('2026-06-01T11:50:00Z');
  const t2 = utc('2026-06-01T12:50:00Z');
  const t3 = utc('2026-06-01T13:50:00Z');
  const stale = utc('2026-06-01T09:00:00Z');

  it('puts changed and new actions, removes stale ones and never touches actions of others', () => {
    const existing: ExistingAction[] = [
      { name: 'nightly-scale-down', minCapacity: 1 },
      { name: 'prescale-202606011150', minCapacity: 1 },
      { name: actionName(t1), minCapacity: 6 },
      { name: actionName(t2), minCapacity: 9 },
      { name: actionName(stale), minCapacity: 4 },
    ];
    const planned: PlannedAction[] = [
      { at: t1, minCapacity: 6, reason: 'a' },
      { at: t2, minCapacity: 2, reason: 'b' },
      { at: t3, minCapacity: 5, reason: 'c' },
    ];
    const { put, remove } = reconcileActions(existing, planned);
    expect(put).toEqual([
      { name: actionName(t2), action: planned[1] },
      { name: actionName(t3), action: planned[2] },
    ]);
    expect(remove).toEqual([actionName(stale)]);
  });

  it('re-puts an existing action whose min is unknown', () => {
    expect(reconcileActions([{ name: actionName(t1) }], [{ at: t1, minCapacity: 3, reason: 'x' }]).put).toHaveLength(1);
  });

  it('removes all of its own actions for an empty plan', () => {
    expect(reconcileActions([{ name: actionName(t1), minCapacity: 3 }, { name: 'other' }], [])).toEqual({ put: [], remove: [actionName(t1)] });
  });

  it('leaves the target holding exactly the plan, and others untouched (property)', () => {
    const minuteArb = fc.integer({ min: 0, max: 600 }).map((m) => t1 + m * MINUTE);
    const existingArb = fc.array(
      fc.oneof(
        fc.record({ name: minuteArb.map(actionName), minCapacity: fc.integer({ min: 0, max: 5 }) }),
        fc.record({ name: fc.string({ maxLength: 20 }).filter((s) => !s.startsWith(PRESCALE_ACTION_PREFIX)), minCapacity: fc.integer({ min: 0, max: 5 }) }),
      ),
      { maxLength: 12 },
    );
    const plannedArb = fc
      .uniqueArray(minuteArb, { maxLength: 8 })
      .chain((ats) => fc.tuple(...ats.map((at) => fc.integer({ min: 0, max: 5 }).map((minCapacity): PlannedAction => ({ at, minCapacity, reason: 'r' })))));
    fc.assert(
      fc.property(existingArb, plannedArb, (existing, planned) => {
        const { put, remove } = reconcileActions(existing, planned);
        for (const name of [...put.map((p) => p.name), ...remove]) expect(name.startsWith(PRESCALE_ACTION_PREFIX)).toBe(true);
        // Apply the changes to our own actions and compare with the plan.
        const ours = new Map(existing.filter((a) => a.name.startsWith(PRESCALE_ACTION_PREFIX)).map((a) => [a.name, a.minCapacity]));
        for (const name of remove) ours.delete(name);
        for (const p of put) ours.set(p.name, p.action.minCapacity);
        expect(ours).toEqual(new Map(planned.map((a) => [actionName(a.at), a.minCapacity])));
        // Nothing is put that is already there as planned.
        for (const p of put) expect(existing.some((a) => a.name === p.name && a.minCapacity === p.action.minCapacity)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
