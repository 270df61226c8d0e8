import { RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { TagResourceCommand, UntagResourceCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { ALL, autoscaling, ecs, eks, expectNothingChanged, expectOneLineError, lines, nodegroup, NONE, resetAws, run, service, target, world } from './harness';

const saved = { ...retryPolicy };
beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
afterAll(() => configureRetries(saved));

const ENGINE_ID = { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/pipestream/engine' } as const;
const GPU_ARN = 'arn:aws:eks:eu-west-1:123456789012:nodegroup/ml-prod/gpu-workers/0c1';

beforeEach(() => {
  resetAws();
  world.ecs = { pipestream: [service('engine', 3), service('plain', 1)] };
  world.targets = [target('pipestream', 'engine', 2, 10)];
  world.eks = { 'ml-prod': [nodegroup('ml-prod', 'gpu-workers', 0, 2, 4)] };
});

describe('mlscale pause', () => {
  it('suspends dynamic scale-in/out and scheduled scaling, and nothing else', async () => {
    const r = await run('pause', 'engine', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine paused in namespace pipestream');
    const calls = autoscaling.commandCalls(RegisterScalableTargetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ ...ENGINE_ID, SuspendedState: ALL });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('then shows as Paused in get', async () => {
    world.targets = [target('pipestream', 'engine', 2, 10, ALL)];
    const r = await run('get', 'services', 'engine', '-n', 'pipestream');
    expect(lines(r.stdout)[1]).toMatch(/\sPaused$/);
  });

  it('says so when already paused and changes nothing', async () => {
    world.targets = [target('pipestream', 'engine', 2, 10, ALL)];
    const r = await run('pause', 'service/engine', '-n', 'pipestream', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ kind: 'service', name: 'engine', namespace: 'pipestream', paused: true, changed: false, replicas: 3 });
    expectNothingChanged();
  });

  it('tags a node group mlscale:paused=true', async () => {
    const r = await run('pause', 'nodegroup/gpu-workers', '-n', 'ml-prod');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('nodegroup.mlscale/gpu-workers paused in namespace ml-prod');
    expect(eks).toHaveReceivedCommandWith(TagResourceCommand, { resourceArn: GPU_ARN, tags: { 'mlscale:paused': 'true' } });
    expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
  });

  it('fails for a service nothing autoscales, changing nothing', async () => {
    const r = await run('pause', 'plain', '-n', 'pipestream');
    expectOneLineError(r, /^Error: service\.mlscale\/plain in namespace 'pipestream' has no scalable target .*nothing to pause$/);
    expectNothingChanged();
  });

  it('fails with the not-found line', async () => {
    expectOneLineError(await run('pause', 'x', '-n', 'y'), "Error: Service 'x' not found in namespace 'y' (see: mlscale get services -A)");
    expectNothingChanged();
  });
});

describe('mlscale resume', () => {
  it('clears every suspension', async () => {
    world.targets = [target('pipestream', 'engine', 2, 10, ALL)];
    const r = await run('resume', 'engine', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['service.mlscale/engine resumed in namespace pipestream']);
    expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { ...ENGINE_ID, SuspendedState: NONE });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('after --replicas 0, brings the service back to its min capacity', async () => {
    world.ecs.pipestream = [service('engine', 0, 0)];
    world.targets = [target('pipestream', 'engine', 2, 10, ALL)];
    const r = await run('resume', 'engine', '-n', 'pipestream', '-o', 'json');
    expect(JSON.parse(r.stdout)).toEqual({ kind: 'service', name: 'engine', namespace: 'pipestream', paused: false, changed: true, replicas: 2, minCapacity: 2 });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'engine', desiredCount: 2 });
  });

  it('says a service that is not paused is not paused, and changes nothing', async () => {
    const r = await run('resume', 'engine', '-n', 'pipestream');
    expect(lines(r.stdout)).toEqual(['service.mlscale/engine is not paused in namespace pipestream']);
    expectNothingChanged();
  });

  it('removes the node group pause tag and restores the min size it had', async () => {
    world.eks['ml-prod'] = [nodegroup('ml-prod', 'gpu-workers', 0, 0, 4, { tags: { 'mlscale:paused': 'true', 'mlscale:paused-min-size': '1' } })];
    const r = await run('resume', 'nodegroup/gpu-workers', '-n', 'ml-prod');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'nodegroup.mlscale/gpu-workers resumed in namespace ml-prod',
      'min capacity restored from 0 to 1; desired raised from 0 to 1',
    ]);
    expect(eks).toHaveReceivedCommandWith(UntagResourceCommand, { resourceArn: GPU_ARN, tagKeys: ['mlscale:paused', 'mlscale:paused-min-size'] });
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, { scalingConfig: { minSize: 1, desiredSize: 1 } });
  });
});
