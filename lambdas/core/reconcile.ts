/**
 * The reconciler's decision (DESIGN.md "Holds and the reconciler"): from the
 * configured limits, the target's holds and what the target looks like now,
 * the limits, suspension and desired capacity it must have. Level-triggered,
 * like a Kubernetes controller: nothing here depends on what happened
 * before, so a missed or failed pass is repaired by the next one, and once
 * every hold has expired one pass restores the configured state.
 */
import { clamp } from './capacity';
import { holderKind, isActive, type Hold, type Suspension } from './holds';

export interface ConfiguredLimits {
  readonly min: number;
  readonly max: number;
  /** Highest max capacity any hold may ask for (the emergency ceiling). */
  readonly ceiling: number;
  /** The target may go to zero when idle (a scale-to-zero target with min 0). */
  readonly scaleToZero: boolean;
}

export interface ObservedLimits {
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly suspension: Suspension;
  /** ECS: an Application Auto Scaling target exists. Node groups always have their limits. */
  readonly registered: boolean;
  /**
   * The target has suspension switches (an Application Auto Scaling target).
   * A node group has none: nothing but the reconciler scales it, so a hold's
   * suspension is honoured by the reconciler alone and never written. @default true
   */
  readonly suspendable?: boolean;
}

/** May an idle scale-to-zero target go to zero now? (`lambdas/core/scale-to-zero.ts` decides.) */
export interface IdleVerdict {
  readonly idle: boolean;
  readonly reason: string;
}

export interface ReconcileInput {
  readonly configured: ConfiguredLimits;
  /** This target's holds, active or not. */
  readonly holds: readonly Hold[];
  readonly observed: ObservedLimits;
  /** Epoch ms. */
  readonly now: number;
  /** Scale-to-zero targets: the idle rule's verdict. */
  readonly idle?: IdleVerdict;
  /** A one-shot desired capacity an operator asked for (`mlscale scale`), kept within the limits. */
  readonly request?: { readonly desired: number; readonly by: string };
}

export interface Reconciliation {
  readonly min: number;
  readonly max: number;
  readonly suspension: Suspension;
  readonly desired: number;
  /** A `pause` hold is active: nothing automatic moves desired, whatever the other holds ask. */
  readonly paused: boolean;
  /** Holders of the active holds. */
  readonly holds: readonly string[];
  /** Which hold (or the config) sets each value, in words. */
  readonly why: { readonly min: string; readonly max: string; readonly suspension: string; readonly desired: string };
  /** What differs from the observed state. */
  readonly changes: { readonly limits: boolean; readonly desired: boolean };
}

const sameSuspension = (a: Suspension, b: Suspension) => a.dynamicIn === b.dynamicIn && a.dynamicOut === b.dynamicOut && a.scheduled === b.scheduled;

/** The highest value of `field` among `holds`, with its holder; undefined when none sets it. */
function highest(holds: readonly Hold[], field: 'floor' | 'ceiling'): { value: number; holder: string; reason: string } | undefined {
  let best: { value: number; holder: string; reason: string } | undefined;
  for (const h of holds) {
    const v = h[field];
    if (v !== undefined && (!best || v > best.value)) best = { value: v, holder: h.holder, reason: h.reason };
  }
  return best;
}

function suspensionOf(holds: readonly Hold[]): { suspension: Suspension; why: string } {
  const by = (f: 'suspendScaleIn' | 'suspendScaleOut' | 'suspendScheduled') => holds.filter((h) => h[f]).map((h) => h.holder);
  const [inBy, outBy, schedBy] = [by('suspendScaleIn'), by('suspendScaleOut'), by('suspendScheduled')];
  const parts = [
    inBy.length ? `scale-in suspended by ${inBy.join(', ')}` : '',
    outBy.length ? `scale-out suspended by ${outBy.join(', ')}` : '',
    schedBy.length ? `scheduled scaling suspended by ${schedBy.join(', ')}` : '',
  ].filter(Boolean);
  return {
    suspension: { dynamicIn: inBy.length > 0, dynamicOut: outBy.length > 0, scheduled: schedBy.length > 0 },
    why: parts.length ? parts.join('; ') : 'nothing suspended (no hold asks)',
  };
}

