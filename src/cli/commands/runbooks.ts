import type { Command } from 'commander';
import { executionArnOf, findStateMachineArn, startRunbook, type StateEntered } from '../../../lambdas/aws/step-functions';
import type { ResolvedEnvironment } from '../../../lambdas/core/config';
import { DEFAULTS } from '../../../lambdas/core/config/defaults';
import { planRollout } from '../../../lambdas/core/rollout-plan';
import { executionName, minuteStamp, planEmergencyRunbook, planEvent, RunbookInputError } from '../../../lambdas/core/runbook-plan';
import { holdDuration, interval, parseTime, wholeNumber } from '../args';
import { loadScope, managedTarget, scopeOptions, type Scope, type ScopeOptions } from '../context';
import { CliError } from '../errors';
import { duration, followExecution, type FollowResult } from '../follow';
import { err, isDocument, out, outputOption, printDocument, type OutputFormat } from '../output';

export type RunbookName = 'scale-for-event' | 'emergency-scale-up' | 'gpu-nodegroup-scale' | 'rollout';

/** The deployed name of a runbook state machine (lib/constructs/runbooks/runbooks.ts: `<pipeline>-<environment>-<runbook>`). */
export const stateMachineName = (env: Pick<ResolvedEnvironment, 'pipeline' | 'name'>, runbook: RunbookName) => `${env.pipeline}-${env.name}-${runbook}`;

interface RunbookOptions extends ScopeOptions {
  readonly stateMachineArn?: string;
  readonly wait?: boolean;
  readonly interval: string;
  readonly output: OutputFormat;
}

interface PrescaleOptions extends RunbookOptions {
  readonly replicas: string;
  readonly at: string;
  readonly until: string;
  readonly leadMinutes?: string;
  readonly cooldownMinutes?: string;
}

interface RolloutOptions extends RunbookOptions {
  readonly steps: string;
  readonly hold?: string;
  readonly keep?: string;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** What every runbook start needs, resolved and checked before any AWS call. */
interface Prepared {
  readonly runbook: RunbookName;
  readonly target: string;
  readonly input: Record<string, unknown>;
  readonly execution: string;
  readonly scope: Scope;
  readonly intervalMs: number;
  /** A line of progress for a state entered, beyond its name (the rollout's step). */
  readonly progress?: (state: StateEntered) => string | undefined;
  /** The states worth a line with --wait (a rollout polls and reads alarms every minute of every step). */
  readonly shown?: (state: StateEntered) => boolean;
  /** What a second start of the same execution name means, in words. */
  readonly duplicate?: string;
}

/** The runbooks' own input checks (lambdas/core/runbook-plan.ts), run here so a bad start changes nothing. */
function validate<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof RunbookInputError) throw new CliError(e.message);
    throw e;
  }
}

function common(first: string, second: string | undefined, opts: RunbookOptions): { scope: Scope; target: string; intervalMs: number } {
  const intervalMs = interval(opts.interval);
  if (opts.stateMachineArn !== undefined && !STATE_MACHINE_ARN.test(opts.stateMachineArn)) {
    throw new CliError(`--state-machine-arn must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got '${opts.stateMachineArn}'`);
  }
  const scope = loadScope(opts);
  return { scope, target: managedTarget(scope, first, second, opts.namespace).spec.name, intervalMs };
}

async function start(prepared: Prepared, opts: RunbookOptions): Promise<void> {
  const { runbook, target, input, execution, scope } = prepared;
  const doc = isDocument(opts.output);
  let stateMachineArn = opts.stateMachineArn;
  if (stateMachineArn === undefined) {
    const name = stateMachineName(scope.environment, runbook);
    stateMachineArn = await findStateMachineArn(name);
    if (!stateMachineArn) {
      throw new CliError(`State machine '${name}' not found (is the ${scope.environment.stackName} stack deployed in this account and region? or pass --state-machine-arn)`);
    }
  }
  const arn = stateMachineArn;
  const result = await startRunbook(arn, execution, input);
  const executionArn = result.executionArn ?? executionArnOf(arn, execution);
  const summary = { runbook, target, input, stateMachineArn: arn, execution, executionArn, started: result.started, alreadyRunning: !result.started };

  // stdout carries the document or the names alone; progress goes to stderr then.
  const say = doc || opts.output === 'name' ? err : out;
  if (result.started) say(`runbook.mlscale/${runbook} started for ${target} (execution ${execution})`);
  else say(`runbook.mlscale/${runbook} is already running for ${prepared.duplicate ?? 'that incident'}: execution ${execution} of ${target}; not started again`);
  if (opts.output === 'name') out(`execution.mlscale/${execution}`);

  if (!opts.wait) {
    if (doc) printDocument(opts.output as 'json' | 'yaml', summary);
    return;
  }
  say(`following ${execution} (Ctrl-C stops following, not the runbook)`);
  const final: FollowResult = await followExecution(executionArn, prepared.intervalMs, say, prepared.progress, prepared.shown);
  const took = duration(final.startDate, final.stopDate);
  const failure = final.status === 'SUCCEEDED' ? undefined : [final.error, final.cause].filter(Boolean).join(': ');
  if (doc) {
    printDocument(opts.output as 'json' | 'yaml', {
      ...summary,
      status: final.status,
      states: final.states,
      ...(final.error ? { error: final.error } : {}),
      ...(final.cause ? { cause: final.cause } : {}),
    });
  } else {
    say(`execution ${execution} ${final.status}${took ? ` in ${took}` : ''}${failure ? `: ${failure}` : ''}`);
  }
  if (final.status !== 'SUCCEEDED') throw new CliError(`runbook ${runbook} for ${target} ended ${final.status}${failure ? `: ${failure}` : ''}`);
}

