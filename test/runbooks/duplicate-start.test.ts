import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { executionName, minuteStamp } from '../../lambdas/core/runbook-plan';
import { handler } from '../../lambdas/runbook/index';
import { exampleConfig } from '../util';
import { deploy, execute, runbookOf, seed, stubPlannerEnvironment, type Deployment } from './harness';
import { World } from './model';

/**
 * Step Functions rejects a second execution with the same name (per state
 * machine, for 90 days); that cannot run locally. What mlscale owns is the
 * name: the planner Lambda, started by the EventBridge rule, names the
 * emergency execution `<target>-<alarm minute>`, so every delivery of one
 * alarm transition asks for the same name, and it takes Step Functions'
 * ExecutionAlreadyExists as "already running", not as a failure.
 */

const d: Deployment = deploy(exampleConfig());
const ALARM = 'pipestream-production-engine-emergencyLatency';
const EMERGENCY_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pipestream-production-emergency-scale-up';
const sfn = mockClient(SFNClient);

/** An EventBridge "CloudWatch Alarm State Change" event, as CloudWatch sends it (state timestamps in +0000 form). */
function alarmEvent(alarmName: string, stateTimestamp: string, options: { id?: string; time?: string; state?: string } = {}) {
  return {
    version: '0',
    id: options.id ?? 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: options.time ?? '2026-11-23T10:15:43Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: options.state ?? 'ALARM', reason: 'Threshold Crossed', timestamp: stateTimestamp },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2026-11-23T09:02:10.000+0000' },
      configuration: { metrics: [] },
    },
  };
}

const alreadyExists = () => new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EMERGENCY_ARN}:engine-20261123T1015Z'`, $metadata: {} });

describe('starting the emergency runbook from an alarm (planner Lambda)', () => {
  beforeEach(() => {
    sfn.reset();
    stubPlannerEnvironment(d);
  });
  afterEach(() => vi.unstubAllEnvs());

  it('the planner is deployed with the emergency state machine\'s ARN', () => {
    expect(d.plannerEnv.MLSCALE_EMERGENCY_RUNBOOK_ARN).toBe(EMERGENCY_ARN);
  });

  it('starts the emergency state machine named <target>-<alarm minute>, with the target, its alarms and the trigger as input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${EMERGENCY_ARN}:engine-20261123T1015Z`, startDate: new Date() });

    const result = await handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000'));

    expect(result).toEqual({ execution: 'engine-20261123T1015Z', started: true, executionArn: `${EMERGENCY_ARN}:engine-20261123T1015Z` });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input.stateMachineArn).toBe(EMERGENCY_ARN);
    expect(input.name).toBe('engine-20261123T1015Z');
    expect(JSON.parse(input.input!)).toEqual({ target: 'engine', alarms: [ALARM], trigger: ALARM });
  });

  it('two deliveries of one alarm transition ask for the same name; the second is reported as already started, not as an error', async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: `${EMERGENCY_ARN}:engine-20261123T1015Z`, startDate: new Date() }).rejectsOnce(alreadyExists());

    const first = await handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000', { id: 'event-1', time: '2026-11-23T10:15:43Z' }));
    // EventBridge retried the delivery a minute later (new event id and time, same state change).
    const second = await handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000', { id: 'event-2', time: '2026-11-23T10:16:50Z' }));

    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(names).toEqual(['engine-20261123T1015Z', 'engine-20261123T1015Z']);
    expect(first).toMatchObject({ execution: 'engine-20261123T1015Z', started: true });
    expect(second).toEqual({ execution: 'engine-20261123T1015Z', started: false });
  });

  it('a transition in a later minute is a new incident: a new name', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    await handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000'));
    await handler(alarmEvent(ALARM, '2026-11-23T10:47:05.000+0000'));

    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual(['engine-20261123T1015Z', 'engine-20261123T1047Z']);
  });

  it('an alarm going back to OK starts nothing', async () => {
    const result = await handler(alarmEvent(ALARM, '2026-11-23T10:45:00.000+0000', { state: 'OK' }));

    expect(result).toEqual({ ignored: `alarm ${ALARM} is OK` });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('an alarm that belongs to no target is refused before any call', async () => {
    await expect(handler(alarmEvent('someone-elses-alarm', '2026-11-23T10:15:42.123+0000'))).rejects.toThrow("alarm 'someone-elses-alarm' belongs to no target");
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('any other StartExecution failure is an error (EventBridge retries the event)', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('not authorized to perform states:StartExecution'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));

    await expect(handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000'))).rejects.toThrow('not authorized');
  });

  it('the input it starts the runbook with passes the runbook\'s planning and runs it to the end', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    await handler(alarmEvent(ALARM, '2026-11-23T10:15:42.123+0000'));
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    const world = seed(new World(), d);

    const e = await execute(d, runbookOf(d, 'emergency-scale-up'), world, JSON.parse(call.input!), { name: call.name! });

    expect(e.status).toBe('SUCCEEDED');
    expect(e.path).toContain('Double capacity');
    expect(e.path.at(-1)).toBe('Resumed');
    expect(world.callsOf('cloudwatch:describeAlarms')[0]!.input).toEqual({ AlarmNames: [ALARM] });
    expect(world.notifications[0]!.message).toMatchObject({ execution: 'engine-20261123T1015Z' });
  });
});

describe('execution names', () => {
  it.each([
    ['2026-11-23T10:15:42.123+0000', '20261123T1015Z'],
    ['2026-11-23T10:15:59.999Z', '20261123T1015Z'],
    ['2026-11-23T11:15:00.000+01:00', '20261123T1015Z'],
  ])('minuteStamp(%s) = %s: one incident per target per minute, in UTC', (iso, stamp) => {
    expect(minuteStamp(iso)).toBe(stamp);
  });

  it('executionName keeps to what Step Functions accepts: [A-Za-z0-9_-], at most 80 characters', () => {
    const name = executionName('gpu.modules/east 1'.repeat(8), '20261123T1015Z');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionName('engine', '20261123T1015Z')).toBe('engine-20261123T1015Z');
  });
});
