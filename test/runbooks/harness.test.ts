/** The runbook harness itself: what the runbook suites rely on, checked so a broken harness cannot pass them vacuously. */
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { parseTargetsJson } from '../../lambdas/core/config/document';
import { calls, deniedCalls } from '../iam/guard';
import { VirtualClock } from './clock';
import { placeholderArn, runbook, taskStates, type AslState } from './definition';
import { CLUSTER, eventWindow, HOUR, MINUTE, START } from './fixtures';
import { ABORTED, callFor, deployment, indefinite, runbookOf, selectResult, useHarness, waitEnd } from './harness';

const RUNBOOKS = ['scale-for-event', 'emergency-scale-up', 'gpu-nodegroup-scale', 'rollout'] as const;

describe('definitions taken from the template', () => {
  const eks = deployment('eks');

  // Runs skip the library's validation (it costs about a second each); it is done here, once per definition.
  it.each([
    ['eks', RUNBOOKS],
    ['default', RUNBOOKS.filter((n) => n !== 'gpu-nodegroup-scale')],
  ] as const)('%s: every runbook definition passes aws-local-stepfunctions ASL validation', (config, names) => {
    for (const name of names) expect(() => new StateMachine(runbookOf(deployment(config), name).definition), name).not.toThrow();
  });

  it.each(RUNBOOKS)('%s: every intrinsic is replaced, and every Task is served by the fake', (name) => {
    const rb = runbookOf(eks, name);
    expect(JSON.stringify(rb.definition)).not.toMatch(/"Ref"|Fn::/);
    expect(rb.definition.States[rb.definition.StartAt]).toBeDefined();
    const served = taskStates(rb).map(([, s]) => callFor(eks, s.Resource!));
    expect(served.length).toBeGreaterThan(3);
    expect(served).toContain('sns:publish');
  });

  it('Lambda Tasks resolve to the runbook and the emergency function', () => {
    const resources = taskStates(runbookOf(eks, 'emergency-scale-up')).map(([name, s]) => [name, callFor(eks, s.Resource!)]);
    expect(resources).toEqual(expect.arrayContaining([['Plan', 'lambda:runbook'], ['Double capacity', 'lambda:emergency'], ['Resume autoscaler', 'lambda:emergency'], ['Read alarm states', 'lambda:runbook']]));
  });

  it('an unknown Task resource is an error, not a silent pass', () => {
    expect(() => callFor(eks, 'arn:aws:states:::dynamodb:putItem')).toThrow('the fake serves no Task resource');
  });
});

describe('the Lambdas get their deployed environment', () => {
  it('default: MLSCALE_CONFIG as deployed, the same document the tests read, and the emergency runbook ARN', () => {
    const d = deployment('default');
    expect(parseTargetsJson(d.env.MLSCALE_CONFIG)).toEqual(d.doc);
    expect(d.env.MLSCALE_EMERGENCY_RUNBOOK_ARN).toBe(placeholderArn(d.template, runbook(d.template, 'pipestream-production-emergency-scale-up').logicalId));
  });

  it('eks: a document too large for the environment is the one compiled into the bundle', () => {
    const d = deployment('eks');
    expect(d.env.MLSCALE_CONFIG).toBeUndefined();
    expect(parseTargetsJson(d.env.MLSCALE_CONFIG_BUNDLED)).toEqual(d.doc);
  });
});

