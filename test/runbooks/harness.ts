/**
 * Runs a synthesized runbook with aws-local-stepfunctions against the shared
 * fake account (test/fakes/aws.ts), IAM-checked throughout:
 * - every Task state is served by the fake in Step Functions' shapes, after
 *   test/iam has authorized it against the state machine's role (an SNS
 *   publish also needs the topic's KMS key);
 * - the Lambdas the state machines invoke are the real handlers
 *   (lambdas/runbook, lambdas/emergency) with their deployed MLSCALE_*
 *   environment; their SDK calls reach the same fake through
 *   aws-sdk-client-mock, each authorized against its function's role;
 * - time is virtual (./clock.ts): a Wait state moves the fake clock to when
 *   it would end instead of sleeping, so holds expire when their time comes;
 *   retries wait 0 ms.
 * The templates come from test/templates.ts (synthesized once per run).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
// The JSONPath engine aws-local-stepfunctions itself uses (its dependency), for the places its results differ from AWS.
import { JSONPath } from 'jsonpath-plus';
import { afterEach, beforeEach, vi } from 'vitest';
import { DynamoHoldStore, fromItem } from '../../lambdas/aws/holds-store';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { isActive, NOT_SUSPENDED, type Hold, type Suspension } from '../../lambdas/core/holds';
import type { TargetSpec, TargetsDocument } from '../../lambdas/core/config/document';
import { handler as emergencyHandler } from '../../lambdas/emergency/index';
import { reconcileTargets, type TickResult } from '../../lambdas/reconcile/run';
import { handler as runbookHandler } from '../../lambdas/runbook/index';
import { runbookStateMachineName, type RunbookName } from '../../lib/constructs/runbooks/runbooks';
import { FakeAwsError, type FakeAws, type Json, type Source } from '../fakes/aws';
import { installFakeAws, resetFakeAws } from '../fakes/install';
// FakeAws with the SDK's error names on the SDK side (`ConditionalCheckFailedException`, not `DynamoDB.…`), until test/fakes/aws.ts does that itself.
import { SdkFakeAws } from '../handlers/fixtures';
import { guardTask, installIamGuard, uninstallIamGuard, withPrincipal } from '../iam/guard';
import { environmentOf, principalOfFunction, principalOfStateMachine, type Principal } from '../iam/policy';
import { deployed, type ConfigName } from '../templates';
import { VirtualClock } from './clock';
import { ACCOUNT, functionId, placeholderArn, REGION, runbook, type AslState, type Runbook } from './definition';

export type { RunbookName };

/** An event of an execution's log (the library does not export the type). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** The Lambdas of the runbooks: their name in the fake (`lambda:<name>`) and the logical-ID prefix of their function. */
const FUNCTIONS = { runbook: 'RunbooksPlanner', emergency: 'EmergencyFunction' } as const;
export type LambdaName = keyof typeof FUNCTIONS;
const RECONCILER = 'ReconcilerFunction';

