/** The test harness itself: what the runbook tests rely on, checked so a broken harness cannot pass them vacuously. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { ROOT } from '../util';
import { taskStates } from './definition';
import { callFor, deploy, indefinite, runbookOf, selectResult } from './harness';
import { World } from './model';

const eks = deploy(JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput);
const RUNBOOKS = ['scale-for-event', 'emergency-scale-up', 'gpu-nodegroup-scale'] as const;

describe('definitions taken from the template', () => {
  it.each(RUNBOOKS)('%s: every intrinsic is replaced, and every Task is served by the model', (name) => {
    const rb = runbookOf(eks, name);
    const text = JSON.stringify(rb.definition);
    expect(text).not.toMatch(/"Ref"|Fn::/);
    expect(rb.definition.States[rb.definition.StartAt]).toBeDefined();
    const calls = taskStates(rb).map(([, s]) => callFor(eks, s.Resource!));
    expect(calls.length).toBeGreaterThan(3);
    expect(calls).toContain('sns:publish');
  });

  it('Lambda Tasks resolve to the planner and the emergency function', () => {
    const resources = taskStates(runbookOf(eks, 'emergency-scale-up')).map(([name, s]) => [name, callFor(eks, s.Resource!)]);
    expect(resources).toEqual(expect.arrayContaining([['Plan', 'lambda:planner'], ['Double capacity', 'lambda:emergency'], ['Resume autoscaler', 'lambda:emergency']]));
  });

  it('an unknown Task resource is an error, not a silent pass', () => {
    expect(() => callFor(eks, 'arn:aws:states:::dynamodb:putItem')).toThrow('no model for Task resource');
  });
});

describe('ResultSelector as Step Functions applies it', () => {
  it('an indefinite path gives an array, empty when nothing matches; a definite one gives the value', () => {
    const selector = { 'inService.$': "$.AutoScalingGroups[0].Instances[?(@.LifecycleState == 'InService')].InstanceId", 'name.$': '$.AutoScalingGroups[0].AutoScalingGroupName' };
    const group = (states: string[]) => ({ AutoScalingGroups: [{ AutoScalingGroupName: 'asg', Instances: states.map((s, i) => ({ InstanceId: `i-${i}`, LifecycleState: s })) }] });
    expect(selectResult(selector, group([]))).toEqual({ inService: [], name: 'asg' });
    expect(selectResult(selector, group(['InService']))).toEqual({ inService: ['i-0'], name: 'asg' });
    expect(selectResult(selector, group(['InService', 'Pending', 'InService']))).toEqual({ inService: ['i-0', 'i-2'], name: 'asg' });
  });

  it('a definite path that is missing fails as States.Runtime', () => {
    expect(() => selectResult({ 'x.$': '$.missing' }, {})).toThrow(expect.objectContaining({ name: 'States.Runtime' }));
  });

  it.each([
    ['$.MetricAlarms[*].StateValue', true],
    ["$.a[?(@.b == 'c')].d", true],
    ['$..x', true],
    ['$.a[0:2]', true],
    ['$.Nodegroup.Resources.AutoScalingGroups[0].Name', false],
    ['$.Services[0].RunningCount', false],
  ])('%s is indefinite: %s', (p, expected) => {
    expect(indefinite(p)).toBe(expected);
  });
});

describe('the model', () => {
  it('RegisterScalableTarget moves the current capacity into the new range, as Application Auto Scaling does', async () => {
    const world = new World();
    const s = world.addService({ cluster: 'c', service: 's', desired: 3, min: 2, max: 10 });
    await world.invoke('applicationautoscaling:registerScalableTarget', { ResourceId: 'service/c/s', MinCapacity: 8, MaxCapacity: 10 }, 'state-machine');
    expect(s.desired).toBe(8);
    await world.invoke('applicationautoscaling:registerScalableTarget', { ResourceId: 'service/c/s', MinCapacity: 2, MaxCapacity: 4 }, 'state-machine');
    expect(s.desired).toBe(4);
  });

  it('running converges to desired after the configured number of polls from the state machine only', async () => {
    const world = new World();
    const s = world.addService({ cluster: 'c', service: 's', desired: 3, min: 2, max: 10, convergeAfterPolls: 2 });
    await world.invoke('ecs:updateService', { Cluster: 'c', Service: 's', DesiredCount: 6 }, 'state-machine');
    await world.invoke('ecs:describeServices', { Cluster: 'c', Services: ['s'] }, 'lambda');
    await world.invoke('ecs:describeServices', { Cluster: 'c', Services: ['s'] }, 'state-machine');
    expect(s.running).toBe(3);
    const second = await world.invoke('ecs:describeServices', { Cluster: 'c', Services: ['s'] }, 'state-machine');
    expect(second.Services[0]).toMatchObject({ DesiredCount: 6, RunningCount: 6 });
  });

  it('a fault skips `after` matching calls, fails `times` of them, and names the error per side', async () => {
    const world = new World().fail({ call: 'sns:publish', error: 'Sns.ThrottlingException', after: 1, times: 2 });
    const publish = (source: 'state-machine' | 'lambda') => world.invoke('sns:publish', { Subject: 's', Message: {} }, source).then(() => 'ok', (e: Error) => e.name);
    expect([await publish('state-machine'), await publish('state-machine'), await publish('lambda'), await publish('state-machine')]).toEqual([
      'ok',
      'Sns.ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    expect(world.notifications).toHaveLength(2);
  });

  it('UpdateNodegroupConfig is refused outside min..max, as EKS does', async () => {
    const world = new World();
    world.addNodegroup({ cluster: 'c', nodegroup: 'g', desired: 0, min: 0, max: 8 });
    await expect(world.invoke('eks:updateNodegroupConfig', { ClusterName: 'c', NodegroupName: 'g', ScalingConfig: { DesiredSize: 9 } }, 'state-machine')).rejects.toMatchObject({
      name: 'Eks.InvalidParameterException',
    });
  });
});