describe('ResultSelector as Step Functions applies it', () => {
  it('an indefinite path gives an array, empty when nothing matches; a definite one gives the value', () => {
    const selector = { 'inService.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId", 'name.$': '$.AutoScalingGroups[0].AutoScalingGroupName' };
    const group = (states: string[]) => ({ AutoScalingGroups: [{ AutoScalingGroupName: 'asg', Instances: states.map((s, i) => ({ InstanceId: `i-${i}`, LifecycleState: s })) }] });
    expect(selectResult(selector, group([]))).toEqual({ inService: [], name: 'asg' });
    expect(selectResult(selector, group(['InService', 'Pending', 'InService']))).toEqual({ inService: ['i-0', 'i-2'], name: 'asg' });
  });

  it('a definite path that is missing fails as an uncatchable States.Runtime', () => {
    expect(() => selectResult({ 'x.$': '$.missing' }, {})).toThrow(expect.objectContaining({ name: 'States.Runtime', isCatchable: false }));
  });

  it.each([
    ['$.MetricAlarms[*].StateValue', true],
    ["$.a[?(@.b == 'c')].d", true],
    ['$..x', true],
    ['$.a[0:2]', true],
    ['$.Nodegroup.Resources.AutoScalingGroups[0].Name', false],
  ])('%s is indefinite: %s', (p, expected) => {
    expect(indefinite(p)).toBe(expected);
  });
});

describe('virtual time', () => {
  it('a Wait ends after its Seconds or SecondsPath, or at its Timestamp or TimestampPath', () => {
    const now = Date.parse('2026-03-14T10:00:00Z');
    const wait = (fields: Record<string, unknown>) => ({ Type: 'Wait', Next: 'x', ...fields }) as AslState;
    expect(waitEnd(wait({ Seconds: 60 }), {}, now)).toBe(now + MINUTE);
    expect(waitEnd(wait({ SecondsPath: '$.plan.pollSeconds' }), { plan: { pollSeconds: 30 } }, now)).toBe(now + 30_000);
    expect(waitEnd(wait({ Timestamp: '2026-03-14T11:00:00Z' }), {}, now)).toBe(now + HOUR);
    expect(waitEnd(wait({ TimestampPath: '$.at' }), { at: '2026-03-14T12:00:00Z' }, now)).toBe(now + 2 * HOUR);
    expect(() => waitEnd(wait({ TimestampPath: '$.at' }), { at: 'soon' }, now)).toThrow(expect.objectContaining({ name: 'States.Runtime' }));
  });

  it('the clock moves only when every live execution waits, to the earliest wake-up', async () => {
    const clock = new VirtualClock();
    clock.start(START);
    try {
      const woke: string[] = [];
      const execution = async (name: string, waits: number[]) => {
        clock.enter();
        try {
          for (const w of waits) {
            await clock.sleepUntil(Date.now() + w * MINUTE);
            woke.push(`${name}@${(Date.now() - START) / MINUTE}`);
          }
        } finally {
          clock.leave();
        }
      };
      await Promise.all([execution('a', [10, 10, 10]), execution('b', [15, 1])]);
      expect(woke).toEqual(['a@10', 'b@15', 'b@16', 'a@20', 'a@30']);
      expect(() => {
        clock.enter();
        clock.advanceTo(Date.now() + MINUTE);
      }).toThrow('advanceTo while executions run');
    } finally {
      clock.stop();
    }
  });
});

describe('running a runbook', () => {
  const h = useHarness('default', START);

  it('Wait states move the clock: the event hold is written at eventStart - lead and released at eventEnd + cooldown', async () => {
    const window = eventWindow(60, 60);
    const e = await h.run('scale-for-event', { target: 'engine', replicas: 4, ...window });

    expect(e.status).toBe('SUCCEEDED');
    const at = (state: string) => e.timeline.find((t) => t.state === state)?.at;
    expect(at('Hold capacity for the event')).toBe(Date.parse(window.eventStart) - 30 * MINUTE);
    expect(at('Release the hold')).toBe(Date.parse(window.eventEnd) + 20 * MINUTE);
    // Two 30-second polls until the raised tasks run.
    expect(at('Report ready')).toBe(at('Hold capacity for the event')! + 60_000);
  });

  it('every Task and every Lambda call is IAM-checked against its own role', async () => {
    const e = await h.run('scale-for-event', { target: 'engine', replicas: 4, ...eventWindow() });

    expect(e.status).toBe('SUCCEEDED');
    const principals = new Set(calls().map((c) => `${c.via} ${c.principal}`));
    expect([...principals].sort()).toEqual([expect.stringMatching(/^sdk RunbooksPlannerRole/), expect.stringMatching(/^task RunbooksScaleForEventStateMachineRole/)]);
    expect(calls().filter((c) => c.via === 'task').map((c) => c.action)).toEqual(expect.arrayContaining(['lambda:InvokeFunction', 'ecs:DescribeServices', 'sns:Publish', 'kms:GenerateDataKey']));
    expect(deniedCalls()).toEqual([]);
  });

  it('stopAt ends the run on entering the state: ABORTED, no Catch, nothing after it', async () => {
    const e = await h.run('emergency-scale-up', { target: 'engine', alarms: [], stableMinutes: 1 }, { stopAt: 'Resume autoscaler' });

    expect(e).toMatchObject({ status: 'ABORTED', error: ABORTED, caught: [] });
    expect(e.path.at(-1)).toBe('Resume autoscaler');
    expect(h.fake.callsOf('lambda:emergency').map((c) => (c.input as { action?: string }).action)).toEqual([undefined]);
  });

  it('an injected failure after the effect: the call landed, the Task still failed', async () => {
    const e = await h.run('scale-for-event', { target: 'engine', replicas: 4, ...eventWindow() }, { fail: { state: 'Hold capacity for the event', afterEffect: true } });

    expect(e.status).toBe('FAILED');
    expect(e.caught).toContain('Hold capacity for the event');
    // The hold was written (and then released by the failure path).
    expect(h.fake.callsOf('dynamodb:putItem')).toHaveLength(1);
    expect(h.fake.callsOf('dynamodb:deleteItem')).toHaveLength(1);
  });

  it('SDK callers see the SDK error names; Task states see Step Functions names', async () => {
    h.fake.table(h.d.holdsTable).set('engine\u0000event:x', { target: { S: 'engine' }, holder: { S: 'event:x' }, expiresAt: { N: String(START / 1000 + 3600) } });
    const put = { TableName: h.d.holdsTable, Item: { target: { S: 'engine' }, holder: { S: 'event:x' } }, ConditionExpression: 'attribute_not_exists(#holder) OR #expiresAt <= :now', ExpressionAttributeValues: { ':now': { N: String(START / 1000) } } };
    await expect(h.fake.handle('dynamodb:putItem', put, 'sdk')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await expect(h.fake.invoke('ecs:updateService', { Cluster: CLUSTER, Service: 'nope', DesiredCount: 1 })).rejects.toMatchObject({ name: 'Ecs.ServiceNotFoundException' });
  });
});