/** What the runbooks need of one synthesized environment. */
export interface Deployment {
  readonly config: ConfigName;
  readonly template: Template;
  readonly doc: TargetsDocument;
  readonly holdsTable: string;
  /** `<pipeline>-<environment>`: prefix of the state machine names. */
  readonly prefix: string;
  /** Function ARNs as the state machines' Lambda Tasks name them. */
  readonly lambdaArns: Readonly<Record<LambdaName, string>>;
  /**
   * The MLSCALE_* environment both Lambdas are deployed with. A document too
   * large for Lambda's environment is compiled into the bundle as
   * MLSCALE_CONFIG_BUNDLED (lib/constructs/scaler-function.ts); it is that here.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly principals: Readonly<Record<LambdaName | 'reconciler', Principal>>;
}

const deployments = new Map<ConfigName, Deployment>();

function lambdaEnvironment(template: Template, doc: TargetsDocument): Record<string, string> {
  const env: Record<string, string> = {};
  for (const prefix of Object.values(FUNCTIONS)) {
    const own = Object.entries(environmentOf(template, prefix)).filter(([k]) => k.startsWith('MLSCALE_'));
    if (!own.some(([k]) => k === 'MLSCALE_CONFIG')) own.push(['MLSCALE_CONFIG_BUNDLED', JSON.stringify(doc)]);
    for (const [k, v] of own) {
      if (env[k] !== undefined && env[k] !== v) throw new Error(`${k} differs between the runbook Lambdas; the harness runs both in one process`);
      env[k] = v;
    }
  }
  return env;
}

/** The production environment of one of the synthesized configs (cached). */
export function deployment(config: ConfigName): Deployment {
  const hit = deployments.get(config);
  if (hit) return hit;
  const { template, doc } = deployed(config);
  if (!doc.holdsTable) throw new Error(`${config}: the targets document names no holds table`);
  const d: Deployment = {
    config,
    template,
    doc,
    holdsTable: doc.holdsTable,
    prefix: `${doc.pipeline}-${doc.environment}`,
    lambdaArns: { runbook: placeholderArn(template, functionId(template, FUNCTIONS.runbook)), emergency: placeholderArn(template, functionId(template, FUNCTIONS.emergency)) },
    env: lambdaEnvironment(template, doc),
    principals: {
      runbook: principalOfFunction(template, FUNCTIONS.runbook),
      emergency: principalOfFunction(template, FUNCTIONS.emergency),
      reconciler: principalOfFunction(template, RECONCILER),
    },
  };
  deployments.set(config, d);
  return d;
}

const runbooks = new Map<string, { readonly rb: Runbook; readonly role: Principal }>();

function machineOf(d: Deployment, name: RunbookName): { readonly rb: Runbook; readonly role: Principal } {
  const key = `${d.config}/${name}`;
  let hit = runbooks.get(key);
  if (!hit) {
    const rb = runbook(d.template, runbookStateMachineName(d.prefix, name));
    runbooks.set(key, (hit = { rb, role: principalOfStateMachine(d.template, rb.name) }));
  }
  return hit;
}

/**
 * The runbook `<prefix>-<name>` of a deployment, parsed once. Runs skip the
 * library's ASL validation (a schema compile of about a second per run);
 * harness.test.ts validates every synthesized definition once instead.
 */
export function runbookOf(d: Deployment, name: RunbookName): Runbook {
  return machineOf(d, name).rb;
}

/** The fake's call a Task's Resource stands for. */
export function callFor(d: Deployment, resource: string): string {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
  if (sdk) return `${sdk[1]}:${sdk[2]}`;
  if (resource === 'arn:aws:states:::sns:publish') return 'sns:publish';
  for (const [name, arn] of Object.entries(d.lambdaArns)) if (resource === arn) return `lambda:${name}`;
  throw new Error(`the fake serves no Task resource ${resource}`);
}

/** A path that may select many nodes (filter, wildcard, slice, deep scan, union): Step Functions gives an array for these. */
export const indefinite = (path: string) => /\[\?|\*|\.\.|\[[^\]]*[:,][^\]]*\]/.test(path);

/** An error no Retry or Catch of the library matches (its own States.Runtime carries the same two flags). */
export function uncatchable(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, isRetryable: false, isCatchable: false });
}

/**
 * ResultSelector the way Step Functions applies it. aws-local-stepfunctions
 * evaluates an indefinite path that matches nothing (the InService instances
 * of a group scaled to zero) as "no value" and fails with States.Runtime;
 * Step Functions (Jayway JsonPath) gives an empty array. Selectors with such
 * paths are applied here instead; definite paths still fail when absent.
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
    if (found === undefined) throw uncatchable('States.Runtime', `Path expression '${path}' does not point to a value`);
    out[key.slice(0, -2)] = found;
  }
  return out;
}

const hasIndefinitePath = (selector: unknown): boolean =>
  typeof selector === 'object' &&
  selector !== null &&
  Object.entries(selector).some(([k, v]) => (k.endsWith('.$') && typeof v === 'string' && v.startsWith('$') && indefinite(v)) || hasIndefinitePath(v));

/** When a Wait state entered at `now` with `input` ends (epoch ms). */
export function waitEnd(state: AslState, input: unknown, now: number): number {
  const at = (path: unknown): unknown => JSONPath({ path: String(path), json: input as object, wrap: false });
  let end: number;
  if (typeof state.Seconds === 'number') end = now + state.Seconds * 1000;
  else if (state.SecondsPath !== undefined) end = now + Number(at(state.SecondsPath)) * 1000;
  else if (typeof state.Timestamp === 'string') end = Date.parse(state.Timestamp);
  else if (state.TimestampPath !== undefined) end = Date.parse(String(at(state.TimestampPath)));
  else throw new Error('a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath');
  if (!Number.isFinite(end)) throw uncatchable('States.Runtime', `the Wait's time is not a number or timestamp (${JSON.stringify(input)})`);
  return end;
}

