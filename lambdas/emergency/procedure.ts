import type { HoldStore } from '../aws/holds-store';
import { emergencyHold, incidentClaim, incidentOf, openingRaise, watchIncident } from '../core/emergency-raise';
import { emergencyHolder, holderKind, isActive } from '../core/holds';
import { emergencyCeiling, type TargetSpec } from '../core/config/document';
import { reconcileTargets, type TargetOutcome } from '../reconcile/run';
import { readSignals, signalOf } from '../reconcile/signals';

export interface EmergencyOutcome {
  readonly target: string;
  readonly outcome: 'doubled' | 'at-ceiling' | 'not-needed' | 'already-open' | 'resumed' | 'no-open-incident';
  readonly incidentId?: string;
  readonly from?: number;
  readonly to?: number;
  readonly min?: number;
  readonly max?: number;
  /** When the incident's hold ends by itself (ISO time). */
  readonly expiresAt?: string;
  readonly reason: string;
}

/** The raise was recorded but could not be applied: the runbook releases the hold (or it expires). */
export class EmergencyApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmergencyApplyError';
  }
}

function applied(spec: TargetSpec, outcome: TargetOutcome | undefined, incident: string): TargetOutcome {
  if (!outcome || outcome.failed) {
    throw new EmergencyApplyError(`incident ${incident} on ${spec.name}: hold written but not applied (${outcome?.error ?? 'no outcome'}); it ends by itself or on resume`);
  }
  return outcome;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/**
 * Open an incident: write the target's `emergency:<incident>` hold (doubled
 * floor, max as far as the raise, scale-in suspended, ending `minutes` from
 * now) and reconcile the target at once. One incident is one hold: the write
 * is conditional, a retry of the same incident (a Step Functions retry after a
 * lost response or a timeout) gets its own hold back, and a trigger of
 * another incident while one is open does nothing.
 */
export async function triggerEmergency(spec: TargetSpec, store: HoldStore, incident: string, minutes: number, now: Date): Promise<EmergencyOutcome> {
  if (!spec.emergencyEnabled) throw new Error(`emergency doubling is disabled for target '${spec.name}'`);
  const nowMs = now.getTime();
  // Read the target before the holds: if another trigger's raise has landed, its hold is visible too.
  const before = await reconcileTargets([spec], store, now);
  const current = before.targets[0];
  if (!current || current.failed) throw new Error(`${spec.name} could not be read: ${current?.error ?? 'no outcome'}`);
  const claim = incidentClaim(await store.of(spec.name), incident, nowMs);
  if (claim.kind === 'other-open') {
    const { open } = claim;
    return { target: spec.name, outcome: 'already-open', incidentId: incidentOf(open.holder), expiresAt: iso(open.expiresAt), reason: `incident ${incidentOf(open.holder)} is open; one raise per incident` };
  }
  if (claim.kind === 'retry') {
    const { mine } = claim;
    // A retry of this incident: its hold is there; make sure it is applied.
    const again = applied(spec, (await reconcileTargets([spec], store, now)).targets[0], incident);
    return { target: spec.name, outcome: 'doubled', incidentId: incident, to: mine.floor ?? again.desired, min: again.min, max: again.max, expiresAt: iso(mine.expiresAt), reason: `incident ${incident} was opened by this caller; its hold is in force` };
  }
  // Sized to the backlog where the target has one; none at all when what is asked for already clears it in time.
  const signals = spec.drain ? await readSignals([spec], now) : undefined;
  const opening = openingRaise(current.desired, signals && signalOf(signals, spec.name, current.running), spec.drain, spec.maxCapacity, emergencyCeiling(spec));
  const raise = opening.raise;
  if (!raise) return { target: spec.name, outcome: 'not-needed', incidentId: incident, from: current.desired, to: current.desired, reason: opening.reason };
  const hold = emergencyHold(spec.name, incident, raise, nowMs, minutes);
  if ((await store.put(hold, { ifAbsent: true, now: nowMs })) === 'exists') {
    return { target: spec.name, outcome: 'already-open', incidentId: incident, reason: `incident ${incident} was opened by another trigger first` };
  }
  const outcome = applied(spec, (await reconcileTargets([spec], store, now)).targets[0], incident);
  return {
    target: spec.name,
    outcome: raise.atCeiling ? 'at-ceiling' : 'doubled',
    incidentId: incident,
    from: raise.from,
    to: outcome.desired,
    min: outcome.min,
    max: outcome.max,
    expiresAt: iso(hold.expiresAt),
    reason: opening.reason,
  };
}

export interface WatchOutcome {
  readonly target: string;
  readonly incidentId: string;
  /** The incident can end now: alarms OK, backlog back under its threshold, the configured max carries the load. */
  readonly drained: boolean;
  /** The raise after this minute (resized to the backlog, or as it was); undefined when the incident has no hold. */
  readonly floor?: number;
  readonly reason: string;
}

/**
 * One minute of an open incident (the runbook's monitor calls it): keep the
 * raise sized to what the backlog needs now and say whether the incident can
 * end early. Without a backlog signal the alarms alone decide.
 */
export async function watchEmergency(spec: TargetSpec, store: HoldStore, incident: string, alarmsOk: boolean, now: Date): Promise<WatchOutcome> {
  const hold = (await store.of(spec.name)).find((h) => h.holder === emergencyHolder(incident) && isActive(h, now.getTime()));
  if (!hold) return { target: spec.name, incidentId: incident, drained: false, reason: `no active hold for incident ${incident}` };
  const state = (await reconcileTargets([spec], store, now)).targets[0];
  const signals = spec.drain ? await readSignals([spec], now) : undefined;
  const watch = watchIncident(hold, signals && state ? signalOf(signals, spec.name, state.running) : undefined, spec.drain, spec.maxCapacity, emergencyCeiling(spec), alarmsOk);
  if (watch.resized) {
    await store.put(watch.resized);
    await reconcileTargets([spec], store, now);
  }
  return { target: spec.name, incidentId: incident, drained: watch.drained, floor: (watch.resized ?? hold).floor ?? 0, reason: watch.reason };
}

/**
 * End an incident: release its hold (or, with no incident named, every
 * emergency hold of the target) and reconcile, which restores whatever the
 * other holds and the config say. Desired is left to the autoscaler.
 */
export async function resumeEmergency(spec: TargetSpec, store: HoldStore, incident: string | undefined, now: Date): Promise<EmergencyOutcome> {
  const holders = incident ? [emergencyHolder(incident)] : (await store.of(spec.name)).filter((h) => holderKind(h.holder) === 'emergency').map((h) => h.holder);
  let released = 0;
  for (const holder of holders) if (await store.release(spec.name, holder)) released++;
  const outcome = (await reconcileTargets([spec], store, now)).targets[0];
  if (!outcome || outcome.failed) throw new Error(`${spec.name}: incident hold released; reconcile failed (${outcome?.error ?? 'no outcome'}); the next pass retries`);
  if (released === 0) {
    return { target: spec.name, outcome: 'no-open-incident', ...(incident ? { incidentId: incident } : {}), min: outcome.min, max: outcome.max, reason: `no ${incident ? `hold for incident ${incident}` : 'incident hold'} to release; limits reconciled` };
  }
  return {
    target: spec.name,
    outcome: 'resumed',
    ...(incident ? { incidentId: incident } : {}),
    min: outcome.min,
    max: outcome.max,
    reason: `released ${holders.join(', ')}; min ${outcome.min} / max ${outcome.max} (${outcome.why.min}); desired left to the autoscaler`,
  };
}
