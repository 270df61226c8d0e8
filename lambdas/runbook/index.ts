import { startRunbook } from '../aws/runbook-executions';
import { eventCapacity, executionName, minuteStamp, planEmergencyRunbook, planEvent, RunbookInputError, type Capacity, type EventPlan } from '../core/runbook-plan';
import { observability } from '../shared/observability';
import { targetsFromEnv } from '../shared/targets-env';

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
 * - `{ action: 'plan-event', input }`: validate a scale-for-event input, resolve times and target;
 * - `{ action: 'event-capacity', plan, recorded }`: what to hold during the event;
 * - `{ action: 'plan-emergency', input }`: resolve an emergency-scale-up input;
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
    const target = doc.targets.find((t) => t.alarms.includes(alarmName));
    if (!target) throw new RunbookInputError(`alarm '${alarmName}' belongs to no target`);
    const name = executionName(target.name, minuteStamp(String(state.timestamp ?? event.time ?? new Date().toISOString())));
    const result = await startRunbook(env('MLSCALE_EMERGENCY_RUNBOOK_ARN'), name, { target: target.name, alarms: target.alarms, trigger: alarmName });
    logger.info(result.started ? 'emergency runbook started' : 'emergency runbook already running for this incident', { name, alarmName });
    return { execution: name, ...result };
  }

  switch (event.action) {
    case 'plan-event':
      return planEvent(event.input, doc, new Date());
    case 'event-capacity': {
      const recorded = event.recorded as Capacity;
      for (const k of ['desired', 'min', 'max'] as const) {
        if (!isObject(recorded) || typeof recorded[k] !== 'number') throw new RunbookInputError(`recorded.${k} must be a number`);
      }
      return eventCapacity(event.plan as EventPlan, recorded);
    }
    case 'plan-emergency':
      return planEmergencyRunbook(event.input, doc, Number(process.env.MLSCALE_EMERGENCY_STABLE_MINUTES ?? 15));
    default:
      throw new RunbookInputError(`unknown action ${JSON.stringify(event.action)} (plan-event, event-capacity, plan-emergency, or an alarm event)`);
  }
};
