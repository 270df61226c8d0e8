/**
 * What every handler suite shares: an account (test/fakes/aws.ts) built from
 * a targets document, the deployed template whose roles judge every call
 * (test/iam/guard.ts), the holds table as the handlers see it, the alarm
 * event shapes, and the lifecycle (retries without delay, only Date faked,
 * env, mocks and guard reset after each test).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import { fromItem } from '../../lambdas/aws/holds-store';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import type { Hold } from '../../lambdas/core/holds';
import { parseTargetsDocument, type TargetSpec, type TargetsDocument } from '../../lambdas/core/config/document';
import { ACCOUNT, FakeAws, FakeAwsError, REGION, type EcsService, type Json, type Nodegroup, type Source } from '../fakes/aws';
import { installFakeAws, resetFakeAws } from '../fakes/install';
import { calls, deniedCalls, installIamGuard, resetCalls, uninstallIamGuard, withPrincipal, type CallRecord } from '../iam/guard';
import { principalOfFunction } from '../iam/policy';
import { deployed, type ConfigName } from '../templates';

export { ACCOUNT, REGION };

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Logical-ID prefixes of the deployed functions. */
export type FunctionName = 'ReconcilerFunction' | 'EmergencyFunction' | 'PredictiveFunction' | 'RunbooksPlanner';

/** Register the lifecycle every handler suite needs; call once at the top of a test file. */
export function handlerSuite(): void {
  const saved = { ...retryPolicy };
  beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
  afterAll(() => configureRetries(saved));
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
    vi.restoreAllMocks();
    resetFakeAws();
    // Every call a handler made was allowed by its deployed role, unless the test said it expected a denial.
    const denied = deniedCalls().map((c) => `${c.principal}: ${c.action} on ${c.resource}`);
    resetCalls();
    // Throws when the harness saw a call outside a principal or an unmapped operation.
    uninstallIamGuard();
    expect(denied, 'calls denied by the deployed role').toEqual([]);
  });
}

/** A test that asserted the denials it expected: the suite's check that every call was allowed starts afresh. */
export const acceptDenials = () => resetCalls();

