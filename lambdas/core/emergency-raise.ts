/**
 * The emergency procedure as a hold: an incident is one `emergency:<id>` hold
 * on its target that raises the floor, lets max rise only as far as the
 * raise, and suspends scale-in, for at most the runbook's monitoring time.
 * When the runbook releases it (alarms OK for the stable period) or it
 * expires (the runbook died), the reconciler restores the configured state.
 */
import { drainCapacity, emergencyNeed, type BacklogSignal, type DrainSpec } from './drain';
import { emergencyHolder, epochSeconds, holderKind, isActive, type Hold } from './holds';

export interface EmergencyRaise {
  /** Desired before the incident. */
  readonly from: number;
  /** The floor the hold sets: the capacity to reach now. */
  readonly floor: number;
  /** Max capacity during the incident: as far as the raise, never less than configured. */
  readonly ceiling: number;
  readonly atCeiling: boolean;
  readonly reason: string;
}

/**
 * Double: ceil(desired × 2), at least +1, capped at the emergency ceiling.
 * Max rises only as far as the raise: raising it to the ceiling let target
 * tracking ask for far more than the incident needed (docs/benchmarks.md).
 */
export function doublingRaise(desired: number, configuredMax: number, ceiling: number): EmergencyRaise {
  if (!Number.isInteger(ceiling) || ceiling < 1) throw new Error(`emergency ceiling must be a positive integer, got ${ceiling}`);
  const doubled = Math.max(Math.ceil(desired * 2), desired + 1);
  const floor = Math.max(desired, Math.min(doubled, ceiling));
  const atCeiling = floor >= ceiling;
  const reason =
    floor === desired
      ? `already at or above the emergency ceiling ${ceiling}; holding ${floor} with scale-in suspended`
      : `doubled ${desired} -> ${floor}${atCeiling ? ` (capped at the emergency ceiling ${ceiling})` : ''}`;
  return { from: desired, floor, ceiling: Math.max(configuredMax, floor), atCeiling, reason };
}

/**
 * Sized to the backlog: the capacity that clears it within the drain time
 * (lambdas/core/drain.ts `emergencyNeed`), capped at the emergency ceiling,
 * never below what is asked for already; max rises only as far as the raise.
 */
export function drainRaise(desired: number, need: number, configuredMax: number, ceiling: number, why: string): EmergencyRaise {
  if (!Number.isInteger(ceiling) || ceiling < 1) throw new Error(`emergency ceiling must be a positive integer, got ${ceiling}`);
  const floor = Math.max(desired, Math.min(need, ceiling));
  const atCeiling = need >= ceiling;
  return {
    from: desired,
    floor,
    ceiling: Math.max(configuredMax, floor),
    atCeiling,
    reason: `raised ${desired} -> ${floor}: ${why}${atCeiling && need > ceiling ? ` (capped at the emergency ceiling ${ceiling})` : ''}`,
  };
}

/** The incident's hold: floor, ceiling and scale-in suspended until `minutes` from now. */
export function emergencyHold(target: string, incident: string, raise: EmergencyRaise, now: number, minutes: number): Hold {
  const createdAt = epochSeconds(now);
  return {
    target,
    holder: emergencyHolder(incident),
    floor: raise.floor,
    ceiling: raise.ceiling,
    suspendScaleIn: true,
    reason: `incident ${incident}: ${raise.reason}`,
    createdAt,
    expiresAt: createdAt + minutes * 60,
  };
}

/** The active incident hold of a target, if any (the oldest when a race left two). */
export function openIncident(holds: readonly Hold[], now: number): Hold | undefined {
  return holds
    .filter((h) => holderKind(h.holder) === 'emergency' && isActive(h, now))
    .sort((a, b) => a.createdAt - b.createdAt || a.holder.localeCompare(b.holder))[0];
}

/** The incident id of an `emergency:<id>` holder. */
export const incidentOf = (holder: string) => holder.slice('emergency:'.length);

/**
 * What a trigger of `incident` finds, one incident being one hold: another
 * incident open (do nothing), this incident's own hold (a retry after a lost
 * response or a timeout: its hold is in force), or nothing (open it).
 */
