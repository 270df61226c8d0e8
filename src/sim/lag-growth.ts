/**
 * The lag-growth step scaling policy as Application Auto Scaling runs it
 * (`scaleOnLagGrowth`; the policy's numbers are lambdas/core/lag-growth.ts):
 * the alarm on RATE(ConsumerLag) evaluated on one-minute datapoints seen
 * METRIC_DELAY_MINUTES late; while it is in ALARM the policy is invoked each
 * minute and adds growthAdjustment tasks (ChangeInCapacity) to the current
 * desired capacity. During the cooldown the capacity the previous step added
 * counts as part of the next one (Application Auto Scaling API reference,
 * StepScalingPolicyConfiguration, Cooldown: "capacity added by the
 * initiating scale-out activity is calculated as part of the desired
 * capacity for the next scale-out activity"): a larger step adds the
 * difference, the same step adds nothing. Out only: it never scales in.
 * With target tracking on the same target, "Application Auto Scaling gives
 * precedence to the policy that provides the largest capacity" (API
 * reference, PutScalingPolicy): the step's ask is carried out only when it is
 * larger.
 */
import { lagGrowthStep, type LagGrowthPolicy } from '../../lambdas/core/lag-growth';
import { METRIC_DELAY_MINUTES, type Series } from './target-tracking';

export class LagGrowthScaling {
  private lastAction = -Infinity;
  /** Desired capacity before the step that started the running cooldown. */
  private base = 0;
  private readonly cooldownMinutes: number;
  /** Step scale-outs carried out (the step's ask was the largest). */
  actions = 0;

  constructor(
    readonly policy: LagGrowthPolicy,
    /** Lag growth per second per minute (RATE(lag)); undefined = missing. */
    private readonly growth: Series,
  ) {
    this.cooldownMinutes = policy.cooldownSeconds / 60;
  }

  /**
   * Desired capacity the step policy asks for at `minute` (from `desired`, what
   * is asked for now), or undefined for nothing more. Asking changes nothing:
   * `applied` does, when the ask is the one carried out.
   */
  decide(minute: number, desired: number): { desired: number; reason: string } | undefined {
    const newest = minute - METRIC_DELAY_MINUTES;
    const window: (number | undefined)[] = [];
    for (let k = newest - this.policy.evaluationPeriods + 1; k <= newest; k++) window.push(k >= 0 ? this.growth.get(k) : undefined);
    const add = lagGrowthStep(this.policy, window);
    if (add === 0) return undefined;
    const wanted = (this.cooling(minute) ? this.base : desired) + add;
    if (wanted <= desired) return undefined;
    return { desired: wanted, reason: `lag growing ${window[window.length - 1]!.toFixed(1)}/s >= ${this.policy.threshold.toFixed(1)}/s for ${this.policy.datapointsToAlarm} minutes: +${add}` };
  }

  /**
   * The ask was carried out at `minute`, from `desired`: a step outside the
   * cooldown starts one (a larger step inside it does not restart it).
   */
  applied(minute: number, desired: number): void {
    if (!this.cooling(minute)) {
      this.base = desired;
      this.lastAction = minute;
    }
    this.actions++;
  }

  private cooling(minute: number): boolean {
    return minute - this.lastAction < this.cooldownMinutes;
  }
}
