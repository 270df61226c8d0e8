/**
 * Step Functions rejects a second execution with the same name (per state
 * machine, for 90 days). What mlscale owns is the name: the runbook Lambda,
 * started by the EventBridge rule, names the emergency execution
 * `<target>-<alarm minute>`, so every delivery of one alarm transition asks
 * for the same name, and it takes ExecutionAlreadyExists as "already
 * running", not as a failure. The execution is the incident: its hold is
 * `emergency:<execution name>`, so one incident is one hold. The rollout
 * likewise: `mlscale rollout` names it `<target>-rollout-<minute>`, and its
 * hold is `rollout:<execution name>`.
 */
import { describe, expect, it } from 'vitest';
import { startRunbook } from '../../lambdas/aws/step-functions';
import { executionName, minuteStamp } from '../../lambdas/core/runbook-plan';
import { runbookStateMachineName } from '../../lib/constructs/runbooks/runbooks';
import { deniedCalls, withPrincipal } from '../iam/guard';
import type { Principal } from '../iam/policy';
import { placeholderArn } from './definition';
import { ENGINE_ALARM, MINUTE, rollout, START } from './fixtures';
import { runbookOf, useHarness } from './harness';

/** An EventBridge "CloudWatch Alarm State Change" event, as CloudWatch sends it (state timestamps in +0000 form). */
function alarmEvent(alarmName: string, stateTimestamp: string, options: { id?: string; time?: string; state?: string } = {}) {
  return {
    version: '0',
    id: options.id ?? 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: options.time ?? '2026-03-14T10:00:13Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: options.state ?? 'ALARM', reason: 'Threshold Crossed', timestamp: stateTimestamp },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2026-03-14T09:02:10.000+0000' },
      configuration: { metrics: [] },
    },
  };
}

const FIRED = '2026-03-14T10:00:12.123+0000';
const NAME = 'engine-20260314T1000Z';