function emergencyPrepared(first: string, second: string | undefined, opts: RunbookOptions, now: Date): Prepared {
  const { scope, target, intervalMs } = common(first, second, opts);
  const input = { target };
  validate(() => planEmergencyRunbook(input, scope.doc));
  const execution = executionName(target, 'manual', minuteStamp(now.toISOString()));
  return { runbook: 'emergency-scale-up', target, input, execution, scope, intervalMs };
}

function prescalePrepared(first: string, second: string | undefined, opts: PrescaleOptions, now: Date): Prepared {
  const replicas = wholeNumber(opts.replicas, '--replicas', 1);
  const at = parseTime(opts.at, '--at', now);
  const until = parseTime(opts.until, '--until', now);
  if (until <= at) throw new CliError(`--until must be after --at, got ${until.toISOString()} <= ${at.toISOString()}`);
  const lead = opts.leadMinutes !== undefined ? wholeNumber(opts.leadMinutes, '--lead-minutes') : undefined;
  const cooldown = opts.cooldownMinutes !== undefined ? wholeNumber(opts.cooldownMinutes, '--cooldown-minutes') : undefined;
  const { scope, target, intervalMs } = common(first, second, opts);
  const input = {
    target,
    replicas,
    eventStart: at.toISOString(),
    eventEnd: until.toISOString(),
    ...(lead !== undefined ? { leadMinutes: lead } : {}),
    ...(cooldown !== undefined ? { cooldownMinutes: cooldown } : {}),
  };
  validate(() => planEvent(input, scope.doc, now));
  const execution = executionName(target, minuteStamp(input.eventStart));
  return { runbook: 'scale-for-event', target, input, execution, scope, intervalMs };
}

/** Whole minutes of a `--hold` / `--keep` span (`5m`, `1h`); a hold's minutes must be whole. */
function spanMinutes(value: string, flag: string): number {
  const seconds = holdDuration(value, flag);
  if (seconds % 60 !== 0) throw new CliError(`${flag} must be whole minutes (like 5m or 1h), got '${value}'`);
  return seconds / 60;
}

/** `1,3,5,10` -> [1, 3, 5, 10]; the plan checks that they increase and fit. */
function parseSteps(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new CliError(`--steps must be replica counts separated by commas, like 1,3,5,10, got '${value}'`);
  return parts.map(Number);
}

/** The step a rollout state was entered for, read off the state's input ($.step). */
function rolloutProgress(steps: readonly number[]) {
  return (state: StateEntered): string | undefined => {
    if (state.name !== 'Raise to the step' || !state.input) return undefined;
    try {
      const step = (JSON.parse(state.input) as { step?: { number?: number; replicas?: number } }).step;
      return step?.number ? `step ${step.number}/${steps.length}: ${step.replicas} replicas` : undefined;
    } catch {
      return undefined;
    }
  };
}

/** A rollout's milestones: the plan, each raise, each healthy step, what stopped it, and the end. */
const ROLLOUT_MILESTONES = new Set([
  'Plan',
  'Raise to the step',
  'Step healthy',
  'Alarm fired',
  'Alarm missing',
  'Alarms unreadable',
  'Step not ready',
  'Not raised',
  'Raise failed',
  'Status unreadable',
  'Keep the last healthy step',
  'Release the hold',
  'Rolled out',
  'Rejected',
]);
const rolloutShown = (state: StateEntered) => ROLLOUT_MILESTONES.has(state.name);

