import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { runbookStateMachineName } from '../../lib/constructs/runbooks/runbooks';
import { stateMachineName } from '../../src/cli/runbook-config';
import { expectNoAwsCalls, expectNothingChanged, expectOneLineError, lines, resetAws, run, sfn, stateMachineArn, world } from './harness';

const saved = { ...retryPolicy };
beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
afterAll(() => configureRetries(saved));

const NOW = new Date('2026-11-23T10:15:42.123Z');
/** A config of its own, so these tests do not move when config/mlscale.json does. */
const FIXTURE = 'test/cli/fixtures/mlscale.json';
/** `mlscale <argv> --config FIXTURE`. */
const runbook = (...argv: string[]) => run(...argv, '--config', FIXTURE);
const EMERGENCY = 'pipestream-production-emergency-scale-up';
const EVENT = 'pipestream-production-scale-for-event';
const executionArn = (machine: string, name: string) => `arn:aws:states:eu-west-1:123456789012:execution:${machine}:${name}`;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  resetAws();
  world.stateMachines = ['other-machine', EMERGENCY, EVENT, 'pipestream-staging-emergency-scale-up'];
  sfn.on(StartExecutionCommand).callsFake(async ({ stateMachineArn: arn, name }: { stateMachineArn: string; name: string }) => ({
    executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`,
    startDate: new Date(),
  }));
});
afterEach(() => vi.useRealTimers());

function entered(id: number, name: string, second: number): HistoryEvent {
  return {
    id,
    type: name === 'Done' ? 'SucceedStateEntered' : 'TaskStateEntered',
    timestamp: new Date(`2026-11-23T10:16:${String(second).padStart(2, '0')}Z`),
    stateEnteredEventDetails: { name },
  };
}
const started: HistoryEvent = { id: 1, type: 'ExecutionStarted', timestamp: new Date('2026-11-23T10:16:00Z') };
const exited = (id: number): HistoryEvent => ({ id, type: 'TaskStateExited', timestamp: new Date('2026-11-23T10:16:30Z') });
/** GetExecutionHistory with reverseOrder, as the API answers it: newest first. */
const newestFirst = (events: HistoryEvent[]) => ({ events: [...events].reverse() });

describe('mlscale emergency', () => {
  it('finds <pipeline>-<env>-emergency-scale-up from config/mlscale.json and starts it with {target}, named target-manual-minute', async () => {
    const r = await run('emergency', 'engine');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual(['runbook.mlscale/emergency-scale-up started for engine (execution engine-manual-20261123T1015Z)']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: stateMachineArn(EMERGENCY),
      name: 'engine-manual-20261123T1015Z',
      input: JSON.stringify({ target: 'engine' }),
    });
  });

  it('names state machines as the CDK construct does', () => {
    expect(stateMachineName({ pipeline: 'pipestream', name: 'production' }, 'scale-for-event')).toBe(runbookStateMachineName('pipestream-production', 'scale-for-event'));
  });

  it('uses --env and accepts service/NAME', async () => {
    const r = await runbook('emergency', 'service/engine', '--env', 'staging');
    expect(r.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: stateMachineArn('pipestream-staging-emergency-scale-up') });
  });

  it('starts --state-machine-arn without looking the name up', async () => {
    const arn = stateMachineArn('hand-made');
    const r = await run('emergency', 'engine', '--state-machine-arn', arn, '-o', 'json');
    expect(r.code).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(ListStateMachinesCommand);
    expect(JSON.parse(r.stdout)).toEqual({
      runbook: 'emergency-scale-up',
      target: 'engine',
      input: { target: 'engine' },
      stateMachineArn: arn,
      execution: 'engine-manual-20261123T1015Z',
      executionArn: executionArn('hand-made', 'engine-manual-20261123T1015Z'),
      started: true,
      alreadyRunning: false,
    });
  });

  it('a duplicate start says the runbook is already running for that incident (exit 0, nothing new started)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));
    const r = await runbook('emergency', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'runbook.mlscale/emergency-scale-up is already running for that incident: execution engine-manual-20261123T1015Z of engine; not started again',
    ]);
    const json = await runbook('emergency', 'engine', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ started: false, alreadyRunning: true, executionArn: executionArn(EMERGENCY, 'engine-manual-20261123T1015Z') });
  });

  it('--wait follows the execution to success: one line per state entered, then the final status', async () => {
    const arn = executionArn(EMERGENCY, 'engine-manual-20261123T1015Z');
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn })
      .resolvesOnce({ status: 'RUNNING', startDate: new Date('2026-11-23T10:16:00Z') })
      .resolves({ status: 'SUCCEEDED', startDate: new Date('2026-11-23T10:16:00Z'), stopDate: new Date('2026-11-23T10:20:12Z') });
    sfn
      .on(GetExecutionHistoryCommand, { executionArn: arn })
      .resolvesOnce(newestFirst([started, entered(2, 'PlanEmergency', 1), exited(3), entered(4, 'Double', 2)]))
      .resolves(newestFirst([started, entered(2, 'PlanEmergency', 1), exited(3), entered(4, 'Double', 2), exited(5), entered(6, 'WaitStable', 5), entered(7, 'Done', 9)]));
    const r = await runbook('emergency', 'engine', '--wait', '--interval', '0');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'runbook.mlscale/emergency-scale-up started for engine (execution engine-manual-20261123T1015Z)',
      'following engine-manual-20261123T1015Z (Ctrl-C stops following, not the runbook)',
      '  10:16:01  PlanEmergency',
      '  10:16:02  Double',
      '  10:16:05  WaitStable',
      '  10:16:09  Done',
      'execution engine-manual-20261123T1015Z SUCCEEDED in 4m12s',
    ]);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: arn, reverseOrder: true });
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 2);
  });

  it('--wait exits non-zero with one Error line when the execution fails', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      startDate: new Date('2026-11-23T10:16:00Z'),
      stopDate: new Date('2026-11-23T10:16:40Z'),
      error: 'States.TaskFailed',
      cause: 'AccessDeniedException: not authorized to perform ecs:UpdateService',
    });
    sfn.on(GetExecutionHistoryCommand).resolves(newestFirst([started, entered(2, 'PlanEmergency', 1), entered(3, 'Failed', 40)]));
    const r = await runbook('emergency', 'engine', '--wait', '--interval', '0');
    expect(r.code).toBe(1);
    expect(lines(r.stdout).slice(2)).toEqual([
      '  10:16:01  PlanEmergency',
      '  10:16:40  Failed',
      'execution engine-manual-20261123T1015Z FAILED in 40s: States.TaskFailed: AccessDeniedException: not authorized to perform ecs:UpdateService',
    ]);
    expect(lines(r.stderr)).toEqual([
      'Error: runbook emergency-scale-up for engine ended FAILED: States.TaskFailed: AccessDeniedException: not authorized to perform ecs:UpdateService',
    ]);
  });

  it('--wait -o json keeps stdout to one JSON object (progress on stderr)', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    sfn.on(GetExecutionHistoryCommand).resolves(newestFirst([started, entered(2, 'PlanEmergency', 1)]));
    const r = await runbook('emergency', 'engine', '--wait', '--interval', '0', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'SUCCEEDED', states: ['PlanEmergency'], started: true });
    expect(r.stderr).toContain('PlanEmergency');
  });

  it('a duplicate start with --wait follows the execution already running', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    sfn.on(GetExecutionHistoryCommand).resolves(newestFirst([started]));
    const r = await runbook('emergency', 'engine', '--wait', '--interval', '0');
    expect(r.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: executionArn(EMERGENCY, 'engine-manual-20261123T1015Z') });
  });

  it('rejects an unknown target with the runbook’s own message before any AWS call', async () => {
    expectOneLineError(await runbook('emergency', 'nope'), "Error: unknown target 'nope' (known: engine, cpu-modules, gpu-modules)");
    expectNoAwsCalls();
  });

  it('rejects an unknown environment before any AWS call', async () => {
    expectOneLineError(await runbook('emergency', 'engine', '--env', 'qa'), `Error: Unknown environment 'qa' in ${FIXTURE} (known: staging, production; see --env)`);
    expectNoAwsCalls();
  });

  it('rejects a malformed --state-machine-arn before any AWS call', async () => {
    expectOneLineError(await runbook('emergency', 'engine', '--state-machine-arn', 'emergency'), /^Error: --state-machine-arn must be a state machine ARN/);
    expectNoAwsCalls();
  });

  it('fails with one line when the state machine is not deployed, starting nothing', async () => {
    world.stateMachines = [];
    expectOneLineError(await runbook('emergency', 'engine'), /^Error: State machine 'pipestream-production-emergency-scale-up' not found \(/);
    expectNothingChanged();
  });
});

describe('mlscale prescale', () => {
  it('starts scale-for-event with {target, replicas, eventStart, eventEnd, lead, cooldown}, named target-minute of --at', async () => {
    const r = await runbook('prescale', 'engine', '--replicas', '8', '--at', '2026-11-23T18:00:30Z', '--until', '2026-11-23T22:00', '--lead-minutes', '15', '--cooldown-minutes', '10');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['runbook.mlscale/scale-for-event started for engine (execution engine-20261123T1800Z)']);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(stateMachineArn(EVENT));
    expect(call.name).toBe('engine-20261123T1800Z');
    expect(JSON.parse(call.input!)).toEqual({
      target: 'engine',
      replicas: 8,
      eventStart: '2026-11-23T18:00:30.000Z',
      eventEnd: '2026-11-23T22:00:00.000Z',
      leadMinutes: 15,
      cooldownMinutes: 10,
    });
  });

  it('takes relative times and leaves lead and cooldown to the runbook when not given', async () => {
    const r = await runbook('prescale', 'cpu-modules', '--replicas', '12', '--at', '+2h', '--until', '+5h', '-o', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { input: Record<string, unknown>; execution: string };
    expect(out.input).toEqual({ target: 'cpu-modules', replicas: 12, eventStart: '2026-11-23T12:15:42.123Z', eventEnd: '2026-11-23T15:15:42.123Z' });
    expect(out.execution).toBe('cpu-modules-20261123T1215Z');
  });

  it('a duplicate start (same target and minute of --at) is reported, not started again', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const r = await runbook('prescale', 'engine', '--replicas', '8', '--at', '2026-11-23T18:00Z', '--until', '2026-11-23T22:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is already running for that incident: execution engine-20261123T1800Z');
  });

  it('--wait follows the event execution to failure and exits non-zero', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT' });
    sfn.on(GetExecutionHistoryCommand).resolves(newestFirst([started, entered(2, 'PlanEvent', 1)]));
    const r = await runbook('prescale', 'engine', '--replicas', '8', '--at', '+1h', '--until', '+2h', '--wait', '--interval', '0');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('  10:16:01  PlanEvent');
    expect(r.stderr.trim()).toBe('Error: runbook scale-for-event for engine ended TIMED_OUT');
  });

  it.each([
    [['--at', 'tomorrow evening', '--until', '+5h'], /^Error: --at must be an ISO-8601 time .* got 'tomorrow evening'$/],
    [['--at', '2026-13-45T99:00Z', '--until', '+5h'], /^Error: --at must be an ISO-8601 time/],
    [['--at', '+2h', '--until', 'soon'], /^Error: --until must be an ISO-8601 time/],
    [['--at', '+5h', '--until', '+2h'], /^Error: --until must be after --at, got /],
    [['--at', '+1h', '--until', '+2h', '--lead-minutes', '-5'], /^Error: --lead-minutes must be a whole number >= 0/],
  ])('rejects bad times %j before any AWS call', async (args, message) => {
    expectOneLineError(await runbook('prescale', 'engine', '--replicas', '8', ...args), message);
    expectNoAwsCalls();
  });

  it('rejects --replicas 0 and replicas above the ceiling (the runbook’s own check) before any AWS call', async () => {
    expectOneLineError(await runbook('prescale', 'engine', '--replicas', '0', '--at', '+1h', '--until', '+2h'), "Error: --replicas must be a whole number >= 1, got '0'");
    expectOneLineError(await runbook('prescale', 'engine', '--replicas', '50', '--at', '+1h', '--until', '+2h'), 'Error: replicas 50 is above the ceiling 20 of engine');
    expectNoAwsCalls();
  });

  it('rejects an event that is over before any AWS call', async () => {
    const r = await runbook('prescale', 'engine', '--replicas', '8', '--at', '2026-11-22T18:00Z', '--until', '2026-11-22T20:00Z');
    expectOneLineError(r, /^Error: the event is over/);
    expectNoAwsCalls();
  });
});
