/**
 * Pure planning for the runbook state machines: validate an operator's
 * input, resolve the target, and compute times and capacities. The state
 * machines do the waiting, calling and polling.
 */
import { DEFAULTS } from './config/defaults';
import { epochSeconds, eventHolder, holdProblem, type Hold } from './holds';
import { emergencyCeiling, type TargetSpec, type TargetsDocument } from './config/document';

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

export function wholeMinutes(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_440) {
    throw new RunbookInputError(`${field} must be a whole number of minutes from 0 to 1440, got ${JSON.stringify(value)}`);
  }
  return value;
}

export interface EventPlan {
  readonly target: RunbookTarget;
  /** The event's name; its hold is `event:<name>`. */
  readonly name: string;
  readonly holder: string;
  /** When to raise capacity: eventStart − leadMinutes (now if that has passed). */
  readonly startAt: string;
  /** When to restore: eventEnd + cooldownMinutes. */
  readonly restoreAt: string;
  readonly replicas: number;
  readonly multiplier: number;
  readonly maxPolls: number;
  readonly pollSeconds: number;
  /** What the runbook Lambda's `hold` action is given when the lead time begins. */
  readonly hold: { readonly target: string; readonly holder: string; readonly floor?: number; readonly multiplier?: number; readonly until: string; readonly reason: string; readonly ifAbsent: true };
}

/** Event names become hold names: letters, digits, '-' and '_'. */
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * scale-for-event input: { target, replicas | multiplier, eventStart, eventEnd,
 * leadMinutes = 30, cooldownMinutes = 20, name = <execution name> }.
 */
export function planEvent(input: unknown, doc: TargetsDocument, now: Date, executionName = 'event'): EventPlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  const name = i.name ?? executionName;
  if (typeof name !== 'string' || !EVENT_NAME.test(name)) throw new RunbookInputError(`name must be letters, digits, '-' and '_' (up to 64), got ${JSON.stringify(name)}`);
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
  const lead = wholeMinutes(i.leadMinutes, 'leadMinutes', DEFAULTS.event.leadMinutes);
  const cooldown = wholeMinutes(i.cooldownMinutes, 'cooldownMinutes', DEFAULTS.event.cooldownMinutes);
  const restoreAt = end + cooldown * MINUTE;
  if (restoreAt <= now.getTime()) throw new RunbookInputError(`the event is over: eventEnd + cooldown was ${new Date(restoreAt).toISOString()}`);
  const holder = eventHolder(name);
  const replicas = hasReplicas ? (i.replicas as number) : 0;
  const multiplier = hasMultiplier ? (i.multiplier as number) : 0;
  return {
    target,
    name,
    holder,
    startAt: new Date(Math.max(start - lead * MINUTE, now.getTime())).toISOString(),
    restoreAt: new Date(restoreAt).toISOString(),
    replicas,
    multiplier,
    maxPolls: readinessPolls(target.kind),
    pollSeconds: POLL_SECONDS,
    hold: {
      target: target.name,
      holder,
      ...(replicas > 0 ? { floor: replicas } : { multiplier }),
      until: new Date(restoreAt).toISOString(),
      reason: `scale-for-event ${name}: ${replicas > 0 ? `${replicas} replicas` : `${multiplier} x capacity`} for ${String(i.eventStart)} to ${String(i.eventEnd)}`,
      ifAbsent: true,
    },
  };
}

export interface EmergencyRunbookPlan {
  readonly target: RunbookTarget;
  /** Alarms that must be OK for the stable period; empty = wait the stable period. */
  readonly alarms: readonly string[];
  readonly hasAlarms: boolean;
  readonly stableMinutes: number;
  readonly stableSeconds: number;
  /** Give up monitoring (report; the hold ends by itself) after this many one-minute checks. */
  readonly maxMonitorMinutes: number;
  /** The incident's hold lasts this long: readiness + monitoring + a margin, so it outlives the runbook but not by much. */
  readonly holdMinutes: number;
  readonly maxPolls: number;
  readonly pollSeconds: number;
}

/** emergency-scale-up input: { target [, alarms] [, stableMinutes] [, maxMonitorMinutes] }. */
/**
 * How long an emergency runbook's incident hold lasts: the capacity's readiness wait, the whole monitoring
 * time and five minutes more, at most a day. If the runbook dies, the hold ends by itself after that.
 */
export function emergencyHoldMinutes(kind: TargetSpec['kind'], maxMonitorMinutes: number): number {
  const readinessMinutes = (readinessPolls(kind) * POLL_SECONDS) / 60;
  return Math.min(1_440, readinessMinutes + maxMonitorMinutes + 5);
}

