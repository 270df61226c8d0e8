import { describe, expect, it, vi } from 'vitest';
import { runbookStateMachineName } from '../../lib/constructs/runbooks/runbooks';
import { stateMachineName } from '../../src/cli/commands/runbooks';
import { ACCOUNT, REGION } from '../fakes/aws';
import { NOW, cli, expectNoAwsCalls, expectOneLineError, lines, run, useFixtureAccount } from './harness';

const fake = useFixtureAccount();
const arn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
const executionArn = (machine: string, name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`;
const EMERGENCY = 'pipestream-production-emergency-scale-up';
const EVENT = 'pipestream-production-scale-for-event';
const EXECUTION = 'engine-manual-20261202T1000Z';

function deploy(...names: string[]): void {
  for (const n of ['other-machine', ...names]) fake().stateMachines.set(n, arn(n));
}
const started = () => fake().callsOf('sfn:startExecution').map((c) => c.input);

describe('mlscale emergency', () => {
  it('finds <pipeline>-<env>-emergency-scale-up and starts it with {target}, named target-manual-minute', async () => {
    deploy(EMERGENCY);
    const r = await cli('emergency', 'engine');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([`runbook.mlscale/emergency-scale-up started for engine (execution ${EXECUTION})`]);
    expect(started()).toEqual([{ stateMachineArn: arn(EMERGENCY), name: EXECUTION, input: JSON.stringify({ target: 'engine' }) }]);
  });

  it('names state machines as the CDK construct does', () => {
    expect(stateMachineName({ pipeline: 'pipestream', name: 'production' }, 'scale-for-event')).toBe(runbookStateMachineName('pipestream-production', 'scale-for-event'));
  });

  it('takes --env, -n and service/NAME like the other commands', async () => {
    deploy('pipestream-staging-emergency-scale-up');
    expect((await cli('emergency', 'service/engine', '--env', 'staging', '-n', 'pipestream-staging')).code).toBe(0);
    expect(started()[0]).toMatchObject({ stateMachineArn: arn('pipestream-staging-emergency-scale-up') });
    expectOneLineError(await cli('emergency', 'engine', '-n', 'elsewhere'), /^Error: engine in namespace elsewhere is not managed by mlscale in production /);
  });

  it('starts --state-machine-arn without looking the name up, -o json', async () => {
    const r = await cli('emergency', 'engine', '--state-machine-arn', arn('hand-made'), '-o', 'json');
    expect(r.code).toBe(0);
    expect(fake().callsOf('sfn:listStateMachines')).toHaveLength(0);
    expect(JSON.parse(r.stdout)).toEqual({
      runbook: 'emergency-scale-up',
      target: 'engine',
      input: { target: 'engine' },
      stateMachineArn: arn('hand-made'),
      execution: EXECUTION,
      executionArn: executionArn('hand-made', EXECUTION),
      started: true,
      alreadyRunning: false,
    });
    expect(r.stderr).toContain('started for engine');
  });

  it('a duplicate start says the runbook is already running for that incident (exit 0); -o name prints the execution', async () => {
    deploy(EMERGENCY);
    await cli('emergency', 'engine');
    const r = await cli('emergency', 'engine');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([`runbook.mlscale/emergency-scale-up is already running for that incident: execution ${EXECUTION} of engine; not started again`]);
    expect(fake().executions.size).toBe(1);
    expect((await cli('emergency', 'engine', '-o', 'name')).stdout).toBe(`execution.mlscale/${EXECUTION}\n`);
  });

  it('--wait follows the execution: one line per state entered, then the final status', async () => {
    deploy(EMERGENCY);
    const exec = executionArn(EMERGENCY, EXECUTION);
    // The first poll finds it running two states in; the second, finished 4m12s after it started.
    fake().before('sfn:describeExecution', async () => {
      fake().progress(exec, ['PlanEmergency', 'Double']);
      fake().before('sfn:describeExecution', async () => {
        fake().progress(exec, ['WaitStable'], { status: 'SUCCEEDED' });
        const e = fake().executions.get(exec)!;
        e.stopDate = new Date(e.startDate.getTime() + 252_000);
      });
    });
    const r = await cli('emergency', 'engine', '--wait', '--interval', '1s');
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.replace(/\d\d:\d\d:\d\d/, 'HH:MM:SS'))).toEqual([
      `runbook.mlscale/emergency-scale-up started for engine (execution ${EXECUTION})`,
      `following ${EXECUTION} (Ctrl-C stops following, not the runbook)`,
      '  HH:MM:SS  PlanEmergency',
      '  HH:MM:SS  Double',
      '  HH:MM:SS  WaitStable',
      `execution ${EXECUTION} SUCCEEDED in 4m12s`,
    ]);
    expect(fake().callsOf('sfn:describeExecution')).toHaveLength(2);
    expect(fake().callsOf('sfn:getExecutionHistory')[0]!.input).toMatchObject({ executionArn: exec, reverseOrder: true });
  });

  it('--wait exits non-zero with one Error line when the execution fails; -o json keeps stdout to one document', async () => {
    deploy(EMERGENCY);
    const exec = executionArn(EMERGENCY, EXECUTION);
    fake().before('sfn:describeExecution', async () =>
      fake().progress(exec, ['PlanEmergency', 'Failed'], { status: 'FAILED', error: 'States.TaskFailed', cause: 'AccessDeniedException: not authorized to perform ecs:UpdateService' }),
    );
    const r = await cli('emergency', 'engine', '--wait');
    expect(r.code).toBe(1);
    expect(lines(r.stdout).at(-1)).toMatch(/^execution engine-manual-20261202T1000Z FAILED( in \d+s)?: States\.TaskFailed: AccessDeniedException: not authorized to perform ecs:UpdateService$/);
    expect(lines(r.stderr)).toEqual(['Error: runbook emergency-scale-up for engine ended FAILED: States.TaskFailed: AccessDeniedException: not authorized to perform ecs:UpdateService']);

    fake().executions.clear();
    fake().before('sfn:describeExecution', async () => fake().progress(exec, ['PlanEmergency'], { status: 'SUCCEEDED' }));
    const json = await cli('emergency', 'engine', '--wait', '-o', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'SUCCEEDED', states: ['PlanEmergency'], started: true });
    expect(json.stderr).toContain('PlanEmergency');
  });

  it.each([
    [['nope'], /^Error: nope is not managed by mlscale in production \(managed: engine, cpu-modules, gpu-modules, /],
    [['engine', '--env', 'qa'], "Error: Unknown environment 'qa' in test/cli/fixtures/mlscale.json (known: staging, production; see --env)"],
    [['engine', '--state-machine-arn', 'emergency'], /^Error: --state-machine-arn must be a state machine ARN/],
    [['engine', '--wait', '--interval', '0'], "Error: --interval must be at least 1s, got '0'"],
    [['engine', '--wait', '--interval', '0.5'], "Error: --interval must be at least 1s, got '0.5'"],
    [['nodegroup/gpu-workers'], "Error: emergency doubling is disabled for target 'gpu-workers'"],
  ])('emergency %j fails in one line before any AWS call', async (args, message) => {
    expectOneLineError(await cli('emergency', ...args), message);
    expectNoAwsCalls(fake());
  });

  it('fails with one line when the state machine is not deployed, starting nothing', async () => {
    deploy();
    expectOneLineError(await cli('emergency', 'engine'), /^Error: State machine 'pipestream-production-emergency-scale-up' not found \(is the MlscalePipestreamProduction stack deployed/);
    expect(fake().executions.size).toBe(0);
  });
});

describe('mlscale prescale', () => {
  it('starts scale-for-event with {target, replicas, eventStart, eventEnd, lead, cooldown}, named target-minute of --at', async () => {
    deploy(EVENT);
    const r = await cli('prescale', 'engine', '--replicas', '8', '--at', '2026-12-02T18:00:30Z', '--until', '2026-12-02T22:00', '--lead-minutes', '15', '--cooldown-minutes', '10');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['runbook.mlscale/scale-for-event started for engine (execution engine-20261202T1800Z)']);
    const call = started()[0]!;
    expect(call.stateMachineArn).toBe(arn(EVENT));
    expect(call.name).toBe('engine-20261202T1800Z');
    expect(JSON.parse(call.input)).toEqual({
      target: 'engine',
      replicas: 8,
      eventStart: '2026-12-02T18:00:30.000Z',
      eventEnd: '2026-12-02T22:00:00.000Z',
      leadMinutes: 15,
      cooldownMinutes: 10,
    });
  });

  it('takes relative times, node groups and -o yaml; leaves lead and cooldown to the runbook', async () => {
    deploy(EVENT);
    const r = await cli('prescale', 'cpu-modules', '--replicas', '12', '--at', '+2h', '--until', '+5h', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      input: { target: 'cpu-modules', replicas: 12, eventStart: '2026-12-02T12:00:00.000Z', eventEnd: '2026-12-02T15:00:00.000Z' },
      execution: 'cpu-modules-20261202T1200Z',
    });
    const ng = await cli('prescale', 'nodegroup/gpu-workers', '--replicas', '2', '--at', '+1h', '--until', '+2h', '-o', 'yaml');
    expect(ng.code).toBe(0);
    expect(ng.stdout).toContain('target: gpu-workers');
  });

  it.each([
    [['--at', 'tomorrow evening', '--until', '+5h'], /^Error: --at must be an ISO-8601 time .* got 'tomorrow evening'$/],
    [['--at', '2026-13-45T99:00Z', '--until', '+5h'], /^Error: --at must be an ISO-8601 time/],
    [['--at', '+2h', '--until', 'soon'], /^Error: --until must be an ISO-8601 time/],
    [['--at', '+5h', '--until', '+2h'], /^Error: --until must be after --at, got /],
    [['--at', '+1h', '--until', '+2h', '--lead-minutes', '-5'], /^Error: --lead-minutes must be a whole number >= 0/],
    [['--at', '+1h', '--until', '+2h', '--interval', '0s'], "Error: --interval must be at least 1s, got '0s'"],
    [['--at', '2026-12-01T18:00Z', '--until', '2026-12-01T20:00Z'], /^Error: the event is over/],
  ])('rejects %j before any AWS call', async (args, message) => {
    expectOneLineError(await cli('prescale', 'engine', '--replicas', '8', ...args), message);
    expectNoAwsCalls(fake());
  });

  it('rejects --replicas 0 and replicas above the ceiling (the runbook’s own check) before any AWS call', async () => {
    expectOneLineError(await cli('prescale', 'engine', '--replicas', '0', '--at', '+1h', '--until', '+2h'), "Error: --replicas must be a whole number >= 1, got '0'");
    expectOneLineError(await cli('prescale', 'engine', '--replicas', '50', '--at', '+1h', '--until', '+2h'), 'Error: replicas 50 is above the ceiling 20 of engine');
    expectNoAwsCalls(fake());
  });

  it('uses the default config (config/mlscale.json) when --config is not given', async () => {
    deploy(EVENT);
    vi.setSystemTime(NOW);
    expect((await run('prescale', 'engine', '--replicas', '8', '--at', '+1h', '--until', '+2h')).code).toBe(0);
  });
});

describe('mlscale rollout', () => {
  const ROLLOUT = 'pipestream-production-rollout';
  const RUN = 'engine-rollout-20261202T1000Z';

  it('starts <pipeline>-<env>-rollout with the steps, named target-rollout-minute', async () => {
    deploy(ROLLOUT);
    const r = await cli('rollout', 'engine', '--steps', '1,3,5,10', '--hold', '10m', '--keep', '2h');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([`runbook.mlscale/rollout started for engine (execution ${RUN})`]);
    expect(started()).toEqual([{ stateMachineArn: arn(ROLLOUT), name: RUN, input: JSON.stringify({ target: 'engine', steps: [1, 3, 5, 10], holdMinutes: 10, keepMinutes: 120 }) }]);
  });

  it('--wait shows which step each raise is for, and fails when the run stopped at the last healthy step', async () => {
    deploy(ROLLOUT);
    const exec = executionArn(ROLLOUT, RUN);
    fake().before('sfn:describeExecution', async () => {
      fake().progress(exec, [
        'Plan',
        { name: 'Raise to the step', input: { step: { number: 1, replicas: 1 } } },
        'Wait a minute',
        'Read alarm states',
        'Step healthy',
        { name: 'Raise to the step', input: { step: { number: 2, replicas: 3 } } },
        'Read alarm states',
        'Alarm fired',
        'Keep the last healthy step',
      ], { status: 'FAILED', error: 'Unhealthy', cause: 'an alarm fired at step 2 (3 replicas); kept step 1 (1 replicas)' });
    });
    const r = await cli('rollout', 'engine', '--steps', '1,3,5', '--wait', '--interval', '1s');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Raise to the step {2}\(step 1\/3: 1 replicas\)/);
    expect(r.stdout).toMatch(/Raise to the step {2}\(step 2\/3: 3 replicas\)/);
    // Milestones only: the minute-by-minute polls and alarm reads are not printed.
    expect(r.stdout).not.toMatch(/Read alarm states|Wait a minute/);
    expect(r.stdout).toMatch(/Alarm fired/);
    expect(r.stderr).toMatch(/^Error: runbook rollout for engine ended FAILED: Unhealthy: an alarm fired at step 2/);
  });

  it.each([
    [['--steps', '1,3,3'], 'Error: steps must be increasing, got 3 then 3'],
    [['--steps', '5,3'], 'Error: steps must be increasing, got 5 then 3'],
    [['--steps', '1,3,50'], 'Error: steps must not exceed the max capacity 10 of engine, got 50'],
    [['--steps', '1,three'], "Error: --steps must be replica counts separated by commas, like 1,3,5,10, got '1,three'"],
    [['--steps', '1,3', '--hold', '90s'], "Error: --hold must be whole minutes (like 5m or 1h), got '90s'"],
    [['--steps', '1,3', '--hold', 'soon'], "Error: --hold must be a duration like 30m, 1h, 4h or 2d, got 'soon'"],
  ])('rejects %j before any AWS call', async (args, message) => {
    expectOneLineError(await cli('rollout', 'engine', ...args), message);
    expectNoAwsCalls(fake());
  });

  it('a second start in the same minute is the same rollout, not started again', async () => {
    deploy(ROLLOUT);
    await cli('rollout', 'engine', '--steps', '1,3');
    const r = await cli('rollout', 'engine', '--steps', '1,3');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([`runbook.mlscale/rollout is already running for this target in this minute: execution ${RUN} of engine; not started again`]);
  });

  it('rejects an unknown service before any AWS call', async () => {
    expectOneLineError(await cli('rollout', 'engine2', '--steps', '1,2'), /^Error: engine2 is not managed by mlscale in production/);
    expectNoAwsCalls(fake());
  });
});
