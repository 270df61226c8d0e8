import {
  OPENING_TIMEOUT_MS,
  incidentIdFor,
  incidentSuspension,
  planEmergency,
  planResume,
  type IncidentRecord,
} from '../core/emergency';
import { emergencyCeiling, type TargetSpec } from '../core/targets';
import { EcsServiceTarget } from '../aws/ecs-service-target';
import type { IncidentStore } from '../aws/incident-store';
import type { ScalableTarget } from '../aws/scalable-target';
import { RUNBOOK_SOURCE } from './event';

export interface EmergencyOutcome {
  readonly target: string;
  readonly outcome: 'doubled' | 'at-ceiling' | 'already-open' | 'resumed' | 'no-open-incident';
  readonly incidentId?: string;
  readonly from?: number;
  readonly to?: number;
  readonly min?: number;
  readonly max?: number;
  readonly reason: string;
}

/** The target's limits could not be restored after a failed change: operators must look now. */
export class CompensationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompensationError';
  }
}

/**
 * Double the target's capacity for a new incident, or do nothing when one is
 * open. Order: record the incident (atomic claim), raise limits and pause
 * scale-in, set desired. If a change fails, the limits and switches are put
 * back as they were and the incident is marked failed, so nothing is left
 * half-applied; then the error is raised.
 */
export async function triggerEmergency(
  spec: TargetSpec,
  target: ScalableTarget,
  store: IncidentStore,
  source: string,
  now: Date,
): Promise<EmergencyOutcome> {
  if (!spec.emergencyEnabled) throw new Error(`emergency doubling is disabled for target '${spec.name}'`);
  const existing = await store.current(spec.name);
  // A runbook execution repeating its own call (a Step Functions retry after the doubling took effect)
  // gets its incident back, so it goes on to monitor and resume instead of taking the "already handled" exit.
  if (existing?.status === 'open' && existing.after && source.startsWith(RUNBOOK_SOURCE) && existing.trigger === source) {
    return {
      target: spec.name,
      outcome: 'doubled',
      incidentId: existing.incidentId,
      ...(existing.before ? { from: existing.before.desired } : {}),
      to: existing.after.desired,
      min: existing.after.min,
      max: existing.after.max,
      reason: `incident ${existing.incidentId} was opened by this execution; returning it`,
    };
  }
  if (existing?.status === 'open' || (existing?.status === 'opening' && now.getTime() - Date.parse(existing.openedAt) < OPENING_TIMEOUT_MS)) {
    return {
      target: spec.name,
      outcome: 'already-open',
      incidentId: existing.incidentId,
      reason: `incident ${existing.incidentId} is already ${existing.status}; doubling once per incident`,
    };
  }

  // Claim first, read after: no other incident can be open or half-applied once the claim is ours,
  // so what is read is the state to restore.
  const claim: IncidentRecord = { target: spec.name, incidentId: incidentIdFor(spec.name, now), status: 'opening', openedAt: now.toISOString(), trigger: source };
  if (!(await store.claim(claim, now))) {
    const winner = await store.current(spec.name);
    return { target: spec.name, outcome: 'already-open', ...(winner ? { incidentId: winner.incidentId } : {}), reason: 'another trigger opened this incident first' };
  }
  let state;
  let plan;
  let record: IncidentRecord;
  try {
    state = await target.read();
    plan = planEmergency({ desired: state.desired, min: state.min, max: state.max }, emergencyCeiling(spec));
    record = { ...claim, status: 'open', before: { ...plan.before, suspension: state.suspension, registered: state.registered }, after: plan.after };
    await store.open(record);
  } catch (err) {
    // Nothing changed on the target yet: release the claim.
    await store.settle(claim, 'failed', now).catch(() => undefined);
    throw err;
  }

  try {
    await target.setLimits({ min: plan.after.min, max: plan.after.max, suspension: incidentSuspension(state.suspension), desired: plan.after.desired });
  } catch (err) {
    try {
      await target.setLimits({ min: state.min, max: state.max, suspension: state.suspension });
      if (!state.registered && target instanceof EcsServiceTarget) await target.deregister();
    } catch (restoreErr) {
      await store.settle(record, 'failed', now).catch(() => undefined);
      throw new CompensationError(
        `emergency change to ${spec.name} failed (${(err as Error).message}) and restoring min ${state.min} / max ${state.max} also failed (${(restoreErr as Error).message})`,
      );
    }
    try {
      await store.settle(record, 'failed', now);
    } catch (settleErr) {
      // The change is undone; only the record stays open. Keep the original error, and say so.
      (err as Error).message += ` (limits restored, but incident ${record.incidentId} could not be marked failed: ${(settleErr as Error).message}; resume it to close it)`;
    }
    throw err;
  }
  // A resume that ran while the change was landing restored the limits before the change did:
  // put them back again, so a resumed incident never leaves min raised or scale-in paused.
  // (Only a store that records incidents can tell; the table-less fallback reads them off the target.)
  const afterwards = store.atomic ? await store.current(spec.name).catch(() => undefined) : undefined;
  if (afterwards && (afterwards.incidentId !== record.incidentId || afterwards.status !== 'open')) {
    await target.setLimits({ min: state.min, max: state.max, suspension: state.suspension });
    return { target: spec.name, outcome: 'resumed', incidentId: record.incidentId, min: state.min, max: state.max, reason: 'resumed while the doubling was landing; limits restored' };
  }
  return {
    target: spec.name,
    outcome: plan.atCeiling ? 'at-ceiling' : 'doubled',
    incidentId: record.incidentId,
    from: plan.before.desired,
    to: plan.after.desired,
    min: plan.after.min,
    max: plan.after.max,
    reason: plan.reason,
  };
}

/**
 * Resume the autoscaler after an incident: restore exactly the recorded
 * min, max and suspension switches (and desired, if asked), then close the
 * incident. With no open incident it does nothing.
 */
export async function resumeEmergency(
  spec: TargetSpec,
  target: ScalableTarget,
  store: IncidentStore,
  restoreDesired: boolean,
  now: Date,
): Promise<EmergencyOutcome> {
  const open = await store.current(spec.name);
  if (open?.status !== 'open' || !open.before) return { target: spec.name, outcome: 'no-open-incident', reason: 'no open incident to resume' };
  const plan = planResume(open, restoreDesired);
  await target.setLimits({
    min: plan.capacity.min,
    max: plan.capacity.max,
    suspension: plan.suspension,
    ...(plan.setDesired ? { desired: plan.capacity.desired } : {}),
  });
  const wasRegistered = open.before.registered ?? true;
  if (!wasRegistered && target instanceof EcsServiceTarget) await target.deregister();
  await store.settle(open, 'resumed', now);
  return {
    target: spec.name,
    outcome: 'resumed',
    incidentId: open.incidentId,
    min: plan.capacity.min,
    max: plan.capacity.max,
    reason: `restored min ${plan.capacity.min} / max ${plan.capacity.max}${plan.setDesired ? ` and desired ${plan.capacity.desired}` : '; desired left to the autoscaler'}`,
  };
}
