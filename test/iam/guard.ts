/**
 * The IAM check wired into the code under test:
 * - SDK calls: `installIamGuard(template)` sets send.ts's call guard; each
 *   call is authorized against the principal of the current async context
 *   (`withPrincipal`), and a denied one fails like AWS fails it.
 * - State machines: `iamCheckedWorld(world, template, name)` wraps the
 *   runbook model so every Task is authorized against the state machine's
 *   role before the model serves it, and every call a Lambda makes through
 *   the model against the Lambda's role.
 *
 * Everything is recorded (`calls()`); misuse of the harness (a call outside
 * any principal, an operation with no IAM mapping) is also remembered and
 * makes `uninstallIamGuard()` throw, since the code under test may swallow
 * the error it got.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Template } from 'aws-cdk-lib/assertions';
import { type CallInfo, setCallGuard } from '../../lambdas/aws/send';
import { functionId, placeholderArn } from '../runbooks/definition';
/** Who made a call: a Task state of a state machine, or SDK code (`lambda`/`sdk`). */
export type Source = 'state-machine' | 'lambda' | 'sdk';

/** What iamCheckedWorld wraps (test/fakes/aws.ts FakeAws fits it): calls served by name, Lambdas invoked as `lambda:<name>`. */
export interface World {
  invoke(call: string, input: unknown, source: Source): Promise<unknown>;
  // Payloads are loosely typed JSON, as in test/fakes/aws.ts.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly lambdas: Map<string, (payload: any) => Promise<unknown>>;
}
import { type Authorization, authorize } from './kms';
import { ACCOUNT, type IamRequest, type Principal, principalOfFunction, principalOfStateMachine } from './policy';
import { callOfTask, requestsFor, requestsForTask } from './requests';

const current = new AsyncLocalStorage<Principal>();

/** Run `fn` (and everything it starts) as `principal`. */
export function withPrincipal<T>(principal: Principal, fn: () => T): T {
  return current.run(principal, fn);
}

/** The principal of the current async context, if any. */
export function currentPrincipal(): Principal | undefined {
  return current.getStore();
}

/** `fn` made to run as `principal` on every call (for the Lambdas bound into the runbook model). */
export function asPrincipal<A extends unknown[], R>(principal: Principal, fn: (...args: A) => R): (...args: A) => R {
  return (...args: A) => withPrincipal(principal, () => fn(...args));
}

/** The role of the Lambda whose logical ID starts with `logicalIdPrefix` (`ScaleToZeroScalerFunction`). */
export function principalForLambda(template: Template, logicalIdPrefix: string): Principal {
  return principalOfFunction(template, logicalIdPrefix);
}

export interface CallRecord {
  /** Role name, or service principal. */
  readonly principal: string;
  /** `sdk`: through send.ts; `task`: a state machine Task; `lambda`: a Lambda's call through the runbook model. */
  readonly via: 'sdk' | 'task' | 'lambda';
  /** `Application Auto Scaling RegisterScalableTarget`, or the Task resource / model call. */
  readonly call: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
  readonly reason: string;
}

const log: CallRecord[] = [];
const problems: string[] = [];
let installed: Template | undefined;

/** Every authorization made since the guard was installed (or `resetCalls`), KMS checks included. */
export function calls(): readonly CallRecord[] {
  return [...log];
}

/** The denied ones. */
export function deniedCalls(): CallRecord[] {
  return log.filter((c) => !c.allowed);
}

export function resetCalls(): void {
  log.length = 0;
}

/** Harness misuse seen so far (calls outside any principal, unmapped operations). */
export function harnessProblems(): readonly string[] {
  return [...problems];
}

function problem(message: string): Error {
  problems.push(message);
  return new Error(message);
}