export type IncidentClaim = { readonly kind: 'other-open'; readonly open: Hold } | { readonly kind: 'retry'; readonly mine: Hold } | { readonly kind: 'new' };

export function incidentClaim(holds: readonly Hold[], incident: string, now: number): IncidentClaim {
  const own = emergencyHolder(incident);
  const open = openIncident(holds, now);
  if (open && open.holder !== own) return { kind: 'other-open', open };
  const mine = holds.find((h) => h.holder === own && isActive(h, now));
  return mine ? { kind: 'retry', mine } : { kind: 'new' };
}

/** An incident id readable by operators: target and opening minute (`engine-20261202-1015`). */
export function incidentIdFor(target: string, now: Date): string {
  return `${target}-${now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}`;
}

/**
 * Keep an open incident's raise sized to what the backlog needs now: up at
 * once when it needs more, down (floor and max together, so desired follows)
 * once it needs clearly less, by at least a tenth or one task — a minute's
 * noise must not shake tasks loose. Undefined: leave the hold as it is.
 */
export function resizedIncident(hold: Hold, need: number, configuredMax: number, ceiling: number): Hold | undefined {
  const floor = Math.min(ceiling, Math.max(need, 1));
  const current = hold.floor ?? 0;
  const down = floor <= current - Math.max(1, Math.ceil(current * 0.1));
  if (floor <= current && !down) return undefined;
  const incident = incidentOf(hold.holder);
  return { ...hold, floor, ceiling: Math.max(configuredMax, floor), reason: `incident ${incident}: resized ${current} -> ${floor} to the backlog` };
}

/** An open incident's raise is kept at what carries the arrivals and drains the backlog at 90 % of per-task capacity. */
export const INCIDENT_UTILIZATION = 0.9;

/**
 * The raise an emergency opens with: sized to the backlog when the target
 * has a backlog signal — and none at all when the capacity already asked for
 * clears it in time (the emergency would not earn its cost) — or a doubling
 * when it has no backlog to size from (or the metrics could not be read).
 */
export function openingRaise(
  desired: number,
  signal: BacklogSignal | undefined,
  drain: DrainSpec | undefined,
  configuredMax: number,
  ceiling: number,
): { raise?: EmergencyRaise; reason: string } {
  if (!drain || !signal) {
    const raise = doublingRaise(desired, configuredMax, ceiling);
    return { raise, reason: `${raise.reason}${drain ? ' (no backlog reading to size the raise from)' : ''}` };
  }
  const need = emergencyNeed(signal.observation, signal.ready, desired, drain);
  if (!need.fire) return { reason: `not needed: ${need.reason}` };
  const raise = drainRaise(desired, need.need, configuredMax, ceiling, need.reason);
  return { raise, reason: raise.reason };
}

/**
 * One minute of an open incident: keep its raise sized to the backlog, and
 * say whether it is over early — the alarms are OK, the backlog is back at
 * its threshold, and the configured max carries what arrives.
 */
export function watchIncident(
  hold: Hold,
  signal: BacklogSignal | undefined,
  drain: DrainSpec | undefined,
  configuredMax: number,
  ceiling: number,
  alarmsOk: boolean,
): { resized?: Hold; drained: boolean; reason: string } {
  if (!drain || !signal) return { drained: false, reason: 'no backlog signal: the alarms alone decide' };
  const atFull = drainCapacity(signal.observation, signal.ready, { ...drain, targetUtilization: 1 });
  const drained = alarmsOk && signal.observation.backlog <= drain.backlogThreshold && atFull <= configuredMax;
  if (drained) return { drained, reason: `backlog ${Math.round(signal.observation.backlog)} is back under ${drain.backlogThreshold} and ${configuredMax} tasks carry what arrives` };
  const resized = resizedIncident(hold, drainCapacity(signal.observation, signal.ready, { ...drain, targetUtilization: INCIDENT_UTILIZATION }), configuredMax, ceiling);
  return { ...(resized ? { resized } : {}), drained, reason: resized ? resized.reason : `raise ${hold.floor ?? 0} still fits the backlog` };
}
