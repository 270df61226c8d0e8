/**
 * How often a policy's desired capacity turned round (thrash detection,
 * #11 item 5), counted as the reconciler counts it (lambdas/core/flaps.ts)
 * on one lane's desired-capacity timeline, minute by minute:
 * - `peak` (the `flaps` figure): the most reversals in any rolling hour, the
 *   count the reconciler's flap alarm compares with
 *   `thrash.maxDirectionChangesPerHour` (`flapVerdict`: the hour ending at a
 *   minute, both ends included);
 * - `flappingHours`: hours of the trace (minutes 0-59, 60-119, … from its
 *   start) with more reversals than the maximum.
 * Only the last 61 minutes of desired capacity are kept, so memory stays flat.
 */
import { directionChanges, flapVerdict } from '../../lambdas/core/flaps';
import type { Point } from '../../lambdas/core/work';

const MINUTE = 60_000;
/** The rolling hour of `flapVerdict`: now and the 60 minutes before it. */
const WINDOW = 61;

export class FlapCounter {
  private readonly ring = new Float64Array(WINDOW);
  private last = -1;
  /** Moves of desired within the current trace hour (a move at its first minute came from the hour before). */
  private hourMoves = 0;
  /** Most reversals in any rolling hour. */
  peak = 0;
  /** Trace hours with more reversals than the maximum. */
  flappingHours = 0;

  constructor(
    /** Epoch ms of minute 0. */
    private readonly start: number,
    readonly maxPerHour: number,
  ) {}

  /** Count from now on (the minutes before stay in the window). */
  reset(): void {
    this.peak = 0;
    this.flappingHours = 0;
  }

  /** Desired capacity during minute `m` (minutes in order). */
  push(m: number, desired: number): void {
    if (m !== this.last + 1) throw new Error(`flaps: minute ${m} pushed after minute ${this.last}`);
    const moved = m > 0 && this.ring[(m - 1) % WINDOW] !== desired;
    this.ring[m % WINDOW] = desired;
    this.last = m;
    if (moved) {
      if (m % 60 !== 0) this.hourMoves++;
      // The count can only have grown at a move: the rolling maximum is reached at one.
      const { count } = flapVerdict(this.points(m - 60, m), this.time(m), this.maxPerHour);
      if (count > this.peak) this.peak = count;
    }
    if (m % 60 === 59) this.closeHour(m);
  }

  /** The last, partial hour of a trace counts too. */
  finish(): void {
    if (this.last >= 0 && this.last % 60 !== 59) this.closeHour(this.last);
  }

  private closeHour(m: number): void {
    // Fewer moves than max + 2 cannot make more than max reversals.
    if (this.hourMoves >= this.maxPerHour + 2) {
      const from = m - (m % 60);
      if (directionChanges(this.points(from, m)).count > this.maxPerHour) this.flappingHours++;
    }
    this.hourMoves = 0;
  }

  private time(m: number): number {
    return this.start + m * MINUTE;
  }

  private points(from: number, to: number): Point[] {
    const out: Point[] = [];
    for (let k = Math.max(0, from, this.last - WINDOW + 1); k <= to; k++) out.push({ t: this.time(k), v: this.ring[k % WINDOW]! });
    return out;
  }
}