/**
 * min = max(configured min, active floors); max = max(configured max, active
 * ceilings, min), neither above the ceiling; suspension = what any active
 * hold asks; desired raised to min, brought within max, and taken to zero
 * only for an idle scale-to-zero target with no floor and scale-in allowed.
 * A release never lowers desired except to bring it within the configured
 * max. While a `pause` hold is active, nothing automatic moves desired (not
 * even another hold's floor): the limits bracket what the operator left.
 */
export function reconcile(input: ReconcileInput): Reconciliation {
  const { configured, observed, now } = input;
  const ceiling = Math.max(configured.ceiling, configured.max);
  const active = input.holds.filter((h) => isActive(h, now));

  const floor = highest(active, 'floor');
  let min = configured.min;
  let whyMin = `${configured.min} (configured)`;
  if (floor && floor.value > configured.min) {
    min = Math.min(floor.value, ceiling);
    whyMin = `${min} (${floor.holder}: ${floor.reason}${floor.value > ceiling ? `; capped at the ceiling ${ceiling}` : ''})`;
  }

  const raised = highest(active, 'ceiling');
  let max = configured.max;
  let whyMax = `${configured.max} (configured)`;
  if (raised && raised.value > max) {
    max = Math.min(raised.value, ceiling);
    whyMax = `${max} (${raised.holder}: ${raised.reason}${raised.value > ceiling ? `; capped at the ceiling ${ceiling}` : ''})`;
  }
  if (min > max) {
    max = min;
    whyMax = `${max} (raised to the minimum ${min})`;
  }

  const { suspension, why: whySuspension } = suspensionOf(active);
  // An operator's pause beats every other hold: nothing automatic moves desired until it ends.
  const paused = active.some((h) => holderKind(h.holder) === 'pause');

  let desired = observed.desired;
  let whyDesired = `${desired} (left to the autoscaler)`;
  if (input.request) {
    desired = paused ? clamp(input.request.desired, 0, ceiling) : clamp(input.request.desired, min, max);
    whyDesired = `${desired} (asked by ${input.request.by}${desired !== input.request.desired ? `, ${input.request.desired} kept within ${paused ? `0-${ceiling}` : `${min}-${max}`}` : ''})`;
  } else if (paused) {
    whyDesired = `${desired} (paused: nothing automatic moves it)`;
  } else if (configured.scaleToZero && input.idle?.idle && min === 0 && !suspension.dynamicIn && desired > 0) {
    desired = 0;
    whyDesired = `0 (idle: ${input.idle.reason})`;
  } else if (desired < min) {
    desired = min;
    whyDesired = `${min} (raised to the minimum)`;
  } else if (desired > max) {
    desired = max;
    whyDesired = `${max} (brought within the maximum)`;
  }
  if (paused) {
    // The operator's desired stands: the limits make room for it instead of moving it.
    if (desired < min) [min, whyMin] = [desired, `${desired} (paused at ${desired}; ${whyMin} applies on resume)`];
    if (desired > max) [max, whyMax] = [desired, `${desired} (paused at ${desired})`];
  }

  const suspensionChanged = observed.suspendable !== false && !sameSuspension(observed.suspension, suspension);
  const limitsChanged = !observed.registered || observed.min !== min || observed.max !== max || suspensionChanged;
  return {
    min,
    max,
    suspension,
    desired,
    paused,
    holds: active.map((h) => h.holder),
    why: { min: whyMin, max: whyMax, suspension: whySuspension, desired: whyDesired },
    changes: { limits: limitsChanged, desired: desired !== observed.desired },
  };
}
