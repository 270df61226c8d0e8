import { alarmStates } from '../aws/alarms';
import { startRunbook } from '../aws/step-functions';
import {
  executionName,
  holdOf,
  minuteStamp,
  planEmergencyRunbook,
  planEvent,
  planHoldRequest,
  planNodegroupScale,
  runbookTarget,
  RunbookInputError,
} from '../core/runbook-plan';
import { planRollout } from '../core/rollout-plan';
import { reconcileTargets } from '../reconcile/run';
import { observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';

const { logger } = observability('runbook');

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * The runbook state machines' helper, and the starter of the emergency runbook:
 * - `{ action: 'plan-event' | 'plan-emergency' | 'plan-nodegroup' | 'plan-rollout', input, execution? }`: validate and resolve a runbook's input;
 * - `{ action: 'hold', target, holder, floor | multiplier, until | minutes, reason, request?, ifAbsent? }`:
 *   write a hold (sized against the target's desired capacity now) and reconcile the target;
 * - `{ action: 'release', target, holder, owner? }`: release a hold (with `owner`: only the one that run wrote) and reconcile the target;
 * - `{ action: 'alarm-states', alarms }`: the alarms' states, metric and composite, and which are missing;
 * - an EventBridge "CloudWatch Alarm State Change" to ALARM: start the emergency
 *   runbook, named `<target>-<alarm minute>` so a repeated start of one incident is rejected.
 * Bad input throws RunbookInputError (one line), before anything is changed.
 */
export const handler = async (event: unknown): Promise<unknown> => {
  const doc = targetsFromEnv();
  if (!isObject(event)) throw new RunbookInputError('event must be a JSON object');

  if (event['detail-type'] === 'CloudWatch Alarm State Change' && isObject(event.detail)) {
    const detail = event.detail;
    const alarmName = String(detail.alarmName ?? '');
    const state = isObject(detail.state) ? detail.state : {};
    if (state.value !== 'ALARM') return { ignored: `alarm ${alarmName} is ${String(state.value)}` };
    const owners = doc.targets.filter((t) => t.alarms.includes(alarmName));
    if (owners.length === 0) throw new RunbookInputError(`alarm '${alarmName}' belongs to no target`);
    if (owners.length > 1) throw new RunbookInputError(`alarm '${alarmName}' is listed by targets ${owners.map((t) => t.name).join(' and ')}; an alarm belongs to one target`);
    const target = owners[0]!;
    const name = executionName(target.name, minuteStamp(String(state.timestamp ?? event.time ?? new Date().toISOString())));
    const result = await startRunbook(env('MLSCALE_EMERGENCY_RUNBOOK_ARN'), name, { target: target.name, alarms: target.alarms, trigger: alarmName });
    logger.info(result.started ? 'emergency runbook started' : 'emergency runbook already running for this incident', { name, alarmName });
    return { execution: name, ...result };
  }

  const now = new Date();
  switch (event.action) {
    case 'plan-event':
      return planEvent(event.input, doc, now, typeof event.execution === 'string' ? event.execution : undefined);
    case 'plan-emergency':
      return planEmergencyRunbook(event.input, doc);
    case 'plan-nodegroup':
      return planNodegroupScale(event.input, doc);
    case 'plan-rollout':
      return planRollout(event.input, doc, now, typeof event.execution === 'string' ? event.execution : '');
    case 'hold': {
      const input = isObject(event.request) ? event.request : event;
      if (event.owner !== undefined && (typeof event.owner !== 'string' || event.owner === '')) throw new RunbookInputError('owner must be a non-empty string');
      // The run that writes a hold is named in its reason, so a retry of the same run knows the hold for its own.
      const req0 = planHoldRequest(input, doc, now);
      const req = typeof event.owner === 'string' ? { ...req0, reason: `${req0.reason} [run ${event.owner}]` } : req0;
      const spec = doc.targets.find((t) => t.name === req.target.name)!;
      const store = holdStoreFor(doc);
      const before = (await reconcileTargets([spec], store, now)).targets[0]!;
      if (before.failed) throw new Error(`${spec.name} could not be read: ${before.error}`);
      let hold = holdOf(req, before.desired, now);
      const written = await store.put(hold, { ifAbsent: req.ifAbsent, now: now.getTime() });
      // Already held: report the hold in force, not the one not written. It is ours (`written`) when this
      // same run wrote it before (a retry after a timeout); another run's otherwise.
      let ours = written === 'written';
      if (written === 'exists') {
        const held = (await store.of(spec.name)).find((h) => h.holder === req.holder);
        ours = typeof event.owner === 'string' && held !== undefined && held.reason === hold.reason;
        hold = held ?? hold;
      }
      const after = (await reconcileTargets([spec], store, now, req.request !== undefined ? { request: { target: spec.name, desired: req.request, by: req.holder } } : {})).targets[0]!;
      if (after.failed) throw new Error(`hold ${req.holder} on ${spec.name} written but not applied (${after.error}); it ends by itself at ${new Date(hold.expiresAt * 1000).toISOString()}`);
      logger.info('hold', { hold, written, ours, outcome: after });
      return { holder: hold.holder, floor: hold.floor, written: ours, desired: after.desired, min: after.min, max: after.max, expiresAt: new Date(hold.expiresAt * 1000).toISOString() };
    }
    case 'release': {
      const target = runbookTarget(doc, event.target);
      if (typeof event.holder !== 'string' || event.holder === '') throw new RunbookInputError('holder must be a non-empty string');
      const spec = doc.targets.find((t) => t.name === target.name)!;
      if (event.owner !== undefined && (typeof event.owner !== 'string' || event.owner === '')) throw new RunbookInputError('owner must be a non-empty string');
      const store = holdStoreFor(doc);
      // With an owner, only the hold this run wrote (`[run <owner>]` in its reason): a second run of the same
      // event that fails must not take the first run's hold away.
      const released = await store.release(spec.name, event.holder, typeof event.owner === 'string' ? { reasonContains: `[run ${event.owner}]` } : {});
      const after = (await reconcileTargets([spec], store, now)).targets[0]!;
      if (after.failed) throw new Error(`hold ${event.holder} on ${spec.name} released; reconcile failed (${after.error}); the next pass retries`);
      logger.info('release', { holder: event.holder, released, outcome: after });
      return { holder: event.holder, released, desired: after.desired, min: after.min, max: after.max };
    }
    case 'alarm-states': {
      const alarms = event.alarms;
      if (!Array.isArray(alarms) || alarms.some((a) => typeof a !== 'string' || a === '')) throw new RunbookInputError('alarms must be a list of alarm names');
      const states = await alarmStates(alarms as string[]);
      return { ...states, complete: states.missing.length === 0, missingText: states.missing.join(', ') };
    }
    default:
      throw new RunbookInputError(
        `unknown action ${JSON.stringify(event.action)} (plan-event, plan-emergency, plan-nodegroup, plan-rollout, hold, release, alarm-states, or an alarm event)`,
      );
  }
};
