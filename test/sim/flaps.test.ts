/**
 * Thrash detection in the simulator (#11 item 5): `flaps` and
 * `flappingHours` per policy, counted with lambdas/core/flaps.ts on each
 * policy's desired capacity, and the scale-in cooldown that stops a policy
 * that flaps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { directionChanges, flapVerdict } from '../../lambdas/core/flaps';
import { compare } from '../../src/sim/compare';
import { FlapCounter } from '../../src/sim/flap-counter';
import { CURE_COOLDOWNS, flapCures } from '../../src/sim/flaps';
import { flapNotes } from '../../src/sim/notes';
import { withScaleInCooldown } from '../../src/sim/sim-config';
import { POLICIES, simulate } from '../../src/sim/simulate';
import { streamOf, type TraceStream } from '../../src/sim/trace';
import { bundledTrace, DAY, MINUTE_MS, minuteTrace, runCli, simPool } from './helpers';

/** What the counter should say, from the whole series at once with the reconciler's functions. */
function bruteForce(values: readonly number[], max: number): { peak: number; hours: number } {
  const points = values.map((v, m) => ({ t: DAY + m * MINUTE_MS, v }));
  let peak = 0;
  for (let m = 0; m < values.length; m++) peak = Math.max(peak, flapVerdict(points, points[m]!.t, max).count);
  let hours = 0;
  for (let h = 0; h * 60 < values.length; h++) if (directionChanges(points, DAY + h * 60 * MINUTE_MS, DAY + (h + 1) * 60 * MINUTE_MS).count > max) hours++;
  return { peak, hours };
}

function counted(values: readonly number[], max: number) {
  const c = new FlapCounter(DAY, max);
  values.forEach((v, m) => c.push(m, v));
  c.finish();
  return { peak: c.peak, hours: c.flappingHours };
}

describe('FlapCounter', () => {
  it('counts reversals as flapVerdict does: the most in any rolling hour, and the hours with more than the maximum', () => {
    // Up, down, up, down … every 5 minutes for two hours: 11 reversals in a rolling hour (12 moves).
    const saw = Array.from({ length: 120 }, (_, m) => 2 + (Math.floor(m / 5) % 2));
    expect(counted(saw, 4)).toEqual({ peak: 11, hours: 2 });
    expect(counted(saw, 4)).toEqual(bruteForce(saw, 4));
    // A staircase only grows: no reversal at all.
    expect(counted(Array.from({ length: 90 }, (_, m) => Math.floor(m / 10)), 4)).toEqual({ peak: 0, hours: 0 });
  });

  it('agrees with the reconciler\'s functions on any desired-capacity series (kept in a 61-minute window)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 6 }), (values, max) => {
        expect(counted(values, max)).toEqual(bruteForce(values, max));
      }),
      { numRuns: 150 },
    );
  });

  it('reset counts from then on only; minutes must come in order', () => {
    const c = new FlapCounter(DAY, 1);
    [2, 3, 2, 3, 2].forEach((v, m) => c.push(m, v));
    expect(c.peak).toBe(3);
    c.reset();
    c.push(5, 2);
    expect(c.peak).toBe(0);
    expect(() => c.push(7, 2)).toThrow(/minute 7 pushed after minute 5/);
  });
});

/** Six hours of engine load, a 20-minute cycle: 160 req/s for 5 minutes, 60 for 15. */
const WAVE = Array.from({ length: 360 }, (_, m) => (m % 20 < 5 ? 160 : 60));
const ENGINE = simPool('engine');

