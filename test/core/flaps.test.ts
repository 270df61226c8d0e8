import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { directionChanges, flapVerdict } from '../../lambdas/core/flaps';

const MIN = 60_000;
const series = (...values: number[]) => values.map((v, i) => ({ t: i * MIN, v }));

describe('directionChanges', () => {
  it('counts a reversal across a steady stretch once', () => {
    expect(directionChanges(series(4, 6, 6, 6, 4))).toEqual({ count: 1, at: [4 * MIN], moves: 2 });
  });

  it('counts no reversal while capacity only grows or only shrinks', () => {
    expect(directionChanges(series(2, 4, 4, 8, 10)).count).toBe(0);
    expect(directionChanges(series(10, 8, 8, 2)).count).toBe(0);
  });

  it('counts every turn of an oscillation', () => {
    // up, down, up, down: three reversals.
    expect(directionChanges(series(2, 4, 2, 4, 2))).toMatchObject({ count: 3, moves: 4 });
  });

  it('reads points in time order whatever order they come in', () => {
    const shuffled = [...series(2, 4, 2, 4)].reverse();
    expect(directionChanges(shuffled).count).toBe(2);
  });

  it('counts only points inside the window', () => {
    const s = series(2, 4, 2, 4, 2, 4);
    expect(directionChanges(s, 3 * MIN, 6 * MIN).count).toBe(1);
  });

  it('never counts more reversals than moves - 1', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 120 }), (values) => {
        const r = directionChanges(series(...values));
        expect(r.count).toBeLessThanOrEqual(Math.max(0, r.moves - 1));
        expect(r.at).toHaveLength(r.count);
      }),
    );
  });
});

describe('flapVerdict', () => {
  const now = 60 * MIN;
  const oscillating = Array.from({ length: 60 }, (_, i) => ({ t: i * MIN, v: i % 10 < 5 ? 4 : 6 }));

  it('flags more reversals in the last hour than allowed, and says what to do', () => {
    const v = flapVerdict(oscillating, now, 4);
    expect(v.count).toBe(10); // 11 moves (every 5 minutes), 10 of them turns
    expect(v.flapping).toBe(true);
    expect(v.reason).toContain('scale-in cooldown');
  });

  it('passes a target at the limit', () => {
    const v = flapVerdict(oscillating, now, 10);
    expect(v.flapping).toBe(false);
  });

  it('ignores reversals older than an hour', () => {
    const old = oscillating.map((p) => ({ ...p, t: p.t - 2 * 60 * MIN }));
    expect(flapVerdict(old, now, 0).count).toBe(0);
  });
});
