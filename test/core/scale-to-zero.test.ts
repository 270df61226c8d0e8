import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideScaleToZero,
  lookbackMinutes,
  MAX_STALENESS_MINUTES,
  type Observation,
  type Point,
  type ScaleToZeroInput,
  type ScaleToZeroPolicy,
} from '../../lambdas/core/scale-to-zero';

const MINUTE = 60_000;
/** 2026-06-01 12:00:30Z: evaluation time, half a minute into the minute. */
const NOW = Date.UTC(2026, 5, 1, 12, 0, 30);
const NOW_MINUTE = Math.floor(NOW / MINUTE) * MINUTE;

const POLICY: ScaleToZeroPolicy = { minCapacity: 0, maxCapacity: 5, idleMinutes: 5, scaleFromZeroTo: 1, missingDataIsIdle: false };

/** One datapoint per minute, the last `ageMinutes` before the current minute; values oldest first. */
function series(values: readonly number[], ageMinutes = 0): Observation {
  const end = NOW_MINUTE - ageMinutes * MINUTE;
  return { points: values.map((v, i) => ({ t: end - (values.length - 1 - i) * MINUTE, v })) };
}

function decide(overrides: Partial<Omit<ScaleToZeroInput, 'policy'>> & { policy?: Partial<ScaleToZeroPolicy> } = {}) {
  const { policy, ...rest } = overrides;
  return decideScaleToZero({ desired: 2, work: series([0, 0, 0, 0, 0, 0]), now: NOW, ...rest, policy: { ...POLICY, ...policy } });
}

