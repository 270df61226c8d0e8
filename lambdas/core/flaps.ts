/**
 * Thrash detection (the runbooks' "auto-scaler oscillating" trouble): how
 * often a target's desired capacity turned round — up then down, or down
 * then up — in a window. A target that scales out and back in every few
 * minutes pays for start-ups it throws away and never settles; the usual
 * cure is a longer scale-in cooldown, which spaces scale-ins that follow each
 * other, or a wider target where scale-outs come between them (a scale-out
 * ends a running scale-in cooldown). Pure: the
 * reconciler counts it from the desired capacity it publishes each minute,
 * the simulator from its own timeline, with the same function.
 */
import type { Point } from './work';

export interface DirectionChanges {
  /** Times the direction of change reversed within the window. */
  readonly count: number;
  /** Minutes (epoch ms) at which each reversal happened. */
  readonly at: readonly number[];
  /** Changes of desired at all (up or down) within the window. */
  readonly moves: number;
}

/**
 * Reversals of direction in `series` (desired capacity over time, any
 * order) among the points with `from <= t < to`. Steady stretches between two
 * moves do not count: 4 → 6 → 6 → 6 → 4 is one reversal, 4 → 6 → 8 none.
 */
export function directionChanges(series: readonly Point[], from = -Infinity, to = Infinity): DirectionChanges {
  const points = series.filter((p) => p.t >= from && p.t < to && Number.isFinite(p.v)).sort((a, b) => a.t - b.t);
  let last: number | undefined;
  let direction = 0;
  let moves = 0;
  const at: number[] = [];
  for (const p of points) {
    if (last !== undefined && p.v !== last) {
      const d = Math.sign(p.v - last);
      moves++;
      if (direction !== 0 && d !== direction) at.push(p.t);
      direction = d;
    }
    last = p.v;
  }
  return { count: at.length, at, moves };
}

export interface FlapVerdict {
  readonly flapping: boolean;
  readonly count: number;
  readonly reason: string;
}

/** Is the target flapping: more reversals in the last hour than `max` (the config's `thrash.maxDirectionChangesPerHour`)? */
export function flapVerdict(series: readonly Point[], now: number, max: number): FlapVerdict {
  const hour = directionChanges(series, now - 3_600_000, now + 1);
  if (hour.count > max) {
    return { flapping: true, count: hour.count, reason: `desired capacity reversed direction ${hour.count} times in the last hour (more than ${max}): lengthen the scale-in cooldown, or where scale-outs come between the scale-ins (a scale-out ends the cooldown) give the target more room; mlscale simulate on this load says which stops it` };
  }
  return { flapping: false, count: hour.count, reason: `${hour.count} reversals in the last hour (at most ${max})` };
}