/** Where the harness serves a Wait state: a Task whose handler moves the clock (its Resource is never called). */
const WAIT_RESOURCE = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:harness-wait`;

/** A Lambda error's Cause is `{ errorType, errorMessage }` as JSON; anything else is its own message. */
function messageOf(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** The error `fail` injects by default: in no Retry list, caught by States.ALL. */
export const HARD_FAILURE = 'Harness.HardFailure';
/** The Error of a run ended by `stopAt`. */
export const ABORTED = 'Harness.Aborted';

export interface RunOptions {
  /** Execution name (`$$.Execution.Name`). @default `<runbook>-<n>` */
  readonly name?: string;
  /** Start when the clock reads this (epoch ms), e.g. while another execution waits. */
  readonly startAt?: number;
  /**
   * End the run on entering this state, running no Catch: what an abort, an
   * execution timeout or a States.Runtime error leave behind.
   */
  readonly stopAt?: string;
  /** Fail a Task state: `times` entries (default 1) fail with `error` (default HARD_FAILURE), before its call or, with `afterEffect`, after it landed. */
  readonly fail?: { readonly state: string; readonly error?: string; readonly times?: number; readonly afterEffect?: boolean };
  /** Run before the Task or Wait state of that name does its work, at every entry. */
  readonly before?: Readonly<Record<string, () => void | Promise<void>>>;
}

export interface Execution {
  readonly name: string;
  /** ABORTED: ended by `stopAt`. */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: Json;
  /** Error and Cause of a failed run. */
  readonly error?: string;
  readonly cause?: string;
  /** The Cause in words: a Lambda error's `errorMessage`, else the Cause itself. */
  readonly message?: string;
  /** Names of the states entered, in order. */
  readonly path: string[];
  /** Names of the states retried, once per retry. */
  readonly retried: string[];
  /** Names of the states whose error a Catch took. */
  readonly caught: string[];
  /** Input of the last state entered: what a failed run had at its end (its notificationErrors, say). */
  readonly last?: Json;
  /** The input of every entry of `state`, in order (what `mlscale rollout --wait` reads off the history). */
  readonly inputsOf: (state: string) => Json[];
  /** Each Task call (Wait states excluded) and the clock when it was made. */
  readonly timeline: { readonly state: string; readonly at: number }[];
}

export interface TargetLimits {
  readonly min: number;
  readonly max: number;
  readonly suspension: Suspension;
}

/**
 * One test's world: a fresh fake account seeded with every target of the
 * document at rest (desired = min, limits as configured, nothing suspended,
 * every alarm and health alarm OK), the Lambdas bound, the IAM guard on, the clock at START.
 */
export class Harness {
  fake!: SdkFakeAws;
  readonly clock = new VirtualClock();
  private count = 0;
  private savedRetries = { ...retryPolicy };

  constructor(
    /** The deployment of the current world (`reset` may switch it). */
    public d: Deployment,
    private readonly start: number,
  ) {}

  /**
   * A fresh world, for a loop of runs inside one test; `d` switches the
   * deployment. Cheaper than a teardown: the SDK mocks stay installed (they
   * reach whichever fake is current).
   */
  reset(d: Deployment = this.d): void {
    uninstallIamGuard();
    vi.unstubAllEnvs();
    this.d = d;
    this.world();
  }

  setUp(): void {
    this.savedRetries = { ...retryPolicy };
    configureRetries({ baseDelayMs: 0, maxDelayMs: 0 });
    // The mocks reach whichever fake is current, so `reset` need not install them again.
    installFakeAws({ handle: (call: string, input: Json, source: Source) => this.fake.handle(call, input, source) } as FakeAws);
    this.world();
  }

  private world(): void {
    this.clock.start(this.start);
    this.count = 0;
    const fake = new SdkFakeAws();
    for (const t of this.d.doc.targets) {
      if (t.kind === 'ecs-service') fake.addService({ cluster: t.cluster, service: t.service, desired: t.minCapacity, min: t.minCapacity, max: t.maxCapacity });
      else fake.addNodegroup({ cluster: t.cluster, nodegroup: t.nodegroup, desired: t.minCapacity, min: t.minCapacity, max: t.maxCapacity });
      // Its alarms (the emergency runbook's) and its health alarms (the rollout's gates), one entry per name.
      for (const alarm of new Set([...t.alarms, ...t.healthAlarms])) fake.addAlarm(alarm, ['OK']);
    }
    for (const name of Object.keys(FUNCTIONS) as LambdaName[]) fake.lambdas.set(name, this.lambda(name));
    this.fake = fake;
    for (const [k, v] of Object.entries(this.d.env)) vi.stubEnv(k, v);
    if (!this.d.env.MLSCALE_CONFIG) vi.stubEnv('MLSCALE_CONFIG', undefined);
    installIamGuard(this.d.template);
  }

  tearDown(): void {
    try {
      // Throws if a call was made outside any principal or has no IAM mapping.
      uninstallIamGuard();
    } finally {
      vi.unstubAllEnvs();
      resetFakeAws();
      configureRetries(this.savedRetries);
      this.clock.stop();
    }
  }

  /**
   * A Lambda as deployed: its handler, run as its function's role, failing
   * the way Lambda reports a function error to Step Functions (the error's
   * name as Error, `{ errorType, errorMessage }` as Cause).
   */
  private lambda(name: LambdaName): (payload: Json) => Promise<unknown> {
    const handler = name === 'runbook' ? runbookHandler : emergencyHandler;
    const principal = this.d.principals[name];
    return async (payload) => {
      try {
        return await withPrincipal(principal, () => handler(payload));
      } catch (err) {
        const e = err as Error;
        throw Object.assign(new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message })), { name: e.name });
      }
    };
  }

  /** Call a Lambda directly (as an alarm action or the CLI would). */
  invoke(name: LambdaName, payload: Json): Promise<Json> {
    return this.fake.lambdas.get(name)!(payload);
  }

  /** Run a runbook to its end. Runs started together (`Promise.all`) share the virtual clock. */
  run(name: RunbookName, input: unknown, options: RunOptions = {}): Promise<Execution> {
    // Counted live at once, so an execution started beside it cannot move the clock past its start.
    this.clock.enter();
    return this.execute(name, input, options).finally(() => this.clock.leave());
  }

  private async execute(runbookName: RunbookName, input: unknown, options: RunOptions): Promise<Execution> {
    const { rb, role: machine } = machineOf(this.d, runbookName);
    const definition = structuredClone(rb.definition) as StateMachineDefinition;
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    const retries: Record<string, number> = {};
    const timeline: { state: string; at: number }[] = [];
    let failures = 0;

    for (const [name, state] of Object.entries(rb.states)) {
      const before = options.before?.[name];
      if (state.Type === 'Task') {
        const call = callFor(this.d, state.Resource!);
        const selector = state.ResultSelector;
        const local = hasIndefinitePath(selector);
        if (local) delete states[name]!.ResultSelector;
        const fail = options.fail?.state === name ? options.fail : undefined;
        handlers[name] = async (taskInput) => {
          await before?.();
          timeline.push({ state: name, at: Date.now() });
          const injected = fail && failures < (fail.times ?? 1) ? (failures++, new FakeAwsError(fail.error ?? HARD_FAILURE, `${name} failed (injected)`)) : undefined;
          if (injected && !fail!.afterEffect) throw injected;
          guardTask(machine, state.Resource!, taskInput);
          const out: Json = await this.fake.invoke(call, taskInput);
          if (injected) throw injected;
          return local ? selectResult(selector, out) : out;
        };
      } else if (state.Type === 'Wait') {
        const { Next, End, InputPath, OutputPath } = state;
        states[name] = { Type: 'Task', Resource: WAIT_RESOURCE, ...(Next ? { Next } : { End }), ...(InputPath !== undefined ? { InputPath } : {}), ...(OutputPath !== undefined ? { OutputPath } : {}) };
        handlers[name] = async (waitInput) => {
          await before?.();
          await this.clock.sleepUntil(waitEnd(state, waitInput, Date.now()));
          return waitInput;
        };
      }
      if (state.Retry) retries[name] = 0;
    }
    if (options.fail && rb.states[options.fail.state]?.Type !== 'Task') throw new Error(`${options.fail.state} is not a Task state of ${rb.name}`);
    if (options.stopAt) {
      if (!rb.states[options.stopAt]) throw new Error(`no state ${options.stopAt} in ${rb.name}`);
      states[options.stopAt] = { Type: 'Fail', Error: ABORTED, Cause: `ended on entering ${options.stopAt}: no Catch runs (abort, execution timeout, States.Runtime)` };
      delete handlers[options.stopAt];
    }

    if (options.startAt !== undefined) await this.clock.sleepUntil(options.startAt);
    const name = options.name ?? `${runbookName}-${++this.count}`;
    const run = new StateMachine(definition, { validationOptions: { noValidate: true } }).run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retries },
      context: {
        StateMachine: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${rb.name}`, Name: rb.name },
        Execution: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${rb.name}:${name}`, Name: name },
      },
    });
    const events: EventLog[] = [];
    const collecting = (async () => {
      for await (const event of run.eventLogs) events.push(event);
    })();
    let output: Json;
    let failed = false;
    try {
      output = await run.result;
    } catch {
      failed = true;
    }
    await collecting;
    const failure = events.find((e) => e.type === 'ExecutionFailed');
    const entered = events.filter((e) => e.type === 'StateEntered');
    const names = (type: EventLog['type']) => events.filter((e) => e.type === type).map((e) => (e as { state: { name: string } }).state.name);
    return {
      name,
      status: !failed ? 'SUCCEEDED' : failure?.Error === ABORTED ? 'ABORTED' : 'FAILED',
      ...(failed ? {} : { output }),
      ...(failure ? { error: failure.Error, cause: String(failure.Cause), message: messageOf(String(failure.Cause)) } : {}),
      path: names('StateEntered'),
      retried: names('StateRetried'),
      caught: names('StateCaught'),
      ...(entered.length > 0 ? { last: entered.at(-1)!.state.input } : {}),
      inputsOf: (state: string) => entered.filter((e) => e.state.name === state).map((e) => e.state.input as Json),
      timeline,
    };
  }

  /** One reconcile pass over every target of the document, as the reconciler Lambda's role. */
  reconcile(): Promise<TickResult> {
    return withPrincipal(this.d.principals.reconciler, () => reconcileTargets(this.d.doc.targets, new DynamoHoldStore(this.d.holdsTable), new Date()));
  }

  /** Every hold in the holds table, expired ones included. */
  holds(): Hold[] {
    return [...this.fake.table(this.d.holdsTable).values()].map((item) => fromItem(item)).filter((h): h is Hold => h !== undefined);
  }

  /** The holds in force now. */
  activeHolds(): Hold[] {
    return this.holds().filter((h) => isActive(h, Date.now()));
  }

  spec(target: string): TargetSpec {
    const spec = this.d.doc.targets.find((t) => t.name === target);
    if (!spec) throw new Error(`no target ${target}`);
    return spec;
  }

  /** The fake's ECS service of an ecs-service target (to arrange it or watch it). */
  service(target: string) {
    const t = this.spec(target);
    if (t.kind !== 'ecs-service') throw new Error(`${target} is not an ECS service`);
    return this.fake.service(t.cluster, t.service);
  }

  /** The fake's node group of an eks-nodegroup target. */
  nodegroup(target: string) {
    const t = this.spec(target);
    if (t.kind !== 'eks-nodegroup') throw new Error(`${target} is not a node group`);
    return this.fake.nodegroup(t.cluster, t.nodegroup);
  }

  /** Limits and switches of every target as the fake has them now. */
  limits(): Record<string, TargetLimits> {
    return Object.fromEntries(
      this.d.doc.targets.map((t) => {
        const now = t.kind === 'ecs-service' ? this.service(t.name) : { ...this.nodegroup(t.name), suspended: NOT_SUSPENDED };
        return [t.name, { min: now.min, max: now.max, suspension: { ...now.suspended } }];
      }),
    );
  }

  /** Limits and switches of every target as configured: what the reconciler restores once every hold has ended. */
  configuredLimits(): Record<string, TargetLimits> {
    return Object.fromEntries(this.d.doc.targets.map((t) => [t.name, { min: t.minCapacity, max: t.maxCapacity, suspension: NOT_SUSPENDED }]));
  }

  /** Move the clock to one second past the latest expiry of any hold (no hold: leave it). */
  advancePastHolds(): void {
    const latest = Math.max(0, ...this.holds().map((h) => h.expiresAt));
    this.clock.advanceTo((latest + 1) * 1000);
  }

  /** Subjects of the notifications published, in order. */
  subjects(): string[] {
    return this.fake.published.map((p) => p.subject ?? '');
  }

  /** The message of the nth notification, parsed (Step Functions sends the object as JSON). */
  message(n: number): Json {
    const m: unknown = this.fake.published.at(n)?.message;
    return typeof m === 'string' ? JSON.parse(m) : m;
  }
}

/**
 * A Harness for the tests of the current describe block (or file): a fresh
 * world before each test, torn down after it.
 */
export function useHarness(config: ConfigName, start: number): Harness {
  const h = new Harness(deployment(config), start);
  beforeEach(() => h.setUp());
  afterEach(() => h.tearDown());
  return h;
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
