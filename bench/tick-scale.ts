/**
 * Scale of one scale-to-zero tick: N ECS scale-to-zero targets against a
 * mocked AWS where every call takes 20 ms. Two scenarios:
 * - burst: half the targets have work at zero (scale up), half are idle at 1
 *   (scale down), so every target is updated;
 * - steady: every target already where it should be, nothing to update
 *   (the common minute).
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { TargetSpec } from '../lambdas/core/targets';
import { parseTargetsDocument } from '../lambdas/core/targets';
import { runScaleToZero } from '../lambdas/scale-to-zero/tick';

const LATENCY_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type TickScenario = 'burst' | 'steady';

export interface TickScaleResult {
  readonly targets: number;
  readonly scenario: TickScenario;
  readonly wallMs: number;
  readonly calls: { getMetricData: number; describeServices: number; describeScalableTargets: number; registerScalableTarget: number; updateService: number };
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
  const calls = { getMetricData: 0, describeServices: 0, describeScalableTargets: 0, registerScalableTarget: 0, updateService: 0 };
  const cw = mockClient(CloudWatchClient);
  const ecs = mockClient(ECSClient);
  const aas = mockClient(ApplicationAutoScalingClient);
  cw.on(GetMetricDataCommand).callsFake(async (input: { MetricDataQueries: MetricDataQuery[] }) => {
    calls.getMetricData++;
    await sleep(LATENCY_MS);
    return {
      MetricDataResults: input.MetricDataQueries.map((q) => {
        const i = Number(q.MetricStat!.Metric!.Dimensions![0]!.Value!.split('-')[1]);
        const busy = i % 2 === 0;
        const ts = Array.from({ length: 8 }, (_, k) => new Date(minute - (7 - k) * 60_000));
        return { Id: q.Id, StatusCode: 'Complete', Timestamps: ts, Values: ts.map(() => (busy ? 5 : 0)) };
      }),
    };
  });
  ecs.on(DescribeServicesCommand).callsFake(async (input: { services: string[] }) => {
    calls.describeServices++;
    await sleep(LATENCY_MS);
    return {
      services: input.services.map((s) => {
        const busy = Number(s.split('-')[1]) % 2 === 0;
        // Steady: busy targets already run, idle ones are already at zero.
        const desired = scenario === 'burst' ? (busy ? 0 : 1) : busy ? 1 : 0;
        return { serviceName: s, status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 };
      }),
    };
  });
  ecs.on(UpdateServiceCommand).callsFake(async () => {
    calls.updateService++;
    await sleep(LATENCY_MS);
    return {};
  });
  aas.on(DescribeScalableTargetsCommand).callsFake(async (input: { ResourceIds: string[] }) => {
    calls.describeScalableTargets++;
    await sleep(LATENCY_MS);
    return { ScalableTargets: input.ResourceIds.map((id) => ({ ResourceId: id, MinCapacity: 0, MaxCapacity: 5, SuspendedState: {} })) };
  });
  // A registered target's floor moves with desired: one more call per change.
  aas.on(RegisterScalableTargetCommand).callsFake(async () => {
    calls.registerScalableTarget++;
    await sleep(LATENCY_MS);
    return {};
  });
  const t0 = performance.now();
  const result = await runScaleToZero(targets, now);
  const wallMs = performance.now() - t0;
  const changed = result.decisions.filter((d) => d.to !== d.from).length;
  const expected = scenario === 'burst' ? n : 0;
  if (changed !== expected || result.decisions.some((d) => d.error)) throw new Error(`tick changed ${changed} targets, expected ${expected}`);
  cw.restore();
  ecs.restore();
  aas.restore();
  return { targets: n, scenario, wallMs, calls };
}
