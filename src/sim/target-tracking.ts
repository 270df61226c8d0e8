/**
 * Application Auto Scaling target tracking as AWS documents it
 * (docs/aws-facts.md): per policy, a high alarm (3 of 3 one-minute
 * datapoints above target) and a low alarm (15 of 15 below 90 % of target);
 * scale out when any policy's high alarm fires, in only when every policy's
 * low alarm does; never on missing data; new capacity proportional to
 * metric / target out, and at most a quarter less per step in; scale-out and
 * scale-in cooldowns (a scale-out ends a running scale-in cooldown). Datapoints reach the
 * alarms one minute late (CloudWatch publishing delay).
 */

/**
 * One datapoint per minute, read by minute index; undefined = missing (or
 * before the first minute). A plain array is one; the simulator's controllers
 * keep a ring buffer of the last minutes instead (src/sim/ring.ts).
 */
export interface Series {
  get(minute: number): number | undefined;
}

export type SeriesLike = readonly (number | undefined)[] | Series;

/** A series from an array (read live: later writes to the array are seen) or a Series as it is. */
export function asSeries(s: SeriesLike): Series {
  if (!Array.isArray(s)) return s as Series;
  const xs = s as readonly (number | undefined)[];
  return { get: (m) => (m >= 0 ? xs[m] : undefined) };
}

export interface TrackedMetric {
  readonly name: string;
  readonly target: number;
  /** Datapoint per minute; undefined = missing. */
  readonly series: SeriesLike;
  /** Out-only policy (DisableScaleIn): its low alarm never votes for scale-in. */
  readonly scaleOutOnly?: boolean;
}

export interface StepPolicy {
  readonly series: SeriesLike;
  readonly threshold: number;
  /** Percent change per step: above threshold, above 2 × threshold. */
  readonly steps: readonly [number, number];
}

export const HIGH_DATAPOINTS = 3;
export const LOW_DATAPOINTS = 15;
export const LOW_FRACTION = 0.9;
/**
 * AWS documents that target tracking scales out proportionally but in "more
 * gradually", without the rate; the simulator removes at most this share of
 * capacity per scale-in (an assumption, docs/simulator.md).
 */
export const MAX_SCALE_IN_SHARE = 0.25;
/**
 * `decide(minute)` chooses the capacity of `minute`, at the end of minute − 1;
 * CloudWatch publishes a datapoint about a minute after its minute ends, so
 * the newest one the alarms see then is minute − 2.
 */
export const METRIC_DELAY_MINUTES = 2;

export interface TargetTrackingOptions {
  readonly scaleOutCooldownMinutes: number;
  readonly scaleInCooldownMinutes: number;
}

/**
 * The newest of the last `n` datapoints the alarm can see at `minute` when
 * every one of them is present and passes `test`; undefined otherwise (one
 * missing, one not passing, or not enough minutes yet).
 */
function allOf(series: Series, minute: number, n: number, test: (v: number) => boolean): number | undefined {
  const end = minute - METRIC_DELAY_MINUTES;
  if (end - n + 1 < 0) return undefined;
  // A missing datapoint or one that does not pass: no alarm either way, so the first one decides (newest first).
  const latest = series.get(end);
  if (latest === undefined || !test(latest)) return undefined;
  for (let m = end - 1; m >= end - n + 1; m--) {
    const v = series.get(m);
    if (v === undefined || !test(v)) return undefined;
  }
  return latest;
}

interface Tracked {
  readonly name: string;
  readonly target: number;
  readonly series: Series;
  readonly scaleOutOnly: boolean;
  readonly above: (v: number) => boolean;
  readonly below: (v: number) => boolean;
}

export class TargetTracking {
  private lastScaleIn = -Infinity;
  private lastStep = -Infinity;
  private readonly tracked: readonly Tracked[];
  private readonly voting: readonly Tracked[];
  private readonly capacity: Series;
  private readonly step: (Omit<StepPolicy, 'series'> & { readonly series: Series; readonly above: (v: number) => boolean }) | undefined;