describe('starting the emergency runbook from an alarm (runbook Lambda)', () => {
  const h = useHarness('default', START);
  const arn = () => h.d.env.MLSCALE_EMERGENCY_RUNBOOK_ARN!;
  const started = () => [...h.fake.executions.values()].map((e) => ({ name: e.name, input: JSON.parse(e.input) as unknown }));

  it('starts the emergency state machine named <target>-<alarm minute>, with the target, its alarms and the trigger, under its own role', async () => {
    const result = await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED));

    expect(result).toEqual({ execution: NAME, started: true, executionArn: `${arn().replace(':stateMachine:', ':execution:')}:${NAME}` });
    expect(started()).toEqual([{ name: NAME, input: { target: 'engine', alarms: [ENGINE_ALARM], trigger: ENGINE_ALARM } }]);
    expect(h.fake.callsOf('sfn:startExecution')[0]!.input.stateMachineArn).toBe(arn());
    expect(deniedCalls()).toEqual([]);
  });

  it('two deliveries of one alarm transition ask for the same name; the second is reported as already started, not as an error', async () => {
    const first = await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED, { id: 'event-1', time: '2026-03-14T10:00:13Z' }));
    // EventBridge retried the delivery a minute later (new event id and time, same state change).
    const second = await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED, { id: 'event-2', time: '2026-03-14T10:01:50Z' }));

    expect(h.fake.callsOf('sfn:startExecution').map((c) => c.input.name)).toEqual([NAME, NAME]);
    expect(first).toMatchObject({ execution: NAME, started: true });
    expect(second).toEqual({ execution: NAME, started: false });
    expect(started()).toHaveLength(1);
  });

  it('a transition in a later minute is a new incident: a new name', async () => {
    await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED));
    await h.invoke('runbook', alarmEvent(ENGINE_ALARM, '2026-03-14T10:47:05.000+0000'));

    expect(started().map((e) => e.name)).toEqual([NAME, 'engine-20260314T1047Z']);
  });

  it('an alarm going back to OK starts nothing', async () => {
    const result = await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED, { state: 'OK' }));

    expect(result).toEqual({ ignored: `alarm ${ENGINE_ALARM} is OK` });
    expect(h.fake.calls).toEqual([]);
  });

  it('an alarm that belongs to no target is refused before any call', async () => {
    await expect(h.invoke('runbook', alarmEvent('someone-elses-alarm', FIRED))).rejects.toMatchObject({ name: 'RunbookInputError', message: expect.stringContaining("alarm 'someone-elses-alarm' belongs to no target") });
    expect(h.fake.calls).toEqual([]);
  });

  it('any other StartExecution failure is an error (EventBridge retries the event)', async () => {
    h.fake.fail({ call: 'sfn:startExecution', error: 'SFN.ExecutionLimitExceeded', cause: 'too many executions (fake)' });

    await expect(h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED))).rejects.toMatchObject({ name: 'ExecutionLimitExceeded' });
  });

  it('the execution it starts plans, raises under the incident name and runs to the end; a later incident finds it open', async () => {
    h.fake.addAlarm(ENGINE_ALARM, ['ALARM', 'OK']);
    await h.invoke('runbook', alarmEvent(ENGINE_ALARM, FIRED));
    await h.invoke('runbook', alarmEvent(ENGINE_ALARM, '2026-03-14T10:03:01.000+0000'));
    const [first, later] = started();

    const [a, b] = await Promise.all([
      h.run('emergency-scale-up', first!.input, { name: first!.name }),
      h.run('emergency-scale-up', later!.input, { name: later!.name, startAt: START + 3 * MINUTE }),
    ]);

    expect(a.path.at(-1)).toBe('Resumed');
    expect(b.path.at(-1)).toBe('Already handled');
    expect(b.output).toMatchObject({ emergency: { outcome: 'already-open', incidentId: NAME } });
    expect(h.fake.callsOf('dynamodb:putItem').map((c) => c.input.Item.holder.S)).toEqual([`emergency:${NAME}`]);
    expect(h.fake.callsOf('cloudwatch:describeAlarms')[0]!.input).toMatchObject({ AlarmNames: [ENGINE_ALARM] });
    expect(h.message(0)).toMatchObject({ execution: NAME });
    expect(h.limits()).toEqual(h.configuredLimits());
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

describe('starting a rollout twice (mlscale rollout names it <target>-rollout-<minute>)', () => {
  const h = useHarness('default', START);
  const machineArn = () => placeholderArn(h.d.template, runbookOf(h.d, 'rollout').logicalId);
  /** An operator allowed to start the rollout state machine and nothing else (the CLI's caller). */
  const operator = (): Principal => ({
    kind: 'role',
    name: 'operator',
    arn: 'arn:aws:iam::123456789012:role/operator',
    assumedBy: [],
    statements: [{ effect: 'Allow', actions: ['states:StartExecution'], resources: [machineArn()], source: 'test operator' }],
    context: {},
    template: h.d.template,
  });

  it('the second start of the same execution name is rejected by Step Functions and reported as not started; one execution, one hold', async () => {
    const name = executionName('engine', 'rollout', minuteStamp(new Date().toISOString()));
    expect(name).toBe('engine-rollout-20260314T1000Z');
    expect(machineArn()).toMatch(new RegExp(`:stateMachine:${runbookStateMachineName(h.d.prefix, 'rollout')}$`));
    h.fake.stateMachines.set(runbookStateMachineName(h.d.prefix, 'rollout'), machineArn());

    const input = rollout()();
    const first = await withPrincipal(operator(), () => startRunbook(machineArn(), name, input));
    // A second operator (or a retried CLI) in the same minute asks for the same name.
    const second = await withPrincipal(operator(), () => startRunbook(machineArn(), name, { ...input, steps: [2, 4] }));

    expect(first).toMatchObject({ started: true });
    expect(second).toEqual({ started: false });
    expect([...h.fake.executions.values()].map((e) => [e.name, JSON.parse(e.input) as unknown])).toEqual([[name, input]]);
    expect(deniedCalls()).toEqual([]);

    // The one execution that runs holds under its name: rollout:<execution>.
    const e = await h.run('rollout', input, { name });
    expect(e.status).toBe('SUCCEEDED');
    expect(h.holds().map((x) => x.holder)).toEqual([`rollout:${name}`]);
  });
});
