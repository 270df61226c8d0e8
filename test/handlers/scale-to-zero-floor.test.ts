import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureRetries } from '../../lambdas/aws/retry';
import { parseTargetsDocument } from '../../lambdas/core/targets';
import { runScaleToZero } from '../../lambdas/scale-to-zero/tick';

const ecs = mockClient(ECSClient);
const autoscaling = mockClient(ApplicationAutoScalingClient);
const cloudwatch = mockClient(CloudWatchClient);
const NOW = new Date('2026-06-02T05:00:30Z');
const ID = 'service/pipestream/gpu-modules';

const targets = parseTargetsDocument({
  targets: [
    {
      name: 'gpu-modules',
      kind: 'ecs-service',
      cluster: 'pipestream',
      service: 'gpu-modules',
      pool: 'scale-to-zero',
      minCapacity: 0,
      maxCapacity: 5,
      work: { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'gpu-modules' }, statistic: 'Maximum' },
    },
  ],
}).targets;

/** One service with a registered scalable target, and 8 minutes of the work metric. */
function world(desired: number, min: number, work: number) {
  ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'gpu-modules', status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 }] });
  ecs.on(UpdateServiceCommand).resolves({});
  autoscaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [{ ResourceId: ID, MinCapacity: min, MaxCapacity: 5, SuspendedState: {} } as never] });
  autoscaling.on(RegisterScalableTargetCommand).resolves({});
  const minute = Math.floor(NOW.getTime() / 60_000) * 60_000;
  const ts = Array.from({ length: 8 }, (_, k) => new Date(minute - (8 - k) * 60_000));
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete', Timestamps: ts, Values: ts.map(() => work) }] });
}

beforeAll(() => configureRetries({ baseDelayMs: 1 }));
afterEach(() => {
  ecs.reset();
  autoscaling.reset();
  cloudwatch.reset();
});

describe('Function: scale-to-zero tick on a registered ECS target (the Lambda owns the floor)', () => {
  it('raises min with desired when work appears at zero, so target tracking cannot take it back to zero', async () => {
    world(0, 0, 12);
    const { decisions } = await runScaleToZero(targets, NOW);
    expect(decisions).toEqual([expect.objectContaining({ target: 'gpu-modules', from: 0, to: 1 })]);
    expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(RegisterScalableTargetCommand, { ResourceId: ID, MinCapacity: 1, MaxCapacity: 5 });
    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 1 });
  });

  it('lowers min to the configured 0 with desired after the idle minutes', async () => {
    world(3, 1, 0);
    const { decisions } = await runScaleToZero(targets, NOW);
    expect(decisions).toEqual([expect.objectContaining({ from: 3, to: 0 })]);
    expect(autoscaling).toHaveReceivedCommandExactlyOnceWith(RegisterScalableTargetCommand, { MinCapacity: 0, MaxCapacity: 5 });
    expect(ecs).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, { desiredCount: 0 });
  });

  it('never goes below a minimum an operator raised above the scale-from-zero floor', async () => {
    world(3, 3, 0);
    const { decisions } = await runScaleToZero(targets, NOW);
    expect(decisions).toEqual([expect.objectContaining({ from: 3, to: 3 })]);
    expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });
});
