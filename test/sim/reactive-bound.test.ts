/**
 * The reactive bound (src/sim/reactive-bound.ts): an idealised follower that
 * knows the load exactly but late, on small hand-made traces.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../../src/sim/compare';
import { cheapestFollower, follow, followerPool, type FollowerPool } from '../../src/sim/reactive-bound';
import { minuteTrace, simPool } from './helpers';

/** The engine's numbers: 50 req/s per task, 2 to 20 tasks (the emergency ceiling). */
const POOL: FollowerPool = { capacityPerTask: 50, minCapacity: 2, ceiling: 20, baseP95Ms: 80 };
/** 20 minutes at 100 req/s, a 10-minute burst at 400, then 100 again. */
const BURST = [...Array<number>(20).fill(100), ...Array<number>(10).fill(400), ...Array<number>(30).fill(100)];

describe('follow: the load, exactly, `lagMinutes` late', () => {
  it('with no lag, hold 1 and no headroom, it is the simulator\'s perfect-foresight oracle', () => {
    const sim = simPool('engine');
    const oracle = compare(minuteTrace(BURST), sim, ['oracle']).policies.oracle;
    const f = follow(BURST, followerPool(sim), { lagMinutes: 0, holdMinutes: 1, headroom: 0 });
    expect([f.taskMinutes, f.violationMinutes]).toEqual([oracle.taskMinutes, oracle.violationMinutes]);
    expect(f.violationMinutes).toBe(0);
  });

  it('late, it misses the start of a burst for as many minutes as it lags, whatever its headroom', () => {
    for (const lag of [1, 2, 3]) {
      const f = follow(BURST, POOL, { lagMinutes: lag, holdMinutes: 1, headroom: 0.5 });
      expect(f.violationMinutes, `lag ${lag}`).toBeGreaterThanOrEqual(lag);
    }
    // 3 tasks at 100 req/s with 50 % headroom: the burst needs 8; a lag of 3 leaves 3 minutes short.
    expect(follow(BURST, POOL, { lagMinutes: 3, holdMinutes: 1, headroom: 0 }).violationMinutes).toBeGreaterThan(follow(BURST, POOL, { lagMinutes: 1, holdMinutes: 1, headroom: 0 }).violationMinutes);
  });

  it('holding the largest need seen covers a burst that comes back; headroom costs task-minutes', () => {
    // Bursts of 3 minutes every 8: following the newest minute misses each one, holding 10 minutes misses only the first.
    const repeating = Array.from({ length: 120 }, (_, m) => (m >= 20 && m % 8 < 3 ? 400 : 100));
    const newest = follow(repeating, POOL, { lagMinutes: 3, holdMinutes: 1, headroom: 0 });
    const held = follow(repeating, POOL, { lagMinutes: 3, holdMinutes: 10, headroom: 0 });
    expect(held.violationMinutes).toBeLessThan(newest.violationMinutes);
    // The whole hold is paid for: more task-minutes than the bursts alone need.
    expect(held.taskMinutes).toBeGreaterThan(follow(repeating, POOL, { lagMinutes: 0, holdMinutes: 1, headroom: 0 }).taskMinutes);
    expect(follow(repeating, POOL, { lagMinutes: 3, holdMinutes: 1, headroom: 1 }).taskMinutes).toBeGreaterThan(newest.taskMinutes);
  });

  it('counts from `from` on only, and never runs below min or above the ceiling', () => {
    const whole = follow(BURST, POOL, { lagMinutes: 2, holdMinutes: 1, headroom: 0 });
    const tail = follow(BURST, POOL, { lagMinutes: 2, holdMinutes: 1, headroom: 0 }, 30);
    expect(tail.minutes).toBe(30);
    expect(tail.violationMinutes).toBe(0);
    expect(tail.taskMinutes).toBeLessThan(whole.taskMinutes);
    expect(follow(Array<number>(30).fill(0), POOL, { lagMinutes: 0, holdMinutes: 1, headroom: 0 }).taskMinutes).toBe(30 * 2);
    expect(follow(Array<number>(30).fill(5_000), POOL, { lagMinutes: 0, holdMinutes: 1, headroom: 0 }).taskMinutes).toBe(30 * 20);
  });

  it('refuses a lag, hold or headroom it cannot model, naming it', () => {
    expect(() => follow(BURST, POOL, { lagMinutes: -1, holdMinutes: 1, headroom: 0 })).toThrow('lagMinutes must be a whole number of at least 0, got -1');
    expect(() => follow(BURST, POOL, { lagMinutes: 1, holdMinutes: 0, headroom: 0 })).toThrow('holdMinutes must be a whole number of at least 1, got 0');
    expect(() => follow(BURST, POOL, { lagMinutes: 1, holdMinutes: 1, headroom: -0.1 })).toThrow('headroom must be at least 0, got -0.1');
  });
});

describe('cheapestFollower: the least a lagging follower needs within a violation budget', () => {
  it('is the cheapest follower on the grid within the budget, and each more minute of lag costs more', () => {
    const repeating = Array.from({ length: 600 }, (_, m) => 100 + (m % 37 < 6 ? 250 : 0) + 40 * Math.sin(m / 9));
    const [one, three] = [1, 3].map((lag) => cheapestFollower(repeating, POOL, lag, 1)!);
    for (const b of [one!, three!]) {
      expect(b.violationPercent).toBeLessThanOrEqual(1);
      expect(b.ratioToOracle).toBeGreaterThanOrEqual(1);
      // Nothing on the grid within the budget is cheaper.
      for (const holdMinutes of [1, 5, 15]) {
        for (const headroom of [0, 0.2, 0.5, 1]) {
          const r = follow(repeating, POOL, { lagMinutes: b.follower.lagMinutes, holdMinutes, headroom });
          if ((100 * r.violationMinutes) / r.minutes <= 1) expect(r.taskMinutes).toBeGreaterThanOrEqual(b.result.taskMinutes);
        }
      }
    }
    expect(three!.ratioToOracle).toBeGreaterThan(one!.ratioToOracle);
  });

  it('is undefined when no follower on the grid stays within the budget', () => {
    // A load above the ceiling: every minute of it is a violation, whatever the follower.
    expect(cheapestFollower(Array<number>(60).fill(2_000), POOL, 1, 1)).toBeUndefined();
  });
});