describe('Function: decideScaleToZero', () => {
  it('scales to scaleFromZeroTo when work appears at zero capacity', () => {
    const d = decide({ desired: 0, work: series([0, 0, 7]), policy: { scaleFromZeroTo: 3 } });
    expect(d).toMatchObject({ from: 0, to: 3 });
    expect(d.reason).toContain('7 pending');
  });

  it('scales from zero to at least 1 and at least minCapacity', () => {
    expect(decide({ desired: 0, work: series([4]), policy: { scaleFromZeroTo: 1, minCapacity: 2 } }).to).toBe(2);
  });

  it('clamps the scale-from-zero target to maxCapacity', () => {
    expect(decide({ desired: 0, work: series([4]), policy: { scaleFromZeroTo: 9, maxCapacity: 4 } }).to).toBe(4);
  });

  it('holds when work is pending and capacity is above zero', () => {
    const d = decide({ desired: 2, work: series([0, 0, 0, 0, 0, 3]) });
    expect(d).toMatchObject({ from: 2, to: 2 });
    expect(d.reason).toContain('work pending');
  });

  it('scales to minCapacity after idleMinutes of consecutive zero datapoints ending at a fresh point', () => {
    const d = decide({ desired: 3, work: series([0, 0, 0, 0, 0], 1), policy: { minCapacity: 0 } });
    expect(d).toMatchObject({ from: 3, to: 0 });
    expect(d.reason).toContain('no work for 5 minutes');
  });

  it('scales down to a non-zero minCapacity when idle', () => {
    expect(decide({ desired: 4, work: series([0, 0, 0, 0, 0]), policy: { minCapacity: 1 } }).to).toBe(1);
  });

  it('holds when a work datapoint above zero is within the last idleMinutes', () => {
    const d = decide({ desired: 2, work: series([0, 0, 5, 0, 0, 0]) });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('within the last 5 minutes');
  });

  it('scales down when the only busy datapoint is older than idleMinutes', () => {
    expect(decide({ desired: 2, work: series([9, 0, 0, 0, 0, 0]) }).to).toBe(0);
  });

  it('holds when the idle window has a gap', () => {
    const work = series([0, 0, 0, 0, 0, 0]);
    const gappy: Observation = { points: work.points.filter((_, i) => i !== 3) };
    const d = decide({ desired: 2, work: gappy });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('gap');
  });

  it('holds when fewer than idleMinutes of datapoints exist', () => {
    const d = decide({ desired: 2, work: series([0, 0, 0, 0]) });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('gap');
  });

  it('still scales down when the newest point is exactly MAX_STALENESS_MINUTES old', () => {
    expect(decide({ desired: 2, work: series([0, 0, 0, 0, 0], MAX_STALENESS_MINUTES) }).to).toBe(0);
  });

  it('holds when the newest datapoint is older than MAX_STALENESS_MINUTES', () => {
    const d = decide({ desired: 2, work: series([0, 0, 0, 0, 0, 0, 0, 0], MAX_STALENESS_MINUTES + 1) });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('minutes old');
  });

  it('holds when the work metric could not be read', () => {
    const d = decide({ desired: 2, work: { points: series([0, 0, 0, 0, 0]).points, error: 'AccessDenied' } });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('AccessDenied');
  });

  it('does not scale up from zero on the points of an unreadable work metric', () => {
    expect(decide({ desired: 0, work: { points: series([8]).points, error: 'Throttling' } }).to).toBe(0);
  });

  it('holds with no work datapoints at all when missing data is not idle', () => {
    const d = decide({ desired: 2, work: { points: [] } });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('missing data is unknown');
  });

  it('scales down with no work datapoints when missingDataIsIdle is opted in', () => {
    expect(decide({ desired: 2, work: { points: [] }, policy: { missingDataIsIdle: true } }).to).toBe(0);
  });

  it('scales down across a gap when missingDataIsIdle is opted in', () => {
    const gappy: Observation = { points: series([0, 0, 0, 0, 0, 0]).points.filter((_, i) => i % 2 === 0) };
    expect(decide({ desired: 2, work: gappy, policy: { missingDataIsIdle: true } }).to).toBe(0);
  });

  it('holds with missingDataIsIdle when work was above zero in the last idleMinutes', () => {
    expect(decide({ desired: 2, work: { points: [{ t: NOW_MINUTE - 2 * MINUTE, v: 1 }] }, policy: { missingDataIsIdle: true } }).to).toBe(2);
  });

  it('holds with missingDataIsIdle when the work metric errors', () => {
    expect(decide({ desired: 2, work: { points: [], error: 'boom' }, policy: { missingDataIsIdle: true } }).to).toBe(2);
  });

  it('holds when the in-flight series is not idle although pending work is', () => {
    const d = decide({ desired: 2, inFlight: series([0, 0, 0, 1, 0, 0]) });
    expect(d.to).toBe(2);
    expect(d.reason).toContain('in-flight');
  });

  it('holds when the in-flight series has a gap', () => {
    const gappy: Observation = { points: series([0, 0, 0, 0, 0, 0]).points.filter((_, i) => i !== 2) };
    expect(decide({ desired: 2, inFlight: gappy }).to).toBe(2);
  });

  it('holds when the in-flight series errors', () => {
    expect(decide({ desired: 2, inFlight: { points: [], error: 'nope' } }).to).toBe(2);
  });

  it('scales down when both work and in-flight are idle', () => {
    expect(decide({ desired: 2, inFlight: series([0, 0, 0, 0, 0]) }).to).toBe(0);
  });

  it('holds when paused by an operator, even with work at zero capacity', () => {
    expect(decide({ desired: 0, work: series([10]), paused: true })).toMatchObject({ from: 0, to: 0, reason: 'paused by an operator' });
    expect(decide({ desired: 3, paused: true }).to).toBe(3);
  });

  it('raises capacity below the floor to minCapacity', () => {
    expect(decide({ desired: 1, policy: { minCapacity: 2 } })).toMatchObject({ from: 1, to: 2 });
  });

  it('holds at zero when idle at zero', () => {
    expect(decide({ desired: 0, work: { points: [] } })).toMatchObject({ from: 0, to: 0, reason: 'idle at zero' });
  });

  it('accepts datapoints in any order', () => {
    const shuffled: Observation = { points: [...series([0, 0, 0, 0, 0, 6]).points].reverse() };
    expect(decide({ desired: 0, work: shuffled }).to).toBe(1);
  });
});

describe('Function: lookbackMinutes', () => {
  it('covers the idle window plus the allowed staleness', () => {
    expect(lookbackMinutes({ idleMinutes: 5 })).toBe(5 + MAX_STALENESS_MINUTES + 1);
  });
});

// ---- properties ----------------------------------------------------------------

const policyArb = fc
  .record({
    minCapacity: fc.integer({ min: 0, max: 4 }),
    maxCapacity: fc.integer({ min: 1, max: 8 }),
    idleMinutes: fc.integer({ min: 1, max: 10 }),
    scaleFromZeroTo: fc.integer({ min: 1, max: 10 }),
    missingDataIsIdle: fc.boolean(),
  })
  .filter((p) => p.minCapacity <= p.maxCapacity);

