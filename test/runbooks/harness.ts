/**
 * Runs a synthesized runbook with aws-local-stepfunctions against the model:
 * every Task state is served by a local function chosen by its Resource, the
 * Lambdas are the real handler code (planner) or the real emergency
 * procedure bound to the model, every Wait takes 0 ms and every retry waits 0 ms.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
// The JSONPath engine aws-local-stepfunctions itself uses (its dependency), for the one place its results differ from AWS.
import { JSONPath } from 'jsonpath-plus';
import { vi } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { parseTargetsJson, type TargetsDocument } from '../../lambdas/core/targets';
import { parseEmergencyEvent } from '../../lambdas/emergency/event';
import { resumeEmergency, triggerEmergency } from '../../lambdas/emergency/procedure';
import { handler as plannerHandler } from '../../lambdas/runbook/index';
import type { MlscaleStack } from '../../lib/mlscale-stack';
import { synth } from '../util';
import { ACCOUNT, functionEnvironment, functionId, placeholderArn, REGION, runbook, type Runbook } from './definition';
import { ModelError, type World } from './model';

/** An event of an execution's log (the library does not export the type). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface Deployment {
  readonly template: Template;
  readonly stack: MlscaleStack;
  /** The managed-targets document the Lambdas get (MLSCALE_CONFIG). */
  readonly targetsJson: string;
  readonly doc: TargetsDocument;
  /** Environment of the planner Lambda as deployed, MLSCALE_CONFIG included. */
  readonly plannerEnv: Readonly<Record<string, string>>;
  readonly plannerArn: string;
  readonly emergencyArn?: string;
  readonly prefix: string;
}

/**
 * Synthesize `config` and pick out what the runbooks need. The targets
 * document is the planner's MLSCALE_CONFIG when it fits in the environment;
 * a larger one (the EKS example) is compiled into the bundle instead, which
 * `synth` skips, so it is then rendered from the stack's parsed targets, the
 * same document.
 */
export function deploy(config: ConfigInput, environment = 'production'): Deployment {
  const { stack, template } = synth(config, environment);
  const planner = functionId(template, 'RunbooksPlannerFunction');
  const env = functionEnvironment(template, planner);
  const targetsJson = env.MLSCALE_CONFIG ?? JSON.stringify({ targets: stack.targets });
  const emergency = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('EmergencyScalerFunction'));
  return {
    template,
    stack,
    targetsJson,
    doc: parseTargetsJson(targetsJson),
    plannerEnv: { ...env, MLSCALE_CONFIG: targetsJson },
    plannerArn: placeholderArn(template, planner),
    ...(emergency ? { emergencyArn: placeholderArn(template, emergency) } : {}),
    prefix: `${stack.envConfig.pipeline}-${stack.envConfig.name}`,
  };
}

/** The runbook `<prefix>-<name>` of a deployment. */
export function runbookOf(d: Deployment, name: 'scale-for-event' | 'emergency-scale-up' | 'gpu-nodegroup-scale'): Runbook {
  return runbook(d.template, `${d.prefix}-${name}`);
}

/** Give the planner handler the environment the stack deploys it with (vi.unstubAllEnvs undoes it). */
export function stubPlannerEnvironment(d: Deployment): void {
  for (const [name, value] of Object.entries(d.plannerEnv)) if (name.startsWith('MLSCALE_')) vi.stubEnv(name, value);
}

/** Every target of the document in the model, at rest: desired = max(min, 1), running = desired, limits as configured, nothing suspended. */
export function seed(world: World, d: Deployment): World {
  for (const t of d.doc.targets) {
    const desired = Math.max(t.minCapacity, 1);
    if (t.kind === 'ecs-service') world.addService({ cluster: t.cluster, service: t.service, desired, min: t.minCapacity, max: t.maxCapacity });
    else world.addNodegroup({ cluster: t.cluster, nodegroup: t.nodegroup, desired: t.minCapacity, min: t.minCapacity, max: t.maxCapacity });
    for (const alarm of t.alarms) world.alarms.set(alarm, ['OK']);
  }
  bindLambdas(world, d);
  return world;
}

/**
 * The two Lambdas the runbooks invoke:
 * - planner: the real handler of lambdas/runbook/index.ts (its MLSCALE_* environment stubbed);
 * - emergency: lambdas/emergency/index.ts without its logging: the same event
 *   parsing and the real triggerEmergency/resumeEmergency, with the model as
 *   the target and an atomic in-memory incident store (the DynamoDB store's contract).
 */
export function bindLambdas(world: World, d: Deployment): void {
  world.lambdas.set('planner', (payload) => plannerHandler(payload));
  world.lambdas.set('emergency', async (payload) => {
    const request = parseEmergencyEvent(payload, d.doc);
    if (request.kind === 'ignore') return { ignored: request.reason };
    const spec = d.doc.targets.find((t) => t.name === request.target)!;
    const target = world.target(spec);
    const now = new Date();
    return request.action === 'trigger'
      ? triggerEmergency(spec, target, world.incidents, request.source, now)
      : resumeEmergency(spec, target, world.incidents, request.restoreDesired, now);
  });
}

/** The model call a Task's Resource stands for. */
export function callFor(d: Deployment, resource: string): string {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
  if (sdk) return `${sdk[1]}:${sdk[2]}`;
  if (resource === 'arn:aws:states:::sns:publish') return 'sns:publish';
  if (resource === d.plannerArn) return 'lambda:planner';
  if (d.emergencyArn && resource === d.emergencyArn) return 'lambda:emergency';
  throw new Error(`no model for Task resource ${resource}`);
}

