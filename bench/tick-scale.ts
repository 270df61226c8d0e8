/**
 * Scale of one reconciler pass over N targets (ECS scale-to-zero services,
 * with a holds table) against a fake AWS account where every call takes
 * 20 ms (test/fakes: the same fake the tests use, behind aws-sdk-client-mock).
 * - steady: every target already in line (half of them busy with a live wake
 *   hold, half idle at zero): the common minute;
 * - burst: every target changes: half wake from zero (a wake hold is written,
 *   min and desired raised), half have gone idle and go to zero.
 */
import { DynamoHoldStore } from '../lambdas/aws/holds-store';
import type { TargetSpec } from '../lambdas/core/config/document';
import { parseTargetsDocument } from '../lambdas/core/config/document';
import { reconcileTargets } from '../lambdas/reconcile/run';
import { FakeAws } from '../test/fakes/aws';
import { installFakeAws, resetFakeAws } from '../test/fakes/install';

const LATENCY_MS = 20;
const TABLE = 'bench-holds';

export type TickScenario = 'burst' | 'steady';

export interface TickScaleResult {
  readonly targets: number;
  readonly scenario: TickScenario;
  readonly wallMs: number;
  /** Calls by operation (`ecs:describeServices` …). */
  readonly calls: Readonly<Record<string, number>>;
}

function targetsFor(n: number): TargetSpec[] {
  return parseTargetsDocument({
    targets: Array.from({ length: n }, (_, i) => ({
      name: `module-${i}`,
      kind: 'ecs-service',
      cluster: `cluster-${Math.floor(i / 250)}`,
      service: `module-${i}`,
      pool: 'scale-to-zero',
      minCapacity: 0,
      maxCapacity: 5,
      work: { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: `module-${i}` }, statistic: 'Maximum' },
    })),
  }).targets;
}

export async function measureTick(n: number, scenario: TickScenario): Promise<TickScaleResult> {
  const targets = targetsFor(n);
  const now = new Date('2026-11-23T12:00:30Z');
  const minute = Math.floor(now.getTime() / 60_000) * 60_000;
  const fake = new FakeAws();
  const store = new DynamoHoldStore(TABLE);
  targets.forEach((t, i) => {
    const busy = i % 2 === 0;
    // Steady: busy targets already run under a fresh wake hold, idle ones are already at zero.
    const desired = scenario === 'burst' ? (busy ? 0 : 1) : busy ? 1 : 0;
    fake.addService({ cluster: t.cluster, service: t.name, desired, min: desired, max: 5 });
    fake.setSeries(t.work!, Array.from({ length: 8 }, () => (busy ? 5 : 0)), minute - 60_000);
  });
  installFakeAws(fake);
  if (scenario === 'steady') {
    const s = Math.floor(now.getTime() / 1000);
    for (const [i, t] of targets.entries()) {
      if (i % 2 === 0) await store.put({ target: t.name, holder: 'wake', floor: 1, reason: 'work pending', createdAt: s, expiresAt: s + 360 });
    }
  }
  fake.calls.length = 0;
  fake.latencyMs = LATENCY_MS;
  const t0 = performance.now();
  const result = await reconcileTargets(targets, store, now);
  const wallMs = performance.now() - t0;
  resetFakeAws();
  const changed = result.targets.filter((t) => t.changed.desired).length;
  const expected = scenario === 'burst' ? n : 0;
  if (changed !== expected || result.targets.some((t) => t.error)) {
    throw new Error(`pass changed ${changed} targets, expected ${expected}: ${result.targets.find((t) => t.error)?.error ?? ''}`);
  }
  const calls: Record<string, number> = {};
  for (const c of fake.calls) calls[c.call] = (calls[c.call] ?? 0) + 1;
  return { targets: n, scenario, wallMs, calls };
}