/** Points in the last 20 minutes (any second), mostly zeros, sometimes missing, sometimes busy. */
const pointsArb = fc.array(
  fc.record({
    t: fc.integer({ min: NOW - 20 * MINUTE, max: NOW }),
    v: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) }),
  }),
  { maxLength: 25 },
);

/** Either a random scatter or a dense per-minute series (so the idle path is reached often). */
const observationArb: fc.Arbitrary<Observation> = fc.oneof(
  fc.record({ points: pointsArb }),
  fc.record({
    points: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) }), { minLength: 1, maxLength: 15 })).map(([age, vs]) => series(vs, age).points),
  }),
  fc.record({ points: pointsArb, error: fc.constantFrom('Throttling', 'AccessDenied') }),
);

const inputArb: fc.Arbitrary<ScaleToZeroInput> = fc.record(
  {
    policy: policyArb,
    desired: fc.integer({ min: 0, max: 10 }),
    work: observationArb,
    inFlight: observationArb,
    paused: fc.boolean(),
    now: fc.constant(NOW),
  },
  { requiredKeys: ['policy', 'desired', 'work', 'now'] },
);

const newest = (points: readonly Point[]) => points.reduce<Point | undefined>((best, p) => (!best || p.t > best.t ? p : best), undefined);

describe('Function: decideScaleToZero (properties)', () => {
  it('never exceeds maxCapacity unless holding a capacity already above it', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideScaleToZero(input);
        expect(d.from).toBe(input.desired);
        if (d.to !== d.from) expect(d.to).toBeLessThanOrEqual(input.policy.maxCapacity);
      }),
      { numRuns: 400 },
    );
  });

  it('never goes below minCapacity unless holding an existing value', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideScaleToZero(input);
        if (d.to !== d.from) expect(d.to).toBeGreaterThanOrEqual(input.policy.minCapacity);
      }),
      { numRuns: 400 },
    );
  });

  it('never lowers capacity while a work datapoint above zero is within the last idleMinutes', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const busy = input.work.points.some((p) => p.v > 0 && p.t > input.now - input.policy.idleMinutes * MINUTE);
        fc.pre(busy);
        expect(decideScaleToZero(input).to).toBeGreaterThanOrEqual(input.desired);
      }),
      { numRuns: 300 },
    );
  });

  it('never lowers capacity while an in-flight datapoint above zero is within the last idleMinutes', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const busy = input.inFlight?.points.some((p) => p.v > 0 && p.t > input.now - input.policy.idleMinutes * MINUTE) ?? false;
        fc.pre(busy);
        expect(decideScaleToZero(input).to).toBeGreaterThanOrEqual(input.desired);
      }),
      { numRuns: 300 },
    );
  });

  it('never lowers capacity while the work metric has an error', () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom('Throttling', 'timeout'), (input, error) => {
        const d = decideScaleToZero({ ...input, work: { ...input.work, error } });
        expect(d.to).toBeGreaterThanOrEqual(input.desired);
      }),
      { numRuns: 300 },
    );
  });

  it('never lowers capacity without the opt-in when the work metric has no datapoints', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideScaleToZero({ ...input, policy: { ...input.policy, missingDataIsIdle: false }, work: { points: [] } });
        expect(d.to).toBeGreaterThanOrEqual(input.desired);
      }),
      { numRuns: 300 },
    );
  });

  it('always scales up when the newest work datapoint is above zero at capacity zero', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 100 }), (input, v) => {
        const work: Observation = { points: [...input.work.points.filter((p) => p.t < NOW), { t: NOW, v }] };
        const d = decideScaleToZero({ ...input, desired: 0, paused: false, work });
        expect(d.to).toBeGreaterThanOrEqual(1);
        expect(d.to).toBeLessThanOrEqual(input.policy.maxCapacity);
        expect(d.to).toBe(Math.min(input.policy.maxCapacity, Math.max(input.policy.scaleFromZeroTo, input.policy.minCapacity, 1)));
      }),
      { numRuns: 300 },
    );
  });

  it('only changes capacity to the floor or, at zero with work, up', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideScaleToZero(input);
        if (d.to === d.from) return;
        const latest = input.work.error ? undefined : newest(input.work.points);
        if (latest && latest.v > 0) expect(d.from).toBe(0);
        else expect(d.to).toBe(input.policy.minCapacity);
      }),
      { numRuns: 400 },
    );
  });

  it('holds whatever the observations when paused', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(decideScaleToZero({ ...input, paused: true }).to).toBe(input.desired);
      }),
      { numRuns: 200 },
    );
  });
});
