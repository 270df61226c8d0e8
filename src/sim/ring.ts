/**
 * Bounded per-minute history for the simulated controllers: the last
 * `capacity` minutes of one datapoint series, in a fixed Float64Array (NaN =
 * no datapoint). A controller reads at most its longest lookback back
 * (target tracking's 15 datapoints + the CloudWatch delay, the alarms, the
 * scale-to-zero window), so memory stays flat however long the trace is.
 */
import type { Series } from './target-tracking';

export class Ring implements Series {
  private readonly values: Float64Array;
  private newest = -1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a whole number >= 1, got ${capacity}`);
    this.values = new Float64Array(capacity).fill(NaN);
  }

  /** Minute `minute`'s datapoint (undefined = missing); minutes are written in order, one after another. */
  set(minute: number, v: number | undefined): void {
    if (minute !== this.newest + 1) throw new Error(`ring: minute ${minute} written after minute ${this.newest}`);
    this.values[minute % this.capacity] = v === undefined ? NaN : v;
    this.newest = minute;
  }

  get(minute: number): number | undefined {
    if (minute < 0 || minute > this.newest) return undefined;
    // A read further back than the ring keeps is a sizing bug, never a missing datapoint.
    if (minute <= this.newest - this.capacity) throw new Error(`ring: minute ${minute} is older than the ${this.capacity} minutes kept (newest ${this.newest})`);
    const v = this.values[minute % this.capacity]!;
    return Number.isNaN(v) ? undefined : v;
  }
}
