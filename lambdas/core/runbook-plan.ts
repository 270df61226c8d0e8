/**
 * Pure planning for the runbook state machines: validate an operator's
 * input, resolve the target, and compute times and capacities. The state
 * machines do the waiting, calling and polling.
 */
import { emergencyCeiling, type TargetSpec, type TargetsDocument } from './targets';

/** A runbook input that cannot be run: one line, nothing changed. */
export class RunbookInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunbookInputError';
  }
}

/** Where a target lives, in the shape the state machines' SDK calls take. */
export interface RunbookTarget {
  readonly name: string;
  readonly kind: TargetSpec['kind'];
  readonly cluster: string;
  /** ECS service name (ecs-service targets). */
  readonly service: string;
  /** EKS node group name (eks-nodegroup targets). */
  readonly nodegroup: string;
  /** Application Auto Scaling resource ID (ecs-service targets). */
  readonly resourceId: string;
  readonly ceiling: number;
}

export function runbookTarget(doc: TargetsDocument, name: unknown): RunbookTarget {
  if (typeof name !== 'string' || name === '') throw new RunbookInputError('target must be a non-empty string');
  const t = doc.targets.find((x) => x.name === name);
  if (!t) throw new RunbookInputError(`unknown target '${name}' (known: ${doc.targets.map((x) => x.name).join(', ') || 'none'})`);
  return {
    name: t.name,
    kind: t.kind,
    cluster: t.cluster,
    service: t.kind === 'ecs-service' ? t.service : '',
    nodegroup: t.kind === 'eks-nodegroup' ? t.nodegroup : '',
    resourceId: t.kind === 'ecs-service' ? `service/${t.cluster}/${t.service}` : '',
    ceiling: emergencyCeiling(t),
  };
}

/** Seconds between readiness polls, and how long a target may take to become ready. */
export const POLL_SECONDS = 30;
export function readinessPolls(kind: TargetSpec['kind']): number {
  // Fargate tasks start in about a minute; GPU nodes take minutes to boot and join.
  const minutes = kind === 'ecs-service' ? 10 : 20;
  return (minutes * 60) / POLL_SECONDS;
}

const MINUTE = 60_000;

function time(value: unknown, field: string): number {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(t) || typeof value !== 'string' || !/[zZ]|[+-]\d\d:?\d\d$/.test(value)) {
    throw new RunbookInputError(`${field} must be an ISO-8601 time with a zone, e.g. 2026-12-24T18:00:00Z, got ${JSON.stringify(value)}`);
  }
  return t;
}

function wholeMinutes(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_440) {
    throw new RunbookInputError(`${field} must be a whole number of minutes from 0 to 1440, got ${JSON.stringify(value)}`);
  }
  return value;
}

export interface EventPlan {
  readonly target: RunbookTarget;
  /** When to raise capacity: eventStart − leadMinutes (now if that has passed). */
  readonly startAt: string;
  /** When to restore: eventEnd + cooldownMinutes. */
  readonly restoreAt: string;
  readonly replicas: number;
  readonly multiplier: number;
  readonly maxPolls: number;
  readonly pollSeconds: number;
}

/**
 * scale-for-event input: { target, replicas | multiplier, eventStart, eventEnd,
 * leadMinutes = 30, cooldownMinutes = 20 }.
 */
export function planEvent(input: unknown, doc: TargetsDocument, now: Date): EventPlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  const hasReplicas = i.replicas !== undefined;
  const hasMultiplier = i.multiplier !== undefined;
  if (hasReplicas === hasMultiplier) throw new RunbookInputError('give exactly one of replicas or multiplier');
  if (hasReplicas && (typeof i.replicas !== 'number' || !Number.isInteger(i.replicas) || i.replicas < 1)) {
    throw new RunbookInputError(`replicas must be a whole number >= 1, got ${JSON.stringify(i.replicas)}`);
  }
  if (hasMultiplier && (typeof i.multiplier !== 'number' || !(i.multiplier > 1) || i.multiplier > 20)) {
    throw new RunbookInputError(`multiplier must be a number above 1 and at most 20, got ${JSON.stringify(i.multiplier)}`);
  }
  if (hasReplicas && (i.replicas as number) > target.ceiling) {
    throw new RunbookInputError(`replicas ${String(i.replicas)} is above the ceiling ${target.ceiling} of ${target.name}`);
  }
  const start = time(i.eventStart, 'eventStart');
  const end = time(i.eventEnd, 'eventEnd');
  if (end <= start) throw new RunbookInputError(`eventEnd must be after eventStart, got ${String(i.eventEnd)} <= ${String(i.eventStart)}`);
  const lead = wholeMinutes(i.leadMinutes, 'leadMinutes', 30);
  const cooldown = wholeMinutes(i.cooldownMinutes, 'cooldownMinutes', 20);
  const restoreAt = end + cooldown * MINUTE;
  if (restoreAt <= now.getTime()) throw new RunbookInputError(`the event is over: eventEnd + cooldown was ${new Date(restoreAt).toISOString()}`);
  return {
    target,
    startAt: new Date(Math.max(start - lead * MINUTE, now.getTime())).toISOString(),
    restoreAt: new Date(restoreAt).toISOString(),
    replicas: hasReplicas ? (i.replicas as number) : 0,
    multiplier: hasMultiplier ? (i.multiplier as number) : 0,
    maxPolls: readinessPolls(target.kind),
    pollSeconds: POLL_SECONDS,
  };
}

