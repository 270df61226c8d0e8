import { RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { TagResourceCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { ALL, autoscaling, ecs, eks, expectNothingChanged, expectNoAwsCalls, expectOneLineError, lines, nodegroup, resetAws, run, service, target, world } from './harness';

const saved = { ...retryPolicy };
beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
afterAll(() => configureRetries(saved));

const ENGINE = { cluster: 'pipestream', service: 'engine' };
const ENGINE_ID = { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/pipestream/engine' } as const;

beforeEach(() => {
  resetAws();
  world.ecs = { pipestream: [service('engine', 4), service('sidecar-free', 1)], default: [service('api', 2)] };
  world.targets = [target('pipestream', 'engine', 2, 10), target('default', 'api', 2, 6)];
  world.eks = { 'ml-prod': [nodegroup('ml-prod', 'gpu-workers', 0, 1, 4), nodegroup('ml-prod', 'gpu-floor', 1, 1, 4)] };
});

describe('mlscale scale (ECS service)', () => {
  it('scales, raises min so target tracking does not undo it, and says both', async () => {
    const r = await run('scale', 'engine', '--replicas', '6', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 6 replicas in namespace pipestream',
      'min capacity raised from 2 to 6 so target tracking does not undo the manual scale',
    ]);
    expect(autoscaling).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 1);
    expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { ...ENGINE_ID, MinCapacity: 6 });
    const register = autoscaling.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input;
    expect(register.MaxCapacity).toBeUndefined();
    expect(register.SuspendedState).toBeUndefined();
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { ...ENGINE, desiredCount: 6 });
  });

  it('accepts service/NAME and the namespace `default`', async () => {
    const r = await run('scale', 'service/api', '--replicas', '2');
    expect(r.code).toBe(0);
    // Scaling to min: min stays, so only the scale line.
    expect(lines(r.stdout)).toEqual(['service.mlscale/api scaled from 2 to 2 replicas in namespace default']);
    expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: 'default', service: 'api', desiredCount: 2 });
  });

  it('above max: warns, scales to max (and raises min to it), leaves max alone', async () => {
    const r = await run('scale', 'engine', '--replicas', '15', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('Warning: Only scheduled 10 replicas (max capacity 10; use --raise-max to raise it)');
    expect(lines(r.stdout)[0]).toBe('service.mlscale/engine scaled from 4 to 10 replicas in namespace pipestream');
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { ...ENGINE, desiredCount: 10 });
    const register = autoscaling.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input;
    expect(register).toMatchObject({ MinCapacity: 10 });
    expect(register.MaxCapacity).toBeUndefined();
  });

  it('--raise-max raises max instead of stopping at it', async () => {
    const r = await run('scale', 'engine', '--replicas', '15', '--raise-max', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 15 replicas in namespace pipestream',
      'max capacity raised from 10 to 15 (--raise-max)',
      'min capacity raised from 2 to 15 so target tracking does not undo the manual scale',
    ]);
    expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { ...ENGINE_ID, MinCapacity: 15, MaxCapacity: 15 });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { ...ENGINE, desiredCount: 15 });
  });

  it('below min: lowers min so the autoscaler does not scale it back up', async () => {
    world.targets = [target('pipestream', 'engine', 6, 10)];
    world.ecs.pipestream = [service('engine', 6)];
    const r = await run('scale', 'engine', '--replicas', '3', '-n', 'pipestream');
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 6 to 3 replicas in namespace pipestream',
      'min capacity lowered from 6 to 3 so target tracking does not scale it back up',
    ]);
    expect(autoscaling).toHaveReceivedCommandWith(RegisterScalableTargetCommand, { MinCapacity: 3 });
  });

  it('--min sets min explicitly', async () => {
    const r = await run('scale', 'engine', '--replicas', '5', '--min', '2', '-n', 'pipestream');
    expect(lines(r.stdout)).toEqual(['service.mlscale/engine scaled from 4 to 5 replicas in namespace pipestream']);
    expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { ...ENGINE, desiredCount: 5 });
  });

  it('--replicas 0 pauses: suspends every kind of scaling, desired 0, min and max untouched', async () => {
    const r = await run('scale', 'engine', '--replicas', '0', '-n', 'pipestream');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'service.mlscale/engine scaled from 4 to 0 replicas in namespace pipestream',
      "paused: automatic scaling suspended (min 2 and max 10 kept); 'mlscale resume service/engine -n pipestream' hands it back to its autoscaler",
    ]);
    const register = autoscaling.commandCalls(RegisterScalableTargetCommand);
    expect(register).toHaveLength(1);
    expect(register[0]!.args[0].input).toEqual({ ...ENGINE_ID, SuspendedState: ALL });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { ...ENGINE, desiredCount: 0 });
    // Suspended before desired drops, so the autoscaler cannot scale it straight back.
    expect(register[0]!.calledBefore(ecs.commandCalls(UpdateServiceCommand)[0]!)).toBe(true);
  });

  it('prints one JSON object with -o json (warning stays on stderr)', async () => {
    const r = await run('scale', 'engine', '--replicas', '12', '-n', 'pipestream', '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      kind: 'service',
      name: 'engine',
      namespace: 'pipestream',
      from: 4,
      to: 10,
      requested: 12,
      minCapacity: { from: 2, to: 10 },
      maxCapacity: null,
      paused: false,
      warnings: ['Only scheduled 10 replicas (max capacity 10; use --raise-max to raise it)'],
    });
    expect(r.stderr).toContain('Warning: Only scheduled 10 replicas');
  });

  it('scales a service with no scalable target without touching Application Auto Scaling', async () => {
    const r = await run('scale', 'sidecar-free', '--replicas', '3', '-n', 'pipestream');
    expect(lines(r.stdout)).toEqual(['service.mlscale/sidecar-free scaled from 1 to 3 replicas in namespace pipestream']);
    expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: 'pipestream', service: 'sidecar-free', desiredCount: 3 });
  });

  it('notes that a paused service stays paused', async () => {
    world.targets = [target('pipestream', 'engine', 2, 10, ALL)];
    const r = await run('scale', 'engine', '--replicas', '5', '-n', 'pipestream');
    expect(lines(r.stdout)).toContain("automatic scaling stays paused; 'mlscale resume service/engine -n pipestream' hands it back to its autoscaler");
    const register = autoscaling.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input;
    expect(register.SuspendedState).toBeUndefined();
  });
});