export function planEmergencyRunbook(input: unknown, doc: TargetsDocument): EmergencyRunbookPlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  const spec = doc.targets.find((t) => t.name === target.name)!;
  if (!spec.emergencyEnabled) throw new RunbookInputError(`emergency doubling is disabled for target '${target.name}'`);
  if (i.alarms !== undefined && (!Array.isArray(i.alarms) || i.alarms.some((a) => typeof a !== 'string'))) {
    throw new RunbookInputError('alarms must be a list of alarm names');
  }
  const alarms = (i.alarms as string[] | undefined) ?? spec.alarms;
  // The runbook may read the target's own alarms only (its role is scoped to them).
  const foreign = alarms.filter((a) => !spec.alarms.includes(a));
  if (foreign.length > 0) {
    throw new RunbookInputError(`alarms must be among ${target.name}'s alarms (${spec.alarms.join(', ') || 'none'}), got ${foreign.join(', ')}`);
  }
  const stableMinutes = wholeMinutes(i.stableMinutes, 'stableMinutes', doc.emergency.stableMinutes);
  const maxMonitorMinutes = wholeMinutes(i.maxMonitorMinutes, 'maxMonitorMinutes', doc.emergency.maxMonitorMinutes);
  if (maxMonitorMinutes < stableMinutes) {
    throw new RunbookInputError(`maxMonitorMinutes must be >= stableMinutes, got ${maxMonitorMinutes} < ${stableMinutes}`);
  }
  return {
    target,
    alarms,
    hasAlarms: alarms.length > 0,
    holdMinutes: emergencyHoldMinutes(target.kind, maxMonitorMinutes),
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

/** A hold a runbook asks the runbook Lambda to write: validated, with its floor still to size. */
export interface HoldRequest {
  readonly target: RunbookTarget;
  readonly holder: string;
  /** An absolute floor, or... */
  readonly floor?: number;
  /** ...this many times the desired capacity when the hold is written. */
  readonly multiplier?: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
  readonly reason: string;
  /** Also set desired to this now (within the limits). */
  readonly request?: number;
  /** Only if this holder has no active hold (one event, one hold). */
  readonly ifAbsent: boolean;
}

/** `{ target, holder, floor | multiplier, until | minutes, reason, request?, ifAbsent? }` from a runbook. */
export function planHoldRequest(input: unknown, doc: TargetsDocument, now: Date): HoldRequest {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  if (typeof i.holder !== 'string') throw new RunbookInputError('holder must be a string');
  if ((i.floor === undefined) === (i.multiplier === undefined)) throw new RunbookInputError('give exactly one of floor or multiplier');
  if (i.floor !== undefined && (typeof i.floor !== 'number' || !Number.isInteger(i.floor) || i.floor < 0)) {
    throw new RunbookInputError(`floor must be a whole number >= 0, got ${JSON.stringify(i.floor)}`);
  }
  if (typeof i.floor === 'number' && i.floor > target.ceiling) throw new RunbookInputError(`floor ${i.floor} is above the ceiling ${target.ceiling} of ${target.name}`);
  if (i.multiplier !== undefined && (typeof i.multiplier !== 'number' || !(i.multiplier > 1) || i.multiplier > 20)) {
    throw new RunbookInputError(`multiplier must be a number above 1 and at most 20, got ${JSON.stringify(i.multiplier)}`);
  }
  let expiresAt: number;
  if (i.until !== undefined) expiresAt = epochSeconds(time(i.until, 'until'));
  else expiresAt = epochSeconds(now.getTime()) + 60 * wholeMinutes(i.minutes, 'minutes', 60);
  if (expiresAt <= epochSeconds(now.getTime())) throw new RunbookInputError('the hold would already be over');
  if (i.request !== undefined && (typeof i.request !== 'number' || !Number.isInteger(i.request) || i.request < 0)) {
    throw new RunbookInputError(`request must be a whole number >= 0, got ${JSON.stringify(i.request)}`);
  }
  const reason = typeof i.reason === 'string' && i.reason ? i.reason : `runbook hold ${i.holder}`;
  const req: HoldRequest = {
    target,
    holder: i.holder,
    ...(typeof i.floor === 'number' ? { floor: i.floor } : {}),
    ...(typeof i.multiplier === 'number' ? { multiplier: i.multiplier } : {}),
    expiresAt,
    reason,
    ...(typeof i.request === 'number' ? { request: i.request } : {}),
    ifAbsent: i.ifAbsent === true,
  };
  const problem = holdProblem(holdOf(req, 1, now));
  if (problem) throw new RunbookInputError(problem);
  return req;
}

/** The hold itself, sized against the desired capacity the target has when it is written. */
export function holdOf(req: HoldRequest, desired: number, now: Date): Hold {
  const floor = req.floor ?? Math.min(req.target.ceiling, Math.ceil((req.multiplier ?? 1) * Math.max(desired, 1)));
  return { target: req.target.name, holder: req.holder, floor, reason: req.reason, createdAt: epochSeconds(now.getTime()), expiresAt: req.expiresAt };
}

export interface NodegroupScalePlan {
  readonly target: RunbookTarget;
  readonly desiredSize: number;
  readonly holdMinutes: number;
  readonly pollSeconds: number;
  readonly maxPolls: number;
}

/** gpu-nodegroup-scale input: { nodegroup (target name), desiredSize, holdMinutes = 60 }. */
export function planNodegroupScale(input: unknown, doc: TargetsDocument): NodegroupScalePlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.nodegroup ?? i.target);
  if (target.kind !== 'eks-nodegroup') throw new RunbookInputError(`${target.name} is not an EKS node group`);
  const spec = doc.targets.find((t) => t.name === target.name)!;
  if (typeof i.desiredSize !== 'number' || !Number.isInteger(i.desiredSize) || i.desiredSize < 0) {
    throw new RunbookInputError(`desiredSize must be a whole number >= 0, got ${JSON.stringify(i.desiredSize)}`);
  }
  if (i.desiredSize > spec.maxCapacity) throw new RunbookInputError(`desiredSize ${i.desiredSize} is above the max ${spec.maxCapacity} of ${target.name}`);
  const holdMinutes = wholeMinutes(i.holdMinutes, 'holdMinutes', 60);
  if (holdMinutes < 1) throw new RunbookInputError('holdMinutes must be at least 1 (the hold would already be over)');
  return { target, desiredSize: i.desiredSize, holdMinutes, pollSeconds: POLL_SECONDS, maxPolls: readinessPolls(target.kind) };
}
