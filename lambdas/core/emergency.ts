/**
 * Emergency doubling (the TenSafe emergency procedure): double capacity at
 * once, keep the autoscaler from scaling it back in, and restore exactly what
 * was there once the runbook resumes. Pure decisions; the handler applies them.
 */

export interface Capacity {
  readonly desired: number;
  readonly min: number;
  readonly max: number;
}

export interface EmergencyPlan {
  readonly before: Capacity;
  readonly after: Capacity;
  readonly atCeiling: boolean;
  readonly reason: string;
}

/**
 * ceil(desired × 2), at least +1, capped at the emergency ceiling. Min is
 * raised to the new desired so target tracking cannot scale in below it; max
 * is raised to the ceiling, so target tracking (whose scale-out stays on) can
 * add more if doubling was not enough — never past the ceiling. Resume puts
 * both back.
 */
export function planEmergency(before: Capacity, ceiling: number): EmergencyPlan {
  if (!Number.isInteger(ceiling) || ceiling < 1) throw new Error(`emergency ceiling must be a positive integer, got ${ceiling}`);
  const doubled = Math.max(Math.ceil(before.desired * 2), before.desired + 1);
  const desired = Math.max(before.desired, Math.min(doubled, ceiling));
  const atCeiling = desired >= ceiling;
  const after: Capacity = { desired, min: Math.max(before.min, desired), max: Math.max(before.max, ceiling, desired) };
  const reason =
    desired === before.desired
      ? `already at or above the emergency ceiling ${ceiling}; holding ${desired} and pausing scale-in`
      : `doubled ${before.desired} -> ${desired}${atCeiling ? ` (capped at the emergency ceiling ${ceiling})` : ''}`;
  return { before, after, atCeiling, reason };
}

/** Dynamic/scheduled scaling switches of an Application Auto Scaling target. */
export interface Suspension {
  readonly dynamicIn: boolean;
  readonly dynamicOut: boolean;
  readonly scheduled: boolean;
}

export const NOT_SUSPENDED: Suspension = { dynamicIn: false, dynamicOut: false, scheduled: false };

/**
 * During an incident the autoscaler may still scale out but not in, and no
 * scheduled action (predictive, planned event) may lower the raised minimum.
 */
export function incidentSuspension(before: Suspension): Suspension {
  return { dynamicIn: true, dynamicOut: before.dynamicOut, scheduled: true };
}

/**
 * opening: a trigger has claimed the target and is reading its state (resume
 * leaves it alone); open: recorded and applied, resume restores it;
 * resumed / failed: over.
 */
export type IncidentStatus = 'opening' | 'open' | 'resumed' | 'failed';

/** An `opening` claim older than this is a trigger that died half-way; a new trigger may take over. */
export const OPENING_TIMEOUT_MS = 5 * 60_000;

/** What the incident table holds per target: one incident at a time. */
export interface IncidentRecord {
  readonly target: string;
  readonly incidentId: string;
  readonly status: IncidentStatus;
  readonly openedAt: string;
  readonly trigger: string;
  /**
   * What was there before (absent while `opening`). `registered`: whether an
   * Application Auto Scaling target existed (ECS); resume restores "none" too.
   */
  readonly before?: Capacity & { readonly suspension: Suspension; readonly registered?: boolean };
  readonly after?: Capacity;
  readonly closedAt?: string;
}

/** An incident id readable by operators: target and opening minute. */
export function incidentIdFor(target: string, now: Date): string {
  return `${target}-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

/** What resume restores: exactly the recorded limits and switches; desired only on request. */
export function planResume(record: IncidentRecord, restoreDesired: boolean): { capacity: Capacity; suspension: Suspension; setDesired: boolean } {
  if (!record.before) throw new Error(`incident ${record.incidentId} has no recorded state to restore (status ${record.status})`);
  const { desired, min, max } = record.before;
  return { capacity: { desired, min, max }, suspension: record.before.suspension, setDesired: restoreDesired };
}