/** An error shaped like the SDK's for a denied call (name, message, $metadata). */
export class AccessDeniedError extends Error {
  readonly $metadata = { httpStatusCode: 400 };
  readonly $fault = 'client';
  constructor(
    name: string,
    message: string,
    readonly action: string,
    readonly resource: string,
    /** Why, in test/iam's words. */
    readonly iamReason: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * A denied Task or model call: shaped like test/runbooks/model.ts's ModelError
 * (a Step Functions error name, an SDK-like `$metadata`), so the runbook
 * harness and aws-local-stepfunctions treat it like any task error.
 */
export class TaskDeniedError extends Error {
  readonly $metadata = { httpStatusCode: 400 };
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** True for any denial this harness raises, SDK or Step Functions shaped. */
export function isAccessDenied(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /(^|\.)(AccessDeniedException|KMSAccessDeniedException)$/.test(name);
}

/** AWS's wording: `User: arn:aws:sts::123456789012:assumed-role/<role>/x is not authorized to perform: <action> on resource: <arn> because ...`. */
export function deniedMessage(principal: Principal, a: Authorization): string {
  const action = a.deniedAction ?? '?';
  const resource = a.deniedResource ?? '*';
  const who = principal.kind === 'role' ? `User: arn:aws:sts::${ACCOUNT}:assumed-role/${principal.name}/x` : `Service: ${principal.name}`;
  const type = a.policyType ?? 'identity-based';
  const because = a.explicitDeny ? `with an explicit deny in a${type === 'identity-based' ? 'n' : ''} ${type} policy` : `because no ${type} policy allows the ${action} action`;
  return `${who} is not authorized to perform: ${action} on resource: ${resource} ${because}`;
}

function record(principal: Principal, via: CallRecord['via'], call: string, a: Authorization): void {
  for (const c of a.checks) log.push({ principal: principal.name, via, call, action: c.action, resource: c.resource, allowed: c.decision.allowed, reason: c.decision.reason });
}

function check(principal: Principal, via: CallRecord['via'], call: string, requests: readonly IamRequest[], denied: (a: Authorization) => Error): void {
  if (installed && principal.template !== installed) throw problem(`${call}: principal ${principal.name} comes from another template than the one the IAM guard was installed with`);
  for (const r of requests) {
    const a = authorize(principal, r);
    record(principal, via, call, a);
    if (!a.allowed) throw denied(a);
  }
}

/** The SDK error for a denial: AccessDeniedException, or SNS's KMSAccessDeniedException when the topic's key refused. */
function sdkDenied(principal: Principal, a: Authorization): AccessDeniedError {
  return new AccessDeniedError(a.kmsDenied ? 'KMSAccessDeniedException' : 'AccessDeniedException', deniedMessage(principal, a), a.deniedAction ?? '?', a.deniedResource ?? '*', a.reason);
}

function guardCall(call: CallInfo): void {
  const name = `${call.service} ${call.operation}`;
  const principal = current.getStore();
  if (!principal) throw problem(`AWS call outside any principal: ${name} (run the code under test inside withPrincipal)`);
  let requests: IamRequest[];
  try {
    requests = requestsFor(call);
  } catch (err) {
    throw problem((err as Error).message);
  }
  check(principal, 'sdk', name, requests, (a) => sdkDenied(principal, a));
}

/** Check every AWS call made through lambdas/aws/send.ts against the IAM of `template`. Resets `calls()`. */
export function installIamGuard(template: Template): void {
  installed = template;
  log.length = 0;
  problems.length = 0;
  setCallGuard(guardCall);
}

/** Remove the guard; throws if the harness was misused while it was installed (the code under test may have swallowed it). */
export function uninstallIamGuard(): void {
  setCallGuard(undefined);
  installed = undefined;
  if (problems.length > 0) {
    const found = problems.splice(0);
    throw new Error(`IAM guard: ${found.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------
// Step Functions
// ---------------------------------------------------------------------------

/**
 * Error names for a denied Task. Step Functions names an AWS SDK
 * integration's error `<Service>.<ErrorName>` in PascalCase, so a denial is
 * `Ecs.AccessDeniedException`, `ApplicationAutoScaling.AccessDeniedException`
 * ...; the prefixes follow lib/constructs/runbooks/common.ts (`Sns`, not
 * `SNS`). None of them is in the transient lists (transientErrors,
 * LAMBDA_TRANSIENT), so only a catch-all (`States.ALL`, `States.TaskFailed`)
 * retries or catches it, as in AWS. An SNS publish refused by the topic's KMS
 * key is `Sns.KMSAccessDeniedException` (SNS's KMSAccessDenied error).
 */
const TASK_ERROR_PREFIX: Readonly<Record<string, string>> = {
  ecs: 'Ecs',
  applicationautoscaling: 'ApplicationAutoScaling',
  eks: 'Eks',
  cloudwatch: 'CloudWatch',
  autoscaling: 'AutoScaling',
  sns: 'Sns',
  dynamodb: 'DynamoDb',
  sfn: 'Sfn',
  lambda: 'Lambda',
};

/** The error name a denied Task fails with (see TASK_ERROR_PREFIX). */
export function taskErrorName(resource: string, kmsDenied = false): string {
  const { sfnService } = callOfTask(resource);
  return `${TASK_ERROR_PREFIX[sfnService] ?? 'States'}.${kmsDenied ? 'KMSAccessDeniedException' : 'AccessDeniedException'}`;
}

/** Throw, as Step Functions would fail the Task, unless `principal` may run the Task `resource` with this resolved input. */
export function guardTask(principal: Principal, resource: string, input: unknown): void {
  let requests: IamRequest[];
  try {
    requests = requestsForTask(resource, input);
  } catch (err) {
    throw problem((err as Error).message);
  }
  check(principal, 'task', resource, requests, (a) => new TaskDeniedError(taskErrorName(resource, a.kmsDenied), deniedMessage(principal, a)));
}

/**
 * The runbook model's Lambdas (`lambda:<name>` calls) and the logical-ID
 * prefixes their functions may have (the first one the template has wins).
 */
export const RUNBOOK_LAMBDAS: Readonly<Record<string, string | readonly string[]>> = {
  planner: ['RunbooksPlannerFunction', 'RunbooksPlanner'],
  emergency: ['EmergencyScalerFunction', 'EmergencyFunction'],
};

type LambdaPrefixes = Readonly<Record<string, string | readonly string[]>>;

/** The logical-ID prefix of `prefixes` that names exactly one Lambda function of the template, if any. */
function presentPrefix(template: Template, prefixes: string | readonly string[]): string | undefined {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function'));
  return (typeof prefixes === 'string' ? [prefixes] : prefixes).find((p) => ids.filter((id) => id.startsWith(p)).length === 1);
}

/** The Task resource a model call stands for (the inverse of test/runbooks/harness.ts `callFor`). */
export function taskResourceFor(call: string, lambdaArns: Readonly<Record<string, string>>): string {
  if (call === 'sns:publish') return 'arn:aws:states:::sns:publish';
  if (call.startsWith('lambda:')) {
    const arn = lambdaArns[call.slice('lambda:'.length)];
    if (!arn) throw problem(`no Lambda function for model call ${call}`);
    return arn;
  }
  return `arn:aws:states:::aws-sdk:${call}`;
}

function lambdaArnsOf(template: Template, prefixes: LambdaPrefixes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, candidates] of Object.entries(prefixes)) {
    const prefix = presentPrefix(template, candidates);
    if (prefix) out[name] = placeholderArn(template, functionId(template, prefix));
  }
  return out;
}

/**
 * Wrap each Lambda bound into the model (`world.lambdas`) so it runs as its
 * function's role; pass `lambdas` for names other than planner/emergency.
 */
export function bindLambdaPrincipals(world: World, template: Template, lambdas: LambdaPrefixes = RUNBOOK_LAMBDAS): void {
  for (const [name, candidates] of Object.entries(lambdas)) {
    const fn = world.lambdas.get(name);
    if (!fn) continue;
    const prefix = presentPrefix(template, candidates);
    if (!prefix) throw new Error(`no Lambda function for ${name} (logical ID starting with ${String(candidates)})`);
    world.lambdas.set(name, asPrincipal(principalForLambda(template, prefix), fn));
  }
}

/**
 * `world` with IAM in front of it: a call from the state machine is
 * authorized against the role of `stateMachineName` (as the Task its call
 * name stands for), a call from a Lambda against the principal of the
 * current context (see bindLambdaPrincipals); a denied call fails before the
 * model sees it, with the error Step Functions (or the SDK) would give.
 */
export function iamCheckedWorld(
  world: World,
  template: Template,
  stateMachineName: string,
  options: {
    /** Model Lambda name → logical-ID prefix(es) of its function. @default RUNBOOK_LAMBDAS */
    readonly lambdas?: LambdaPrefixes;
    /** Model Lambda name → function ARN (e.g. the harness Deployment's plannerArn); wins over `lambdas`. */
    readonly lambdaArns?: Readonly<Record<string, string>>;
  } = {},
): World {
  const machine = principalOfStateMachine(template, stateMachineName);
  const lambdaArns = { ...lambdaArnsOf(template, options.lambdas ?? RUNBOOK_LAMBDAS), ...options.lambdaArns };
  const invoke = world.invoke.bind(world);
  const checked = async (call: string, input: unknown, source: Source): Promise<unknown> => {
    if (source === 'state-machine') {
      guardTask(machine, taskResourceFor(call, lambdaArns), input);
    } else {
      const principal = current.getStore();
      if (!principal) throw problem(`model call ${call} from a Lambda outside any principal (bindLambdaPrincipals)`);
      let requests: IamRequest[];
      try {
        requests = requestsForTask(taskResourceFor(call, lambdaArns), input);
      } catch (err) {
        throw problem((err as Error).message);
      }
      // The Lambda's adapter sees the SDK's error name (as the model's faults do for source 'lambda').
      check(principal, 'lambda', call, requests, (a) => new TaskDeniedError(a.kmsDenied ? 'KMSAccessDeniedException' : 'AccessDeniedException', deniedMessage(principal, a)));
    }
    return invoke(call, input, source);
  };
  return new Proxy(world, {
    get(target, prop, receiver) {
      if (prop === 'invoke') return checked;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
