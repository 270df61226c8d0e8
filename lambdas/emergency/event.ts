import type { TargetsDocument } from '../core/targets';

/** What the emergency handler was asked to do, whatever shape the event had. */
export type EmergencyRequest =
  | { readonly kind: 'act'; readonly action: 'trigger' | 'resume'; readonly target: string; readonly source: string; readonly restoreDesired: boolean }
  | { readonly kind: 'ignore'; readonly reason: string };

/** Source of a trigger sent by a runbook execution (`{ target, execution }`): the prefix, then the execution's ID. */
export const RUNBOOK_SOURCE = 'runbook execution ';

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
  return { kind: 'act', action: 'trigger', target: target.name, source: `${via}: ${alarmName}`, restoreDesired: false };
}

/**
 * Accepts: an EventBridge "CloudWatch Alarm State Change" event; a CloudWatch
 * alarm's direct Lambda action; an SNS-wrapped alarm message; or a direct
 * call `{ "target": "<name>" }` / `{ "action": "resume", "target": "<name>" }`.
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
    const { target, action = 'trigger', restoreDesired = false, execution } = event;
    if (typeof target !== 'string' || target === '') throw new EmergencyEventError('target must be a non-empty string');
    if (execution !== undefined && (typeof execution !== 'string' || execution === '')) throw new EmergencyEventError('execution must be a non-empty string');
    if (action !== 'trigger' && action !== 'resume') throw new EmergencyEventError(`action must be 'trigger' or 'resume', got '${String(action)}'`);
    if (typeof restoreDesired !== 'boolean') throw new EmergencyEventError('restoreDesired must be true or false');
    if (!doc.targets.some((t) => t.name === target)) {
      throw new EmergencyEventError(`unknown target '${target}' (known: ${doc.targets.map((t) => t.name).join(', ') || 'none'})`);
    }
    // A runbook execution names itself, so a retry of its own call is told apart from another trigger.
    return { kind: 'act', action, target, source: execution ? `${RUNBOOK_SOURCE}${execution}` : 'direct call', restoreDesired };
  }
  throw new EmergencyEventError(
    'unrecognised event: expected a CloudWatch alarm state change (EventBridge, alarm action or SNS) or { "target": "<name>" }',
  );
}