export interface Capacity {
  readonly desired: number;
  readonly min: number;
  readonly max: number;
}

/**
 * What to hold during the event, given what was recorded before it: the
 * replicas asked for (or multiplier × desired), never less than what runs
 * already, min raised with it (so target tracking cannot undo it), max raised
 * only when needed, never above the target's ceiling.
 */
export function eventCapacity(plan: Pick<EventPlan, 'replicas' | 'multiplier' | 'target'>, recorded: Capacity): Capacity {
  const wanted = plan.replicas > 0 ? plan.replicas : Math.ceil(plan.multiplier * Math.max(recorded.desired, 1));
  const desired = Math.min(plan.target.ceiling, Math.max(wanted, recorded.desired));
  return { desired, min: Math.max(recorded.min, desired), max: Math.max(recorded.max, desired) };
}

export interface EmergencyRunbookPlan {
  readonly target: RunbookTarget;
  /** Alarms that must be OK for the stable period; empty = wait the stable period. */
  readonly alarms: readonly string[];
  readonly hasAlarms: boolean;
  readonly stableMinutes: number;
  readonly stableSeconds: number;
  /** Give up monitoring (resume, report failure) after this many one-minute checks. */
  readonly maxMonitorMinutes: number;
  readonly maxPolls: number;
  readonly pollSeconds: number;
}

/** emergency-scale-up input: { target [, alarms] [, stableMinutes] [, maxMonitorMinutes] }. */
export function planEmergencyRunbook(input: unknown, doc: TargetsDocument, defaultStableMinutes: number): EmergencyRunbookPlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  const spec = doc.targets.find((t) => t.name === target.name)!;
  if (!spec.emergencyEnabled) throw new RunbookInputError(`emergency doubling is disabled for target '${target.name}'`);
  if (i.alarms !== undefined && (!Array.isArray(i.alarms) || i.alarms.some((a) => typeof a !== 'string'))) {
    throw new RunbookInputError('alarms must be a list of alarm names');
  }
  const alarms = (i.alarms as string[] | undefined) ?? spec.alarms;
  const stableMinutes = wholeMinutes(i.stableMinutes, 'stableMinutes', defaultStableMinutes);
  const maxMonitorMinutes = wholeMinutes(i.maxMonitorMinutes, 'maxMonitorMinutes', 180);
  if (maxMonitorMinutes < stableMinutes) {
    throw new RunbookInputError(`maxMonitorMinutes must be >= stableMinutes, got ${maxMonitorMinutes} < ${stableMinutes}`);
  }
  return {
    target,
    alarms,
    hasAlarms: alarms.length > 0,
    stableMinutes,
    stableSeconds: stableMinutes * 60,
    maxMonitorMinutes,
    maxPolls: readinessPolls(target.kind),
    pollSeconds: POLL_SECONDS,
  };
}

/**
 * Step Functions execution names are unique per state machine for 90 days:
 * name an execution after its target and incident and a second start of the
 * same incident is rejected. 80 characters of [A-Za-z0-9-_].
 */
export function executionName(...parts: readonly string[]): string {
  return parts
    .join('-')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

/** `2026-11-23T10:15:42.123Z` -> `20261123T1015Z`: one incident per target per minute. */
export function minuteStamp(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RunbookInputError(`not a time: ${iso}`);
  return new Date(t).toISOString().slice(0, 16).replace(/[-:]/g, '') + 'Z';
}