describe('mlscale scale (EKS node group)', () => {
  it('scales a node group and raises its min size', async () => {
    const r = await run('scale', 'nodegroup/gpu-workers', '--replicas', '3', '-n', 'ml-prod');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'nodegroup.mlscale/gpu-workers scaled from 1 to 3 replicas in namespace ml-prod',
      'min capacity raised from 0 to 3 so the scale-to-zero Lambda does not undo the manual scale',
    ]);
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, {
      clusterName: 'ml-prod',
      nodegroupName: 'gpu-workers',
      scalingConfig: { minSize: 3, desiredSize: 3 },
    });
  });

  it('takes TYPE NAME as two words and caps at max size with the warning', async () => {
    const r = await run('scale', 'nodegroup', 'gpu-workers', '--replicas', '9', '-n', 'ml-prod');
    expect(r.stderr.trim()).toBe('Warning: Only scheduled 4 replicas (max capacity 4; use --raise-max to raise it)');
    expect(lines(r.stdout)[0]).toBe('nodegroup.mlscale/gpu-workers scaled from 1 to 4 replicas in namespace ml-prod');
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, { scalingConfig: { minSize: 4, desiredSize: 4 } });
  });

  it('--replicas 0 tags the group paused (remembering its min) before scaling it to zero', async () => {
    const r = await run('scale', 'nodegroup/gpu-floor', '--replicas', '0', '-n', 'ml-prod');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('nodegroup.mlscale/gpu-floor scaled from 1 to 0 replicas in namespace ml-prod');
    expect(eks).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: 'arn:aws:eks:eu-west-1:123456789012:nodegroup/ml-prod/gpu-floor/0c1',
      tags: { 'mlscale:paused': 'true', 'mlscale:paused-min-size': '1' },
    });
    expect(eks).toHaveReceivedCommandWith(UpdateNodegroupConfigCommand, { scalingConfig: { minSize: 0, desiredSize: 0 } });
    // Tagged first: the scale-to-zero Lambda must not wake it in between.
    expect(eks.commandCalls(TagResourceCommand)[0]!.calledBefore(eks.commandCalls(UpdateNodegroupConfigCommand)[0]!)).toBe(true);
  });
});

describe('mlscale scale: errors change nothing', () => {
  it('rejects --replicas -1 before any AWS call', async () => {
    expectOneLineError(await run('scale', 'engine', '--replicas', '-1', '-n', 'pipestream'), "Error: --replicas must be a whole number >= 0, got '-1'");
    expectNoAwsCalls();
  });

  it.each([['2.5'], ['abc'], ['1e3'], ['']])('rejects --replicas %j before any AWS call', async (value) => {
    const r = await run('scale', 'engine', '--replicas', value, '-n', 'pipestream');
    expectOneLineError(r, /^Error: --replicas must be a whole number >= 0/);
    expectNoAwsCalls();
  });

  it('rejects an unknown resource kind before any AWS call', async () => {
    expectOneLineError(
      await run('scale', 'pods/engine', '--replicas', '2'),
      "Error: Unknown resource kind 'pods' in 'pods/engine' (use service/NAME or nodegroup/NAME)",
    );
    expectNoAwsCalls();
  });

  it('rejects a missing --replicas, an unknown option and a bad -o in one line', async () => {
    expectOneLineError(await run('scale', 'engine'), "Error: required option '--replicas <count>' not specified");
    expectOneLineError(await run('scale', 'engine', '--replicas', '2', '--frobnicate'), /^Error: unknown option '--frobnicate'/);
    expectOneLineError(await run('scale', 'engine', '--replicas', '2', '-o', 'yaml'), /^Error: option '-o, --output <format>' argument 'yaml' is invalid/);
    expectNoAwsCalls();
  });

  it("reports a missing service with the not-found line and changes nothing", async () => {
    const r = await run('scale', 'x', '--replicas', '2', '-n', 'y');
    expectOneLineError(r, "Error: Service 'x' not found in namespace 'y' (see: mlscale get services -A)");
    expectNothingChanged();
  });

  it('reports a missing service in an existing namespace the same way', async () => {
    const r = await run('scale', 'ghost', '--replicas', '2', '-n', 'pipestream');
    expectOneLineError(r, "Error: Service 'ghost' not found in namespace 'pipestream' (see: mlscale get services -A)");
    expectNothingChanged();
  });

  it('reports a missing node group and changes nothing', async () => {
    const r = await run('scale', 'nodegroup/ghost', '--replicas', '2', '-n', 'ml-prod');
    expectOneLineError(r, "Error: Node group 'ghost' not found in namespace 'ml-prod' (see: mlscale get nodegroups -A)");
    expectNothingChanged();
  });

  it('rejects --min above max after reading, changing nothing', async () => {
    const r = await run('scale', 'engine', '--replicas', '4', '--min', '11', '-n', 'pipestream');
    expectOneLineError(r, 'Error: --min 11 is above the max capacity 10');
    expectNothingChanged();
  });
});
