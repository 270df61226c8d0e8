/**
 * The step scale-in policy of an always-on pool with `scaleInMinutes` under
 * 15, as Application Auto Scaling runs it (the numbers and the arithmetic are
 * lambdas/core/scale-in.ts): target tracking keeps scaling out with
 * DisableScaleIn; this alarm, on the metric math "tasks removable" over CPU
 * and running tasks, one-minute datapoints seen METRIC_DELAY_MINUTES late,
 * fires when all of the last `minutes` datapoints are low, and while it is
 * in ALARM the policy is invoked each minute and removes what the newest
 * says (ChangeInCapacity) from the current desired capacity. "With
 * scale-in policies, ... scale-in activities are blocked until the cooldown
 * period has expired" (API reference, StepScalingPolicyConfiguration); a
 * scale-out by target tracking is not blocked by it, and ends it
 * (`scaleOutHappened`). Dynamic scale-in
 * suspended (a runbook's pause) suspends it too.
 */
import { scaleInDatapoint, SCALE_IN_LOW_FRACTION, scaleInStep, type ScaleInPolicy } from '../../lambdas/core/scale-in';
import { METRIC_DELAY_MINUTES, type Series } from './target-tracking';

export class StepScaleIn {
  private lastAction = -Infinity;
  private readonly cooldownMinutes: number;
  /** Step scale-ins carried out. */
  actions = 0;

  constructor(
    readonly policy: ScaleInPolicy,
    private readonly cpu: Series,
    /** Running tasks per minute (RunningTaskCount). */
    private readonly tasks: Series,
    private readonly lag: Series,
  ) {
    this.cooldownMinutes = policy.cooldownSeconds / 60;
  }

  /**
   * A scale-out by another policy's alarm (target tracking, the lag-growth step policy) ends the step's
   * cooldown, as it ends target tracking's scale-in cooldown (API reference, ScaleInCooldown: "the scale-in
   * cooldown period stops and doesn't complete"; StepScalingPolicyConfiguration says such a scale-out happens
   * "immediately", and the simulator applies the same end to the step policy's cooldown).
   */
  scaleOutHappened(): void {
    this.lastAction = -Infinity;
  }

  /** The alarm's datapoint at `m`: tasks removable, or undefined when a metric is missing. */
  private datapoint(m: number): number | undefined {
    const cpu = this.cpu.get(m);
    const tasks = this.tasks.get(m);
    if (cpu === undefined || tasks === undefined) return undefined;
    const lag = this.lag.get(m);
    if (this.policy.lagTarget !== undefined && lag === undefined) return undefined;
    return scaleInDatapoint(this.policy, cpu, tasks, lag);
  }

  /**
   * Desired capacity after the step at `minute` (from `desired`, never below `min`), or undefined for no
   * step: at the minimum there is nothing to remove, and while dynamic scale-in is suspended (a runbook's
   * pause) the policy is not run; either way no scaling activity (so no cooldown) starts.
   */
  decide(minute: number, desired: number, min: number, scaleInSuspended = false): { desired: number; reason: string } | undefined {
    if (scaleInSuspended || desired <= min || minute - this.lastAction < this.cooldownMinutes) return undefined;
    const newest = minute - METRIC_DELAY_MINUTES;
    if (newest - this.policy.minutes + 1 < 0) return undefined;
    const window: (number | undefined)[] = [];
    for (let k = newest - this.policy.minutes + 1; k <= newest; k++) window.push(this.datapoint(k));
    const remove = scaleInStep(this.policy, window);
    if (remove === 0) return undefined;
    this.lastAction = minute;
    this.actions++;
    return { desired: Math.max(min, desired - remove), reason: `CPU below ${SCALE_IN_LOW_FRACTION * 100} % of ${this.policy.cpuTarget} % for ${this.policy.minutes} minutes: -${remove}` };
  }
}
