/**
 * Application Auto Scaling target tracking as AWS documents it
 * (../shared/AWS-FACTS.md): per policy, a high alarm (3 of 3 one-minute
 * datapoints above target) and a low alarm (15 of 15 below 90 % of target);
 * scale out when any policy's high alarm fires, in only when every policy's
 * low alarm does; never on missing data; new capacity proportional to
 * metric / target out, and at most a quarter less per step in; scale-out and
 * scale-in cooldowns. Datapoints reach the
 * alarms one minute late (CloudWatch publishing delay).
 */

export interface TrackedMetric {
  readonly name: string;
  readonly target: number;
  /** Datapoint per minute; undefined = missing. */
  readonly series: readonly (number | undefined)[];
  /** Out-only policy (DisableScaleIn): its low alarm never votes for scale-in. */
  readonly scaleOutOnly?: boolean;
}

export interface StepPolicy {
  readonly series: readonly (number | undefined)[];
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

/** Values of the last `n` datapoints the alarm can see at `minute`, or undefined if any is missing. */
function window(series: readonly (number | undefined)[], minute: number, n: number): number[] | undefined {
  const end = minute - METRIC_DELAY_MINUTES;
  if (end - n + 1 < 0) return undefined;
  const out: number[] = [];
  for (let m = end - n + 1; m <= end; m++) {
    const v = series[m];
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

export class TargetTracking {
  private lastScaleIn = -Infinity;
  private lastStep = -Infinity;

  constructor(
    private readonly metrics: readonly TrackedMetric[],
    private readonly options: TargetTrackingOptions,
    /** Ready tasks per minute: the capacity that produced each datapoint. */
    private readonly capacity: readonly number[],
    private readonly step?: StepPolicy,
  ) {}

  /** Capacity behind the newest datapoint the alarms see: the proportion is metric / target of that capacity. */
  private capacityBehind(minute: number): number {
    return this.capacity[minute - METRIC_DELAY_MINUTES] ?? 0;
  }

  /**
   * The desired capacity target tracking (and the step policy) would set at
   * `minute`, or undefined for no change; `desired` is what is already asked for.
   */
  decide(minute: number, desired: number, scaleInSuspended: boolean): { desired: number; reason: string } | undefined {
    const current = this.capacityBehind(minute);
    let out = desired;
    let reason = '';
    // At zero capacity target tracking acts on one datapoint of its metric (AWS-FACTS.md), not 3 of 3.
    // (A scale-out during the scale-out cooldown counts the capacity already added, which the
    // comparison with `desired` does; so the cooldown itself changes nothing here.)
    const datapoints = current === 0 ? 1 : HIGH_DATAPOINTS;
    for (const m of this.metrics) {
      const high = window(m.series, minute, datapoints);
      if (!high || !high.every((v) => v > m.target)) continue;
      const latest = high[high.length - 1]!;
      const wanted = Math.ceil(Math.max(current, 1) * (latest / m.target));
      if (wanted > out) {
        out = wanted;
        reason = `${m.name} ${latest.toFixed(1)} > ${m.target} for ${datapoints} minute(s)`;
      }
    }
    if (this.step && minute - this.lastStep >= this.options.scaleOutCooldownMinutes) {
      const high = window(this.step.series, minute, HIGH_DATAPOINTS);
      if (high && high.every((v) => v > this.step!.threshold)) {
        const latest = high[high.length - 1]!;
        const pct = latest > 2 * this.step.threshold ? this.step.steps[1] : this.step.steps[0];
        const wanted = desired + Math.max(1, Math.ceil((desired * pct) / 100));
        if (wanted > out) {
          out = wanted;
          reason = `step: ${latest.toFixed(0)} > ${this.step.threshold} for ${HIGH_DATAPOINTS} minutes, +${pct} %`;
          this.lastStep = minute;
        }
      }
    }
    if (out > desired) {
      return { desired: out, reason };
    }

    if (scaleInSuspended || minute - this.lastScaleIn < this.options.scaleInCooldownMinutes) return undefined;
    const voting = this.metrics.filter((m) => !m.scaleOutOnly);
    if (voting.length === 0) return undefined;
    let wantedIn = 0;
    for (const m of voting) {
      const low = window(m.series, minute, LOW_DATAPOINTS);
      if (!low || !low.every((v) => v < LOW_FRACTION * m.target)) return undefined;
      wantedIn = Math.max(wantedIn, Math.ceil(current * (low[low.length - 1]! / m.target)));
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
