import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clamp, replicasFor } from '../../lambdas/core/capacity';

describe('Function: replicasFor', () => {
  it('gives 10 replicas for 7 at 0.7 each', () => {
    expect(replicasFor(7, 0.7)).toBe(10);
  });

  it('rounds away float noise instead of adding a replica', () => {
    expect(100 * (1 + 0.1)).toBeGreaterThan(110); // 110.00000000000001
    expect(replicasFor(100, 1, 0.1)).toBe(110);
  });

  it('rounds a partial replica up', () => {
    expect(replicasFor(101, 50)).toBe(3);
    expect(replicasFor(0.1, 50)).toBe(1);
  });

  it('adds headroom before rounding up', () => {
    expect(replicasFor(100, 10, 0.1)).toBe(11);
    expect(replicasFor(100, 10, 0.25)).toBe(13);
    expect(replicasFor(350, 35, 0.1)).toBe(11);
  });

  it('needs no replicas for zero, negative or unknown load', () => {
    expect(replicasFor(0, 10)).toBe(0);
    expect(replicasFor(0, 10, 0.5)).toBe(0);
    expect(replicasFor(-5, 10)).toBe(0);
    expect(replicasFor(Number.NaN, 10)).toBe(0);
  });

  it.each([0, -1, Number.NaN])('rejects a load per replica of %s', (perReplica) => {
    expect(() => replicasFor(10, perReplica)).toThrow(/load per replica must be > 0/);
  });

  it('covers the load with headroom, with less than one replica to spare (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1e5, noNaN: true }),
        fc.double({ min: 0.01, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (load, perReplica, headroom) => {
          const n = replicasFor(load, perReplica, headroom);
          const needed = (load / perReplica) * (1 + headroom);
          expect(Number.isInteger(n)).toBe(true);
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n * (1 + 1e-9)).toBeGreaterThanOrEqual(needed);
          expect(n - 1).toBeLessThan(needed);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never needs fewer replicas for more load (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0.1, max: 100, noNaN: true }), (a, b, per) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(replicasFor(lo, per, 0.1)).toBeLessThanOrEqual(replicasFor(hi, per, 0.1));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: clamp', () => {
  it('keeps a value within [min, max]', () => {
    expect(clamp(5, 2, 10)).toBe(5);
    expect(clamp(1, 2, 10)).toBe(2);
    expect(clamp(12, 2, 10)).toBe(10);
  });
});
