import type { TargetsDocument } from '../core/config/document';

/** What the emergency handler was asked to do, whatever shape the event had. */
export type EmergencyRequest =
  | {
      readonly kind: 'act';
      readonly action: 'trigger' | 'resume' | 'watch';
      readonly target: string;
      readonly source: string;
      /** The incident: a runbook's execution name, or named by the caller; else one per target and minute. */
      readonly incident?: string;
      /** How long the incident's hold lasts if nobody resumes it. @default the document's emergency.holdMinutes */
      readonly holdMinutes?: number;
      /** watch: whether any of the incident's alarms is in ALARM this minute. */
      readonly inAlarm?: boolean;
    }
  | { readonly kind: 'ignore'; readonly reason: string };

/** `arn:aws:states:...:execution:<machine>:<name>` -> `<name>`; a plain name stays as it is. */
const executionNameOf = (execution: string) => execution.slice(execution.lastIndexOf(':') + 1);

/** A malformed or unroutable event: a one-line message, nothing done in AWS. */
export class EmergencyEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmergencyEventError';
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function byAlarm(doc: TargetsDocument, alarmName: unknown, state: unknown, via: string): EmergencyRequest {
  if (typeof alarmName !== 'string' || alarmName === '') throw new EmergencyEventError(`${via} event has no alarm name`);
  if (state !== 'ALARM') return { kind: 'ignore', reason: `alarm ${alarmName} is ${String(state)}, not ALARM; resuming is the runbook's call` };
  const target = doc.targets.find((t) => t.alarms.includes(alarmName));
  if (!target) throw new EmergencyEventError(`alarm '${alarmName}' belongs to no target (a target lists its alarms in MLSCALE_CONFIG)`);
  const dup = doc.targets.filter((t) => t.alarms.includes(alarmName));
  if (dup.length > 1) throw new EmergencyEventError(`alarm '${alarmName}' is listed by targets ${dup.map((t) => t.name).join(' and ')}; an alarm belongs to one target`);
  return { kind: 'act', action: 'trigger', target: target.name, source: `${via}: ${alarmName}` };
}

/**
 * Accepts: an EventBridge "CloudWatch Alarm State Change" event; a CloudWatch
 * alarm's direct Lambda action; an SNS-wrapped alarm message; or a direct
 * call `{ "target": "<name>" [, "incident"] [, "holdMinutes"] }` /
 * `{ "action": "resume", "target": "<name>" [, "incident"] }`.
 */
export function parseEmergencyEvent(event: unknown, doc: TargetsDocument): EmergencyRequest {
  if (!isObject(event)) throw new EmergencyEventError('event must be a JSON object');

  if (event['detail-type'] === 'CloudWatch Alarm State Change' && isObject(event.detail)) {
    const state = isObject(event.detail.state) ? event.detail.state.value : undefined;
    return byAlarm(doc, event.detail.alarmName, state, 'EventBridge');
  }
  if (event.source === 'aws.cloudwatch' && isObject(event.alarmData)) {
    const state = isObject(event.alarmData.state) ? event.alarmData.state.value : undefined;
    return byAlarm(doc, event.alarmData.alarmName, state, 'alarm action');
  }
  if (Array.isArray(event.Records)) {
    const record = event.Records[0] as Json | undefined;
    if (event.Records.length !== 1 || !isObject(record) || !isObject(record.Sns)) {
      throw new EmergencyEventError('SNS event must carry exactly one record with an Sns message');
    }
    let message: unknown;
    try {
      message = JSON.parse(String(record.Sns.Message));
    } catch {
      throw new EmergencyEventError('SNS message is not a CloudWatch alarm notification (not JSON)');
    }
    if (!isObject(message)) throw new EmergencyEventError('SNS message is not a CloudWatch alarm notification');
    return byAlarm(doc, message.AlarmName, message.NewStateValue, 'SNS');
  }
  if ('target' in event) {
    const { target, action = 'trigger', execution, incident, holdMinutes, inAlarm } = event;
    if (typeof target !== 'string' || target === '') throw new EmergencyEventError('target must be a non-empty string');
    if (execution !== undefined && (typeof execution !== 'string' || execution === '')) throw new EmergencyEventError('execution must be a non-empty string');
    if (incident !== undefined && (typeof incident !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(incident))) {
      throw new EmergencyEventError(`incident must be letters, digits and '-_.' (up to 80), got ${JSON.stringify(incident)}`);
    }
    if (holdMinutes !== undefined && (typeof holdMinutes !== 'number' || !Number.isInteger(holdMinutes) || holdMinutes < 1 || holdMinutes > 1_440)) {
      throw new EmergencyEventError(`holdMinutes must be a whole number of minutes from 1 to 1440, got ${JSON.stringify(holdMinutes)}`);
    }
    if (action !== 'trigger' && action !== 'resume' && action !== 'watch') throw new EmergencyEventError(`action must be 'trigger', 'resume' or 'watch', got '${String(action)}'`);
    if (action === 'watch' && (typeof incident !== 'string' || typeof inAlarm !== 'boolean')) {
      throw new EmergencyEventError('watch needs the incident (a string) and inAlarm (true or false)');
    }
    if (!doc.targets.some((t) => t.name === target)) {
      throw new EmergencyEventError(`unknown target '${target}' (known: ${doc.targets.map((t) => t.name).join(', ') || 'none'})`);
    }
    // A runbook execution is its incident: a retry of its own call finds its own hold.
    const named = incident ?? (execution ? executionNameOf(execution) : undefined);
    return {
      kind: 'act',
      action,
      target,
      source: execution ? `runbook execution ${execution}` : 'direct call',
      ...(named ? { incident: named } : {}),
      ...(holdMinutes !== undefined ? { holdMinutes } : {}),
      ...(typeof inAlarm === 'boolean' ? { inAlarm } : {}),
    };
  }
  throw new EmergencyEventError(
    'unrecognised event: expected a CloudWatch alarm state change (EventBridge, alarm action or SNS) or { "target": "<name>" }',
  );
}
