/**
 * The CLI's tests run `main([...argv])` in-process with stdout and stderr
 * captured, against the shared fake account (test/fakes/aws.ts) reached
 * through aws-sdk-client-mock: every SDK call the CLI (and the reconcile
 * pass it runs) makes lands in `fake`, which tests arrange before a run and
 * read after it. Time stands at NOW unless a test moves it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { fromItem } from '../../lambdas/aws/holds-store';
import type { Hold } from '../../lambdas/core/holds';
import { main, type RunContext } from '../../src/cli/main';
import { FakeAws, FakeAwsError, type Json, type Source } from '../fakes/aws';
import { installFakeAws } from '../fakes/install';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The config the tests run on (engine, cpu-modules, gpu-modules; node groups gpu-workers, gpu-batch in ml-prod). */
export const FIXTURE = 'test/cli/fixtures/mlscale.json';
export const CLUSTER = 'pipestream-production';
export const EKS = 'ml-prod';
export const TABLE = 'pipestream-production-holds';
/** A Wednesday, inside the fixture's office hours (08-18 UTC), 8 h before its product launch (18:00, 30 min lead). */
export const NOW = new Date('2026-12-02T10:00:00Z');
export const NOW_S = NOW.getTime() / 1000;

/** `mlscale ...argv` as bin/mlscale.js runs it (process.argv with node and script first), stdout and stderr captured. */
export async function runWith(ctx: RunContext, ...argv: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main([process.execPath, '/usr/local/bin/mlscale', ...argv], ctx);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

export const run = (...argv: string[]) => runWith({}, ...argv);
/** `mlscale ...argv --config FIXTURE`. */
export const cli = (...argv: string[]) => run(...argv, '--config', FIXTURE);

export const lines = (text: string) => text.split('\n').filter((l) => l !== '');

/**
 * The shared fake, with its own errors named as the SDK names them: FakeAws
 * names the errors it raises itself (`ResourceNotFoundException` of an
 * unknown node group …) the Step Functions way (`Eks.ResourceNotFoundException`)
 * for SDK callers too, which the adapters' `isAwsError(err, name)` checks
 * would not recognise. (Injected faults already get the SDK's name.)
 */
export class SdkFakeAws extends FakeAws {
  override async handle(call: string, input: Json, source: Source): Promise<Json> {
    try {
      return await super.handle(call, input, source);
    } catch (e) {
      if (source === 'sdk' && e instanceof FakeAwsError) e.name = e.name.replace(/^[A-Za-z]+\./, '');
      throw e;
    }
  }
}

/** The fake account of the fixture: its ECS services and EKS node groups, an empty holds table, and a few resources mlscale does not manage. */
export function fixtureAccount(): FakeAws {
  const fake = new SdkFakeAws();
  fake.addService({ cluster: CLUSTER, service: 'engine', desired: 4, min: 2, max: 10 });
  fake.addService({ cluster: CLUSTER, service: 'cpu-modules', desired: 4, min: 4, max: 20 });
  fake.addService({ cluster: CLUSTER, service: 'gpu-modules', desired: 0, min: 0, max: 5 });
  fake.addService({ cluster: CLUSTER, service: 'reranker', desired: 2, min: 1, max: 4, suspended: { dynamicIn: true, dynamicOut: true, scheduled: true } });
  fake.addService({ cluster: CLUSTER, service: 'sidecar-free', desired: 1, min: 0, max: 0, registered: false });
  fake.addService({ cluster: 'batch', service: 'scorer', desired: 1, min: 1, max: 2 });
  fake.addNodegroup({ cluster: EKS, nodegroup: 'gpu-workers', desired: 1, min: 0, max: 4 });
  fake.addNodegroup({ cluster: EKS, nodegroup: 'gpu-batch', desired: 0, min: 0, max: 8 });
  fake.addNodegroup({ cluster: EKS, nodegroup: 'gpu-legacy', desired: 2, min: 2, max: 2 });
  fake.addAlarm('pipestream-production-engine-emergencyLatency', ['OK']);
  fake.table(TABLE);
  return fake;
}

/** The holds in the fake's table for one target, as the CLI reads them. */
export function storedHolds(fake: FakeAws, target: string): Hold[] {
  return [...fake.table(TABLE).values()].map((i) => fromItem(i)!).filter((h) => h.target === target);
}

/** Put a hold in the fake's table as another actor would have. */
export function putHold(fake: FakeAws, hold: Hold): void {
  const item: Record<string, unknown> = {
    target: { S: hold.target },
    holder: { S: hold.holder },
    reason: { S: hold.reason },
    createdAt: { N: String(hold.createdAt) },
    expiresAt: { N: String(hold.expiresAt) },
    ...(hold.startsAt !== undefined ? { startsAt: { N: String(hold.startsAt) } } : {}),
    ...(hold.floor !== undefined ? { floor: { N: String(hold.floor) } } : {}),
    ...(hold.ceiling !== undefined ? { ceiling: { N: String(hold.ceiling) } } : {}),
    ...(hold.suspendScaleIn ? { suspendScaleIn: { BOOL: true } } : {}),
    ...(hold.suspendScaleOut ? { suspendScaleOut: { BOOL: true } } : {}),
    ...(hold.suspendScheduled ? { suspendScheduled: { BOOL: true } } : {}),
  };
  fake.table(TABLE).set(`${hold.target}\u0000${hold.holder}`, item);
}

/** No call reached the fake at all (arguments are checked first). */
export function expectNoAwsCalls(fake: FakeAws): void {
  expect(fake.calls.map((c) => c.call)).toEqual([]);
}

/** No call that changes capacity, limits or holds reached the fake. */
export function expectNothingChanged(fake: FakeAws): void {
  expect(fake.changes().map((c) => c.call)).toEqual([]);
  expect(fake.calls.filter((c) => c.call === 'dynamodb:putItem' || c.call === 'dynamodb:deleteItem').map((c) => c.call)).toEqual([]);
}

/** One line, `Error: ...`, non-zero exit, nothing on stdout. */
export function expectOneLineError(result: RunResult, message: string | RegExp): void {
  expect(result.stdout).toBe('');
  expect(lines(result.stderr), result.stderr).toHaveLength(1);
  expect(result.stderr.startsWith('Error: ')).toBe(true);
  if (typeof message === 'string') expect(result.stderr.trim()).toBe(message);
  else expect(result.stderr.trim()).toMatch(message);
  expect(result.code).not.toBe(0);
}

/**
 * The usual frame of a CLI test file: a fresh fixture account per test,
 * time at NOW, retries without delays, no user or namespace from the
 * caller's shell. Returns a getter for the current fake.
 */
export function useFixtureAccount(): () => FakeAws {
  let fake = fixtureAccount();
  const saved = { ...retryPolicy };
  beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
  afterAll(() => configureRetries(saved));
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    vi.stubEnv('USER', 'alice');
    vi.stubEnv('MLSCALE_NAMESPACE', '');
    vi.stubEnv('AWS_ENDPOINT_URL', '');
    fake = fixtureAccount();
    installFakeAws(fake);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });
  return () => fake;
}