export interface Execution {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** Error and Cause of a failed execution. */
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order. */
  readonly path: string[];
  /** Names of the states retried, once per retry. */
  readonly retried: string[];
  /** Names of the states whose error a Catch took. */
  readonly caught: string[];
  readonly events: EventLog[];
}

/** A path that may select many nodes (filter, wildcard, slice, deep scan, union): Step Functions gives an array for these. */
export const indefinite = (path: string) => /\[\?|\*|\.\.|\[[^\]]*[:,][^\]]*\]/.test(path);

/**
 * ResultSelector the way Step Functions applies it. aws-local-stepfunctions
 * evaluates an indefinite path that matches nothing (e.g. the InService
 * instances of a group scaled to zero) as "no value" and fails the state with
 * States.Runtime; Step Functions (Jayway JsonPath) gives an empty array.
 * Selectors with such paths are therefore applied here, in the Task's local
 * handler, instead of by the library; definite paths keep failing when absent.
 */
export function selectResult(selector: unknown, result: unknown): unknown {
  if (Array.isArray(selector)) return selector.map((v) => selectResult(v, result));
  if (typeof selector !== 'object' || selector === null) return selector;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(selector)) {
    if (!key.endsWith('.$')) {
      out[key] = selectResult(value, result);
      continue;
    }
    const path = String(value);
    if (!path.startsWith('$.') && path !== '$') throw new Error(`selectResult: unsupported ${key}: ${path}`);
    const found: unknown = JSONPath({ path, json: result as object, wrap: indefinite(path) });
    if (found === undefined) throw Object.assign(new Error(`Path expression '${path}' does not point to a value`), { name: 'States.Runtime' });
    out[key.slice(0, -2)] = found;
  }
  return out;
}

const hasIndefinitePath = (selector: unknown): boolean =>
  typeof selector === 'object' && selector !== null && Object.entries(selector).some(([k, v]) => (k.endsWith('.$') && typeof v === 'string' && v.startsWith('$') && indefinite(v)) || hasIndefinitePath(v));

let executions = 0;

/** Run `rb` on `input` against `world`, to the end. */
export interface ExecuteOptions {
  /** Execution name (`$$.Execution.Name`). @default test-<n> */
  readonly name?: string;
  /** Fail the first entry of this Task state with a non-retryable error, before its call is made. */
  readonly failOnce?: string;
}

/** The error `failOnce` raises: in no Retry list, caught by States.ALL. */
export const HARD_FAILURE = 'Model.HardFailure';

export async function execute(d: Deployment, rb: Runbook, world: World, input: unknown, options: ExecuteOptions = {}): Promise<Execution> {
  const handlers: Record<string, (input: unknown) => Promise<never>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const definition = structuredClone(rb.definition) as StateMachineDefinition;
  const states = definition.States as unknown as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(rb.states)) {
    if (state.Type === 'Task') {
      const call = callFor(d, state.Resource!);
      const selector = state.ResultSelector;
      if (hasIndefinitePath(selector)) {
        delete states[name]!.ResultSelector;
        handlers[name] = async (taskInput) => selectResult(selector, await world.invoke(call, taskInput, 'state-machine')) as never;
      } else {
        handlers[name] = (taskInput) => world.invoke(call, taskInput, 'state-machine') as Promise<never>;
      }
    }
    if (name === options.failOnce) {
      const handler = handlers[name];
      if (!handler) throw new Error(`${name} is not a Task state of ${rb.name}`);
      let failed = false;
      handlers[name] = async (taskInput) => {
        if (failed) return handler(taskInput);
        failed = true;
        throw new ModelError(HARD_FAILURE, `${name} failed (injected)`);
      };
    }
    if (state.Type === 'Wait') waits[name] = 0;
    if (state.Retry) retries[name] = 0;
  }
  const name = options.name ?? `test-${++executions}`;
  const machine = new StateMachine(definition);
  const run = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: {
      StateMachine: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${rb.name}`, Name: rb.name },
      Execution: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${rb.name}:${name}`, Name: name, Input: input as never, StartTime: new Date().toISOString() },
    },
  });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of run.eventLogs) events.push(event);
  })();
  let output: unknown;
  let failed = false;
  try {
    output = await run.result;
  } catch {
    failed = true;
  }
  await collecting;
  const failure = events.find((e) => e.type === 'ExecutionFailed');
  const names = (type: EventLog['type']) => events.filter((e) => e.type === type).map((e) => (e as { state: { name: string } }).state.name);
  return {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    ...(failed ? {} : { output }),
    ...(failure ? { error: failure.Error, cause: String(failure.Cause) } : {}),
    path: names('StateEntered'),
    retried: names('StateRetried'),
    caught: names('StateCaught'),
    events,
  };
}

/** Limits and switches of every target: what a failed run must leave as it found them. */
export function limits(world: World): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of world.services.values()) out[`service/${s.cluster}/${s.service}`] = { min: s.min, max: s.max, suspended: { ...s.suspended } };
  for (const n of world.nodegroups.values()) out[`nodegroup/${n.cluster}/${n.nodegroup}`] = { min: n.min, max: n.max };
  return out;
}

/** How many times `state` was entered. */
export const entries = (e: Execution, state: string) => e.path.filter((s) => s === state).length;

/**
 * The longest prefix of `states` that occurs in `path` in this order (other
 * states may come between): `expect(inOrder(path, xs)).toEqual(xs)` shows where the path left the expected route.
 */
export function inOrder(path: readonly string[], states: readonly string[]): string[] {
  let i = 0;
  for (const s of path) if (i < states.length && s === states[i]) i++;
  return states.slice(0, i);
}