  constructor(
    metrics: readonly TrackedMetric[],
    private readonly options: TargetTrackingOptions,
    /** Ready tasks per minute: the capacity that produced each datapoint. */
    capacity: SeriesLike,
    step?: StepPolicy,
  ) {
    this.tracked = metrics.map((m) => ({
      name: m.name,
      target: m.target,
      series: asSeries(m.series),
      scaleOutOnly: m.scaleOutOnly ?? false,
      above: (v: number) => v > m.target,
      below: (v: number) => v < LOW_FRACTION * m.target,
    }));
    this.voting = this.tracked.filter((m) => !m.scaleOutOnly);
    this.capacity = asSeries(capacity);
    this.step = step ? { ...step, series: asSeries(step.series), above: (v: number) => v > step.threshold } : undefined;
  }

  /** Capacity behind the newest datapoint the alarms see: the proportion is metric / target of that capacity. */
  private capacityBehind(minute: number): number {
    return this.capacity.get(minute - METRIC_DELAY_MINUTES) ?? 0;
  }

  /** A scale-out by any policy's alarm ends a running scale-in cooldown (the next scale-in waits for its low alarm only). */
  scaleOutHappened(): void {
    this.lastScaleIn = -Infinity;
  }

  /**
   * The desired capacity target tracking (and the step policy) would set at
   * `minute`, or undefined for no change; `desired` is what is already asked for.
   */
  decide(minute: number, desired: number, scaleInSuspended: boolean): { desired: number; reason: string } | undefined {
    const current = this.capacityBehind(minute);
    let out = desired;
    let reason: (() => string) | undefined;
    // At zero capacity target tracking acts on one datapoint of its metric (docs/aws-facts.md), not 3 of 3.
    // (A scale-out during the scale-out cooldown counts the capacity already added, which the
    // comparison with `desired` does; so the cooldown itself changes nothing here.)
    const datapoints = current === 0 ? 1 : HIGH_DATAPOINTS;
    for (const m of this.tracked) {
      const latest = allOf(m.series, minute, datapoints, m.above);
      if (latest === undefined) continue;
      const wanted = Math.ceil(Math.max(current, 1) * (latest / m.target));
      if (wanted > out) {
        out = wanted;
        reason = () => `${m.name} ${latest.toFixed(1)} > ${m.target} for ${datapoints} minute(s)`;
      }
    }
    const step = this.step;
    if (step && minute - this.lastStep >= this.options.scaleOutCooldownMinutes) {
      const latest = allOf(step.series, minute, HIGH_DATAPOINTS, step.above);
      if (latest !== undefined) {
        const pct = latest > 2 * step.threshold ? step.steps[1] : step.steps[0];
        const wanted = desired + Math.max(1, Math.ceil((desired * pct) / 100));
        if (wanted > out) {
          out = wanted;
          reason = () => `step: ${latest.toFixed(0)} > ${step.threshold} for ${HIGH_DATAPOINTS} minutes, +${pct} %`;
          this.lastStep = minute;
        }
      }
    }
    if (out > desired) {
      // "If another alarm triggers a scale-out activity during the scale-in cooldown period, Application Auto
      // Scaling scales out the target immediately. In this case, the scale-in cooldown period stops and doesn't
      // complete." (API reference, TargetTrackingScalingPolicyConfiguration, ScaleInCooldown)
      this.scaleOutHappened();
      return { desired: out, reason: reason!() };
    }

    if (scaleInSuspended || minute - this.lastScaleIn < this.options.scaleInCooldownMinutes) return undefined;
    if (this.voting.length === 0) return undefined;
    let wantedIn = 0;
    for (const m of this.voting) {
      const latest = allOf(m.series, minute, LOW_DATAPOINTS, m.below);
      if (latest === undefined) return undefined;
      wantedIn = Math.max(wantedIn, Math.ceil(current * (latest / m.target)));
    }
    // At most a quarter of capacity per step (floor(desired × 0.75) removed up to 40 %), at least one task.
    wantedIn = Math.max(wantedIn, desired - Math.max(1, Math.floor(desired * MAX_SCALE_IN_SHARE)));
    if (wantedIn < desired) {
      this.lastScaleIn = minute;
      return { desired: wantedIn, reason: `all policies below ${LOW_FRACTION * 100} % of target for ${LOW_DATAPOINTS} minutes` };
    }
    return undefined;
  }
}