function rolloutPrepared(first: string, second: string | undefined, opts: RolloutOptions, now: Date): Prepared {
  const steps = parseSteps(opts.steps);
  const holdMinutes = opts.hold !== undefined ? spanMinutes(opts.hold, '--hold') : undefined;
  const keepMinutes = opts.keep !== undefined ? spanMinutes(opts.keep, '--keep') : undefined;
  const { scope, target, intervalMs } = common(first, second, opts);
  const input = { target, steps, ...(holdMinutes !== undefined ? { holdMinutes } : {}), ...(keepMinutes !== undefined ? { keepMinutes } : {}) };
  const execution = executionName(target, 'rollout', minuteStamp(now.toISOString()));
  validate(() => planRollout(input, scope.doc, now, execution));
  return { runbook: 'rollout', target, input, execution, scope, intervalMs, progress: rolloutProgress(steps), shown: rolloutShown, duplicate: 'this target in this minute' };
}

function runbookOptions(cmd: Command): Command {
  return scopeOptions(cmd)
    .option('--state-machine-arn <arn>', 'start this state machine instead of finding it by name')
    .option('--wait', 'follow the execution: one line per state entered, then the final status (non-zero exit if it failed)')
    .option('--interval <duration>', 'time between polls with --wait (at least 1s)', '5s')
    .addOption(outputOption());
}

export function registerRunbookCommands(program: Command): void {
  runbookOptions(
    program
      .command('emergency')
      .description('start the emergency-scale-up runbook for a target: double capacity now, hold it until the alarms are OK')
      .argument('<target>', 'a managed target: NAME or service/NAME')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .addHelpText(
      'after',
      `
The state machine is <pipeline>-<env>-emergency-scale-up (pipeline from --config, env from --env).
The execution is named <target>-manual-<minute>: a second start in the same minute is the same
incident and is not started again.

Examples:
  mlscale emergency engine
  mlscale emergency engine --env staging --wait`,
    )
    .action(async (first: string, second: string | undefined, opts: RunbookOptions) => start(emergencyPrepared(first, second, opts, new Date()), opts));

  runbookOptions(
    program
      .command('prescale')
      .description('start the scale-for-event runbook: hold N replicas from --at (minus the lead time) until --until (plus cooldown)')
      .argument('<target>', 'a managed target: NAME, service/NAME or nodegroup/NAME')
      .argument('[name]', 'the name, when TYPE is given as its own word')
      .requiredOption('--replicas <count>', 'replicas to hold during the event (>= 1)')
      .requiredOption('--at <time>', "event start: ISO-8601 (UTC when no zone is given), 'now' or +30m / +2h / +1d")
      .requiredOption('--until <time>', 'event end, same forms as --at')
      .option('--lead-minutes <minutes>', `scale up this long before --at (runbook default ${DEFAULTS.event.leadMinutes})`)
      .option('--cooldown-minutes <minutes>', `restore this long after --until (runbook default ${DEFAULTS.event.cooldownMinutes})`),
  )
    .addHelpText(
      'after',
      `
The state machine is <pipeline>-<env>-scale-for-event; the execution is named <target>-<minute of --at>,
so the same event is not started twice.

Examples:
  mlscale prescale engine --replicas 8 --at 2026-12-24T18:00:00Z --until 2026-12-24T22:00:00Z
  mlscale prescale cpu-modules --replicas 12 --at +2h --until +5h --lead-minutes 15 --wait`,
    )
    .action(async (first: string, second: string | undefined, opts: PrescaleOptions) => start(prescalePrepared(first, second, opts, new Date()), opts));

  runbookOptions(
    program
      .command('rollout')
      .description('start the rollout runbook: raise a target step by step, each step healthy for --hold before the next')
      .argument('<target>', 'a managed target: NAME, service/NAME or nodegroup/NAME')
      .argument('[name]', 'the name, when TYPE is given as its own word')
      .requiredOption('--steps <counts>', 'replica counts, increasing and within max capacity, e.g. 1,3,5,10')
      .option('--hold <duration>', 'how long each step must stay healthy (alarms OK) before the next (runbook default 5m)')
      .option('--keep <duration>', 'how long the last step is held after a healthy rollout (runbook default 1h)'),
  )
    .addHelpText(
      'after',
      `
The state machine is <pipeline>-<env>-rollout; the execution is named <target>-rollout-<minute>.
Each step raises the floor of one rollout:<execution> hold, waits until running = desired and then
until the target's health alarms (memory, latency) have stayed OK for --hold. An alarm stops the
rollout at the last healthy step, and says so. The hold ends by itself after the whole run plus
--keep, whatever happens to the execution; the autoscaler then takes over again.

Examples:
  mlscale rollout engine --steps 1,3,5,10
  mlscale rollout engine --steps 2,4,8 --hold 10m --keep 2h --wait`,
    )
    .action(async (first: string, second: string | undefined, opts: RolloutOptions) => start(rolloutPrepared(first, second, opts, new Date()), opts));
}