/** "Now" for the handlers (only Date is faked: promises and timers still run). */
export function setNow(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
export const epoch = (ms: number) => Math.floor(ms / 1000);
export const zeros = (n: number) => new Array<number>(n).fill(0);

/**
 * The fake as the SDK sees it. FakeAws names the errors it raises itself
 * (not injected faults) the Step Functions way, `DynamoDB.ConditionalCheckFailedException`,
 * `SFN.ExecutionAlreadyExists`, also for SDK callers, whose real errors carry
 * the bare name the adapters test for (`isAwsError(err, 'ConditionalCheckFailedException')`).
 * Until test/fakes/aws.ts strips the prefix for source 'sdk' as it does for
 * faults, this does it.
 */
export class SdkFakeAws extends FakeAws {
  override async handle(call: string, input: Json, source: Source): Promise<Json> {
    try {
      return await super.handle(call, input, source);
    } catch (err) {
      if (source === 'sdk' && err instanceof FakeAwsError && /^[A-Za-z]+\./.test(err.name)) throw new FakeAwsError(err.name.replace(/^[A-Za-z]+\./, ''), err.message);
      throw err;
    }
  }
}

export interface Account {
  readonly fake: FakeAws;
  readonly doc: TargetsDocument;
  /** The deployed template whose roles the IAM guard applies, when there is one. */
  readonly template: Template | undefined;
  /** Run `fn` as the role of a deployed function (every AWS call it makes is authorized against it). */
  as<T>(fn: FunctionName, run: () => Promise<T>): Promise<T>;
  spec(target: string): TargetSpec;
  service(target: string): EcsService;
  nodegroup(target: string): Nodegroup;
  /** Per-minute values of the target's work metric, oldest first, the newest at `endMinute`. */
  work(target: string, values: readonly (number | null)[], endMinute: number): void;
  gpu(target: string, values: readonly (number | null)[], endMinute: number): void;
  /** The holds table, as the handlers would read it. */
  holds(target?: string): Hold[];
  /** Write a hold straight into the table (another actor's write, or one that landed earlier). */
  putHold(hold: Hold): void;
  /** The IAM decisions the guard made for `action` (e.g. `application-autoscaling:RegisterScalableTarget`). */
  iam(action: string): CallRecord[];
}

export interface AccountOptions {
  /** Desired capacity per target name. @default each target's minCapacity */
  readonly desired?: Readonly<Record<string, number>>;
}

/** A document with one target changed (the result is checked as the handlers will check it). */
export function withTarget(doc: TargetsDocument, name: string, patch: Record<string, unknown>): TargetsDocument {
  const copy = structuredClone(doc) as unknown as { targets: Record<string, unknown>[] };
  const i = copy.targets.findIndex((t) => t.name === name);
  if (i < 0) throw new Error(`no target ${name} in the document`);
  copy.targets[i] = { ...copy.targets[i], ...patch };
  return parseTargetsDocument(copy, 'test document');
}

/**
 * An account holding every target of `doc` at rest: registered with its
 * configured limits, nothing suspended, at `desired` (default: its minimum),
 * `doc` in MLSCALE_CONFIG, and — with a template — the IAM guard installed.
 */
export function openAccount(doc: TargetsDocument, template: Template | undefined, options: AccountOptions = {}): Account {
  const fake = new SdkFakeAws();
  installFakeAws(fake);
  for (const t of doc.targets) {
    const desired = options.desired?.[t.name] ?? t.minCapacity;
    if (t.kind === 'ecs-service') fake.addService({ cluster: t.cluster, service: t.service, desired, min: t.minCapacity, max: t.maxCapacity });
    else fake.addNodegroup({ cluster: t.cluster, nodegroup: t.nodegroup, desired, min: t.minCapacity, max: t.maxCapacity });
  }
  vi.stubEnv('MLSCALE_CONFIG', JSON.stringify(doc));
  if (template) installIamGuard(template);
  const table = () => fake.table(doc.holdsTable ?? 'no-holds-table');
  const spec = (name: string) => {
    const t = doc.targets.find((x) => x.name === name);
    if (!t) throw new Error(`no target ${name} in the document`);
    return t;
  };
  return {
    fake,
    doc,
    template,
    as: (fn, run) => {
      if (!template) throw new Error('this account has no deployed template to take a role from');
      return withPrincipal(principalOfFunction(template, fn), run);
    },
    spec,
    service: (name) => {
      const t = spec(name);
      if (t.kind !== 'ecs-service') throw new Error(`${name} is not an ECS service`);
      return fake.service(t.cluster, t.service);
    },
    nodegroup: (name) => {
      const t = spec(name);
      if (t.kind !== 'eks-nodegroup') throw new Error(`${name} is not a node group`);
      return fake.nodegroup(t.cluster, t.nodegroup);
    },
    work: (name, values, endMinute) => fake.setSeries(spec(name).work!, values, endMinute),
    gpu: (name, values, endMinute) => fake.setSeries(spec(name).gpuUtilization!, values, endMinute),
    holds: (target) =>
      [...table().values()]
        .map((item) => fromItem(item))
        .filter((h): h is Hold => h !== undefined && (target === undefined || h.target === target))
        .sort((a, b) => a.holder.localeCompare(b.holder)),
    putHold: (hold) => table().set(`${hold.target}\u0000${hold.holder}`, holdItem(hold)),
    iam: (action) => calls().filter((c) => c.action === action),
  };
}

/** A change to a deployed targets document (see withTarget). */
export type DocEdit = (doc: TargetsDocument) => TargetsDocument;

export interface DeployedOptions extends AccountOptions {
  readonly edit?: DocEdit;
}

/** The account of a deployed config: its template's roles and its targets document (optionally edited). */
export function deployedAccount(config: ConfigName, options: DeployedOptions = {}): Account {
  const { template, doc } = deployed(config);
  return openAccount(options.edit ? options.edit(doc) : doc, template, options);
}

/** A hold as DynamoDB stores it (lambdas/aws/holds-store.ts's item shape). */
export function holdItem(h: Hold): Record<string, Json> {
  return {
    target: { S: h.target },
    holder: { S: h.holder },
    reason: { S: h.reason },
    createdAt: { N: String(h.createdAt) },
    expiresAt: { N: String(h.expiresAt) },
    ...(h.startsAt !== undefined ? { startsAt: { N: String(h.startsAt) } } : {}),
    ...(h.floor !== undefined ? { floor: { N: String(h.floor) } } : {}),
    ...(h.ceiling !== undefined ? { ceiling: { N: String(h.ceiling) } } : {}),
    ...(h.suspendScaleIn ? { suspendScaleIn: { BOOL: true } } : {}),
    ...(h.suspendScaleOut ? { suspendScaleOut: { BOOL: true } } : {}),
    ...(h.suspendScheduled ? { suspendScheduled: { BOOL: true } } : {}),
  };
}

/** A hold written at `now` for `minutes`. */
export function holdFor(target: string, holder: string, fields: Partial<Omit<Hold, 'target' | 'holder'>>, now: number, minutes = 60): Hold {
  return { target, holder, reason: `test hold ${holder}`, createdAt: epoch(now), expiresAt: epoch(now) + minutes * 60, ...fields };
}

/** An operator's pause: nothing automatic moves the target. */
export const pauseHold = (target: string, now: number) => holdFor(target, 'pause', { suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true }, now);

/** The error a promise rejects with (fails the test when it resolves). */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err as Error,
  );
}

