/**
 * Holds: one actor's wish for one target, with an end (DESIGN.md "Holds and
 * the reconciler"). Every reason to move a target away from its configured
 * autoscaling state is a hold; the reconciler turns the active holds into
 * the target's limits. A hold ends by itself at `expiresAt`, whatever its
 * writer does afterwards: an aborted runbook, a crashed Lambda or a CLI user
 * who walked away cannot strand a raised minimum or a paused autoscaler.
 */

/** Who may hold a target; the part after `:` names the incident, event, window or execution. */
export const HOLDER_KINDS = ['emergency', 'event', 'predictive', 'peak-hours', 'wake', 'drain', 'manual', 'pause', 'rollout'] as const;
export type HolderKind = (typeof HOLDER_KINDS)[number];

/** Holder kinds that carry a name after `:` (`emergency:<incident>`); the others stand alone or take an optional one. */
const NAMED: ReadonlySet<HolderKind> = new Set(['emergency', 'event', 'peak-hours', 'rollout']);

export interface Hold {
  /** The target's name in the managed-targets document. */
  readonly target: string;
  /** `emergency:<incident>`, `event:<name>`, `predictive[:<window>]`, `peak-hours:<name>`, `wake`, `drain`, `manual`, `pause`, `rollout:<execution>`. */
  readonly holder: string;
  /** Lowest capacity while the hold is active. */
  readonly floor?: number;
  /** Max capacity may be raised to this while the hold is active (never past the target's emergency ceiling). */
  readonly ceiling?: number;
  readonly suspendScaleIn?: boolean;
  readonly suspendScaleOut?: boolean;
  readonly suspendScheduled?: boolean;
  /** In the operator's words: why. */
  readonly reason: string;
  /** Epoch seconds. */
  readonly createdAt: number;
  /** Epoch seconds; before it the hold is written but not yet in force (a planned window). @default createdAt */
  readonly startsAt?: number;
  /** Epoch seconds: from then on the hold counts as gone, whether or not DynamoDB's TTL has deleted it yet. */
  readonly expiresAt: number;
}

export const epochSeconds = (ms: number) => Math.floor(ms / 1000);

/** In force at `nowMs`: started and not expired. */
export function isActive(hold: Hold, nowMs: number): boolean {
  const now = nowMs / 1000;
  return (hold.startsAt ?? hold.createdAt) <= now && now < hold.expiresAt;
}

/** The kind of a holder string, or undefined when it is none of HOLDER_KINDS. */
export function holderKind(holder: string): HolderKind | undefined {
  const kind = holder.split(':', 1)[0] as HolderKind;
  return (HOLDER_KINDS as readonly string[]).includes(kind) ? kind : undefined;
}

/** `emergency:<incident>` for an incident id. */
export const emergencyHolder = (incident: string) => `emergency:${incident}`;
export const eventHolder = (name: string) => `event:${name}`;
export const peakHoursHolder = (name: string) => `peak-hours:${name}`;
export const rolloutHolder = (execution: string) => `rollout:${execution}`;
export const WAKE_HOLDER = 'wake';
export const DRAIN_HOLDER = 'drain';
export const MANUAL_HOLDER = 'manual';
export const PAUSE_HOLDER = 'pause';

/** A holder name: letters, digits and `-_.:` (they end up in DynamoDB keys, logs and CLI arguments). */
const HOLDER_TEXT = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Why a hold cannot be written, or undefined when it can. One line, naming the field. */
export function holdProblem(hold: Hold): string | undefined {
  if (!hold.target) return 'target must be a non-empty string';
  if (!HOLDER_TEXT.test(hold.holder)) return `holder must be letters, digits and '-_.:' (up to 200), got ${JSON.stringify(hold.holder)}`;
  const kind = holderKind(hold.holder);
  if (!kind) return `holder must start with one of ${HOLDER_KINDS.join(', ')}, got '${hold.holder}'`;
  const name = hold.holder.slice(kind.length + 1);
  if (NAMED.has(kind) && name === '') return `holder ${kind} needs a name after ':' (e.g. ${kind}:<name>)`;
  for (const field of ['floor', 'ceiling'] as const) {
    const v = hold[field];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) return `${field} must be a whole number >= 0, got ${v}`;
  }
  if (hold.floor !== undefined && hold.ceiling !== undefined && hold.floor > hold.ceiling) {
    return `floor must be <= ceiling, got ${hold.floor} > ${hold.ceiling}`;
  }
  if (!Number.isInteger(hold.createdAt) || !Number.isInteger(hold.expiresAt)) return 'createdAt and expiresAt must be whole epoch seconds';
  if (hold.expiresAt <= (hold.startsAt ?? hold.createdAt)) return `expiresAt must be after ${hold.startsAt !== undefined ? 'startsAt' : 'createdAt'}`;
  if (!hold.reason) return 'reason must say why';
  return undefined;
}

/** Suspension switches of an Application Auto Scaling target. */
export interface Suspension {
  readonly dynamicIn: boolean;
  readonly dynamicOut: boolean;
  readonly scheduled: boolean;
}

export const NOT_SUSPENDED: Suspension = { dynamicIn: false, dynamicOut: false, scheduled: false };


/** "2h", "90m", "30s", "1d" -> seconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { s: 1, m: 60, h: 3_600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : undefined;
}

/** 5400 -> "1h30m": how the CLI and logs show what is left of a hold. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = Math.floor(seconds % 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', !d && !h && s ? `${s}s` : ''].filter(Boolean);
  return parts.slice(0, 2).join('');
}