describe('flaps per policy, and the cooldown that stops them', () => {
  it('every policy has the figures; the bundled day flaps under no policy but the oracle', () => {
    const c = compare(bundledTrace(), ENGINE, POLICIES, undefined, { timeline: 'none' });
    for (const p of POLICIES) {
      expect(Number.isInteger(c.policies[p].flaps), p).toBe(true);
      expect(c.policies[p].flappingHours, p).toBeGreaterThanOrEqual(0);
    }
    expect(ENGINE.thrash.maxDirectionChangesPerHour).toBe(4);
    for (const p of ['target-tracking', 'target-tracking-cpu', 'mlscale'] as const) expect(c.policies[p].flaps, p).toBeLessThanOrEqual(4);
    expect(c.policies.oracle.flaps).toBeGreaterThan(4);
    expect(flapCures(streamOf(bundledTrace()), ENGINE, c.policies)).toEqual([]);
  });

  it('are the reconciler\'s counts on the desired capacity each policy asked for', () => {
    for (const p of POLICIES) {
      const run = simulate(minuteTrace(WAVE), ENGINE, p);
      // Outside a batch pool every task asked for exists (starting or ready) and surplus ones stop at once: tasks = desired.
      const expected = bruteForce(Array.from(run.timeline.tasks), 4);
      expect({ peak: run.result.flaps, hours: run.result.flappingHours }, p).toEqual(expected);
    }
  });

  it('target tracking flaps on the wave; each scale-out ends the scale-in cooldown, so no longer one stops it, and the note says what would', () => {
    const c = compare(minuteTrace(WAVE), ENGINE, ['target-tracking', 'oracle']);
    expect(c.policies['target-tracking']).toMatchObject({ flaps: 5, flappingHours: 5 });
    const cures = flapCures(streamOf(minuteTrace(WAVE)), ENGINE, c.policies);
    // The oracle has no cooldown: it is never cured, only reported.
    expect(cures.map((f) => f.policy)).toEqual(['target-tracking']);
    const f = cures[0]!;
    expect(f.scaleInCooldownSeconds).toBe(300);
    // Only cooldowns longer than its own are tried; each is an honest replay with that cooldown.
    expect(f.tried.map((t) => t.scaleInCooldownSeconds)).toEqual(CURE_COOLDOWNS.filter((s) => s > 300));
    for (const t of f.tried) {
      const alone = simulate(minuteTrace(WAVE), withScaleInCooldown(ENGINE, t.scaleInCooldownSeconds), 'target-tracking', { timeline: false }).result;
      expect(t).toEqual({ scaleInCooldownSeconds: t.scaleInCooldownSeconds, flaps: alone.flaps, flappingHours: alone.flappingHours, taskMinutes: alone.taskMinutes, violationMinutes: alone.violationMinutes });
    }
    // Every burst scales out, which ends the cooldown the scale-in before it started.
    expect(f.cure).toBeNull();
    expect(f.tried.every((t) => t.flaps > 4)).toBe(true);
    expect(flapNotes(cures, ENGINE)[0]).toMatch(
      /; none of the scale-in cooldowns 600, 900, 1,200, 1,800 s stops it \(still 5 reversals an hour at 1,800 s\): a scale-out ends a running scale-in cooldown, so a longer one only spaces scale-ins that follow each other: lower the CPU target \(thresholds\.cpuPercent\) or, for mlscale's step scale-in, raise scaleInMinutes\.$/,
    );
  });

  it('where scale-ins follow each other, the shortest longer cooldown that stops the flapping is named, with its cost', () => {
    // The CPU modules on the bundled day: their queue steps down in several scale-ins a few minutes apart.
    const modules = simPool('cpu-modules');
    const c = compare(bundledTrace(), modules, ['target-tracking'], undefined, { timeline: 'none' });
    const [f] = flapCures(streamOf(bundledTrace()), modules, c.policies);
    expect(f!.flaps).toBeGreaterThan(4);
    expect(f!.cure).toBe(600);
    const cure = f!.tried.find((t) => t.scaleInCooldownSeconds === 600)!;
    expect(cure.flaps).toBeLessThanOrEqual(4);
    expect(flapNotes([f!], modules)).toEqual([
      `target-tracking flaps: its desired capacity reversed direction up to ${f!.flaps} times in an hour (thrash.maxDirectionChangesPerHour is 4; ${f!.flappingHours} hours of the trace over it) with a scale-in cooldown of 300 s; ` +
        `scaleInCooldownSeconds 600 stops it (at most ${cure.flaps} reversals an hour; ${cure.taskMinutes.toLocaleString('en-US')} task-minutes and ${cure.violationMinutes} violation minutes instead of ${f!.taskMinutes.toLocaleString('en-US')} and ${f!.violationMinutes}).`,
    ]);
  });

  it('says when no cooldown of the grid stops it: a scale-to-zero pool that flaps on its idle rule', () => {
    // Two minutes of GPU work every 12 minutes: mlscale wakes for each and goes to zero 5 idle minutes later.
    const pulses = Array.from({ length: 240 }, (_, m) => (m % 12 < 2 ? 6 : 0));
    const gpu = simPool('gpu-modules');
    const c = compare(minuteTrace(pulses), gpu, ['mlscale', 'oracle']);
    const cures = flapCures(streamOf(minuteTrace(pulses)), gpu, c.policies);
    expect(cures).toHaveLength(1);
    expect(cures[0]).toMatchObject({ policy: 'mlscale', cure: null });
    expect(flapNotes(cures, gpu)[0]).toMatch(
      /^mlscale flaps: .* none of the scale-in cooldowns 600, 900, 1,200, 1,800 s stops it \(still \d+ reversals an hour at 1,800 s\): it goes to zero on the idle rule, which no scale-in cooldown delays: lengthen idleMinutes instead\.$/,
    );
  });

  it('replays nothing when nothing flaps, and tries nothing longer than the grid', () => {
    const never: TraceStream = { ...streamOf(minuteTrace(WAVE)), forEachMinute: () => expect.fail('replayed') };
    expect(flapCures(never, ENGINE, { oracle: compare(minuteTrace(WAVE), ENGINE, ['oracle']).policies.oracle })).toEqual([]);
    const long = withScaleInCooldown(ENGINE, 1800);
    const c = compare(minuteTrace(WAVE), ENGINE, ['target-tracking', 'oracle']);
    const [f] = flapCures(never, long, { 'target-tracking': c.policies['target-tracking'] });
    expect(f).toMatchObject({ scaleInCooldownSeconds: 1800, tried: [], cure: null });
    expect(flapNotes([f!], long)[0]).toMatch(/with a scale-in cooldown of 1,800 s; no longer cooldown on the grid to try/);
  });
});

describe('mlscale simulate: FLAPS and thrash', () => {
  it('the table has a FLAPS column, the JSON flaps and flappingHours per policy and a thrash object', async () => {
    const table = await runCli('simulate');
    const lines = table.stdout.split('\n');
    expect(lines[2]!.split(/\s+/).at(-1)).toBe('FLAPS');
    const doc = JSON.parse((await runCli('simulate', '--json')).stdout) as {
      policies: Record<string, { flaps: number; flappingHours: number }>;
      thrash: { maxDirectionChangesPerHour: number; flapping: unknown[] };
    };
    expect(doc.thrash).toEqual({ maxDirectionChangesPerHour: 4, flapping: [] });
    lines.slice(3, 7).forEach((row, i) => {
      const cells = row.split(/\s+/);
      expect(cells[0]).toBe(POLICIES[i]);
      expect(Number(cells.at(-1))).toBe(doc.policies[POLICIES[i]!]!.flaps);
    });
  });
});
