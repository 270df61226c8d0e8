/**
 * The data the `--html` report is drawn from: everything render.ts needs, no
 * simulator types (html.ts builds it from a Comparison).
 */

export interface ReportSeries {
  readonly policy: string;
  /** Ready (serving) tasks per minute. */
  readonly ready: ArrayLike<number>;
  /** Tasks paid for per minute (ready + starting). */
  readonly tasks: ArrayLike<number>;
  /** Requests waiting at the end of each minute. */
  readonly backlog: ArrayLike<number>;
  /** Per-minute SLO-violation flags; turned into violation markers unless `markers` already has this policy's. */
  readonly violation?: ArrayLike<boolean | number>;
}

/** from/to: minute index into the trace (to exclusive; an emergency has to = from + 1). */
export interface ReportMarker {
  readonly kind: 'violation' | 'emergency' | 'event';
  readonly policy?: string;
  readonly from: number;
  readonly to: number;
  readonly label?: string;
}

export interface ReportInput {
  readonly title: string;
  /** Epoch ms of minute 0. */
  readonly startMs: number;
  /** One value per minute. */
  readonly loadRps: ArrayLike<number>;
  readonly series: readonly ReportSeries[];
  readonly markers: readonly ReportMarker[];
  readonly table: { readonly headers: readonly string[]; readonly rows: readonly (readonly string[])[] };
  readonly notes: readonly string[];
  readonly tuning?: { readonly recommend: boolean; readonly reason: string; readonly fragment?: unknown; readonly apply?: string; readonly heldOut?: string };
  /** One line under the title (pool and trace). */
  readonly subtitle?: string;
  /** Requests per second one task serves: links the task axis to the load axis (tasks × this = req/s). */
  readonly capacityPerTask?: number;
  /** At most this many points per series (default 20,000); longer traces are bucketed by maximum. */
  readonly maxPoints?: number;
  /**
   * The series (and `loadRps`) are already bucketed, each point the maximum
   * of this many minutes (the simulator buckets as it runs, to keep memory
   * flat); markers stay in minutes. Unset: one value per minute.
   */
  readonly bucketMinutes?: number;
  /** Minutes of the trace when the series are bucketed. @default loadRps.length */
  readonly minutes?: number;
}
