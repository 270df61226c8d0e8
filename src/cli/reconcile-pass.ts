import type { HoldStore } from '../../lambdas/aws/holds-store';
import type { TargetState } from '../../lambdas/aws/target-state';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { reconcileTargets, type TargetOutcome } from '../../lambdas/reconcile/run';
import { CliError } from './errors';
import { err } from './output';

/**
 * One reconcile pass for the target a command just wrote a hold for: the
 * CLI never writes capacity itself, it asks the reconciler (the code its
 * Lambda runs every minute) to apply the holds now. A pass that fails leaves
 * the hold in place; the next pass of the Lambda applies it.
 */
export async function reconcileNow(
  spec: TargetSpec,
  store: HoldStore,
  now: Date,
  written: string,
  request?: { readonly desired: number; readonly by: string },
): Promise<TargetOutcome> {
  const result = await reconcileTargets([spec], store, now, request ? { request: { target: spec.name, ...request } } : {});
  const outcome = result.targets[0]!;
  if (outcome.failed) {
    throw new CliError(`${written}, but applying it failed: ${outcome.error ?? 'unknown error'} (the reconciler Lambda applies it on its next pass, within a minute)`);
  }
  if (outcome.error) err(`Warning: ${outcome.error}`);
  return outcome;
}

/** What the pass changed, one line each: min, max, suspension (each with its reason). */
export function changeLines(before: TargetState, o: TargetOutcome, kind: TargetSpec['kind']): string[] {
  const lines: string[] = [];
  const move = (what: string, from: number, to: number, why: string) => {
    if (from !== to) lines.push(`${what} ${to > from ? 'raised' : 'lowered'} from ${from} to ${why}`);
  };
  move('min capacity', before.min, o.min, o.why.min);
  move('max capacity', before.max, o.max, o.why.max);
  const a = before.suspension;
  const b = o.suspension;
  if (kind === 'ecs-service' && (a.dynamicIn !== b.dynamicIn || a.dynamicOut !== b.dynamicOut || a.scheduled !== b.scheduled)) {
    lines.push(`suspension: ${o.why.suspension}`);
  }
  return lines;
}

/** `min 2 max 10, desired left to the autoscaler (holds: none)`: what the reconciler holds the target to now. */
export function heldSummary(before: TargetState, o: TargetOutcome): string {
  const desired =
    o.desired !== before.desired ? `desired ${before.desired} -> ${o.why.desired}` : o.paused ? `desired kept at ${o.desired} (paused)` : 'desired left to the autoscaler';
  return `min ${o.min} max ${o.max}, ${desired} (holds: ${o.holds.length ? o.holds.join(', ') : 'none'})`;
}