/** The rejection of `promise`: one line matching `message`. */
export async function expectOneLineError(promise: Promise<unknown>, message: RegExp, name?: string): Promise<Error> {
  const error = await failureOf(promise);
  expect(error.message).toMatch(message);
  expect(error.message).not.toContain('\n');
  if (name) expect(error.name).toBe(name);
  return error;
}

/** The mutating calls the account saw: capacity, limits and switches, and hold writes. */
export function writes(fake: FakeAws): string[] {
  return [...fake.changes(), ...fake.callsOf('dynamodb:putItem'), ...fake.callsOf('dynamodb:deleteItem')].map((c) => c.call);
}

/**
 * Powertools' EMF output is off in tests (POWERTOOLS_METRICS_DISABLED), so
 * what a handler publishes is read off the Metrics calls themselves: each
 * metric with the dimensions added to the same Metrics instance.
 */
export function recordMetrics(): () => { name: string; value: number; dimensions: Record<string, string> }[] {
  const dimensions = vi.spyOn(Metrics.prototype, 'addDimensions');
  const dimension = vi.spyOn(Metrics.prototype, 'addDimension');
  const added = vi.spyOn(Metrics.prototype, 'addMetric');
  return () =>
    added.mock.calls.map(([name, , value], i) => {
      const metrics = added.mock.contexts[i];
      const dims: Record<string, string> = {};
      dimensions.mock.calls.forEach(([d], j) => dimensions.mock.contexts[j] === metrics && Object.assign(dims, d));
      dimension.mock.calls.forEach(([k, v], j) => dimension.mock.contexts[j] === metrics && Object.assign(dims, { [k]: v }));
      return { name, value, dimensions: dims };
    });
}

// ---- CloudWatch alarm events, in the three shapes AWS delivers them ------------------------------

const awsTime = (at: number) => new Date(at).toISOString().replace('Z', '+0000');

export function eventBridgeAlarm(alarmName: string, state: string, at: number) {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: new Date(at).toISOString(),
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      // CloudWatch writes these with a `+0000` offset, not `Z`.
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint [3.1] was greater than the threshold (2.0).', timestamp: awsTime(at) },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: awsTime(at - HOUR) },
      configuration: { metrics: [] },
    },
  };
}

export function alarmAction(alarmName: string, state: string, at: number) {
  return {
    source: 'aws.cloudwatch',
    alarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarmName}`,
    accountId: ACCOUNT,
    time: new Date(at).toISOString(),
    region: REGION,
    alarmData: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed', timestamp: awsTime(at) },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: awsTime(at - HOUR) },
      configuration: { metrics: [] },
    },
  };
}

export function snsAlarm(alarmName: string, state: string, at: number) {
  const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:mlscale-alarms`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: topic,
          Subject: `${state}: "${alarmName}" in EU (Ireland)`,
          Message: JSON.stringify({
            AlarmName: alarmName,
            AWSAccountId: ACCOUNT,
            NewStateValue: state,
            NewStateReason: 'Threshold Crossed',
            StateChangeTime: awsTime(at),
            Region: 'EU (Ireland)',
            OldStateValue: 'OK',
          }),
          Timestamp: new Date(at).toISOString(),
        },
      },
    ],
  };
}
