import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { ROOT } from '../util';
import { deploy, entries, execute, inOrder, limits, runbookOf, seed, type Deployment } from './harness';
import { World, type Nodegroup } from './model';

const subjects = (world: World) => world.notifications.map((n) => n.subject);

describe('gpu-nodegroup-scale runbook (gpu-g5: min 0, max 8)', () => {
  const d: Deployment = deploy(JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput);
  const rb = runbookOf(d, 'gpu-nodegroup-scale');
  let world: World;
  let group: Nodegroup;
  let before: Record<string, unknown>;
  const input = (desiredSize: unknown, nodegroup = 'gpu-g5') => ({ cluster: 'ml-prod', nodegroup, desiredSize });

  beforeEach(() => {
    world = seed(new World(), d);
    group = world.nodegroup('ml-prod', 'gpu-g5');
    before = limits(world);
  });

  describe('happy path', () => {
    it('sets the desired size, waits until the group is ACTIVE at that size with every instance in service, reports', async () => {
      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Polling settings',
        'Read node group',
        'Valid size?',
        'Set desired size',
        'Wait',
        'Node group status',
        'Group active at that size?',
        'Instances in service',
        'Count instances',
        'Instances in service?',
        'Report done',
        'Scaled',
      ];
      expect(inOrder(e.path, route)).toEqual(route);
      // UPDATING on the first poll, ACTIVE on the second.
      expect(entries(e, 'Node group status')).toBe(2);
      expect(world.changes().map((c) => c.input.ScalingConfig)).toEqual([{ DesiredSize: 3 }]);
      expect({ desired: group.desired, inService: group.inService, status: group.status }).toEqual({ desired: 3, inService: 3, status: 'ACTIVE' });
      expect(limits(world)).toEqual(before);
      expect(subjects(world)).toEqual(['gpu-nodegroup-scale: node group at the requested size']);
      expect(world.notifications[0]!.message).toMatchObject({ runbook: rb.name, detail: { inService: 3 } });
    });

    it('keeps polling while the group is ACTIVE but its instances are still joining', async () => {
      group.instancesLagPolls = 2;

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('SUCCEEDED');
      // ACTIVE from the second poll; instances in service from the fourth.
      expect(entries(e, 'Node group status')).toBe(4);
      expect(entries(e, 'Instances in service')).toBe(3);
      expect(group.inService).toBe(3);
    });

    it('scales a group in to zero', async () => {
      Object.assign(group, { desired: 2, inService: 2 });

      const e = await execute(d, rb, world, input(0));

      expect(e.status).toBe('SUCCEEDED');
      expect(e.path.at(-1)).toBe('Scaled');
      expect({ desired: group.desired, inService: group.inService }).toEqual({ desired: 0, inService: 0 });
      expect(world.notifications[0]!.message).toMatchObject({ detail: { inService: 0 } });
    });
  });

  describe('a failure after the update restores the previous size, reports and fails', () => {
    it.each([
      ['the node group status', 'eks:describeNodegroup', 'Eks.AccessDeniedException', 'Node group status'],
      ['the Auto Scaling group read', 'autoscaling:describeAutoScalingGroups', 'AutoScaling.AccessDeniedException', 'Instances in service'],
    ])('%s failing', async (_what, call, error, state) => {
      // The first DescribeNodegroup reads the size before the change.
      world.fail({ call, error, after: call === 'eks:describeNodegroup' ? 1 : 0 });

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe(error);
      expect(e.caught).toEqual([state]);
      expect(inOrder(e.path, [state, 'Restore previous size', 'Report failure (restored)', 'Failed'])).toHaveLength(4);
      expect(world.changes().map((c) => c.input.ScalingConfig)).toEqual([{ DesiredSize: 3 }, { DesiredSize: 0 }]);
      expect(group.desired).toBe(0);
      expect(limits(world)).toEqual(before);
      expect(subjects(world)).toEqual(['gpu-nodegroup-scale failed after the update (see error); previous size restored']);
    });
  });

  describe('a group that never gets there', () => {
    it('never ACTIVE: gives up after 40 checks, restores the previous size and reports NotReady', async () => {
      group.activeAfterPolls = Infinity;

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('NotReady');
      expect(e.cause).toBe('gpu-g5 did not reach 3 instances in 40 checks');
      expect(entries(e, 'Node group status')).toBe(40);
      expect(inOrder(e.path, ['Out of time?', 'Size not reached', 'Restore previous size', 'Report failure (restored)', 'Failed'])).toHaveLength(5);
      expect(e.path).not.toContain('Report done');
      expect(group.desired).toBe(0);
      expect(world.notifications[0]!.message).toMatchObject({ detail: { Error: 'NotReady' } });
    });

    it('instances never in service: gives up after 40 checks and restores the previous size', async () => {
      group.instancesLagPolls = Infinity;

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('NotReady');
      expect(entries(e, 'Instances in service')).toBe(39);
      expect(group.desired).toBe(0);
    });

    it('the restore failing too: reports CRITICAL and fails', async () => {
      group.activeAfterPolls = Infinity;
      world.fail({ call: 'eks:updateNodegroupConfig', error: 'Eks.AccessDeniedException', after: 1 });

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('FAILED');
      expect(inOrder(e.path, ['Restore previous size', 'Report restore failure', 'Failed'])).toHaveLength(3);
      expect(subjects(world)).toEqual(['CRITICAL: gpu-nodegroup-scale could not restore the previous size']);
    });
  });

  describe('invalid input is refused before the update', () => {
    it.each([
      ['a size above the maximum', input(9), 'OutOfRange', 'Out of range', 'desiredSize 9 is outside min..max 0..8 of gpu-g5'],
      ['a negative size', input(-1), 'OutOfRange', 'Out of range', 'desiredSize -1 is outside min..max 0..8 of gpu-g5'],
      ['a size that is not a number', input('three'), 'InvalidInput', 'Not a number', 'desiredSize must be a number'],
    ])('%s', async (_what, given, error, state, cause) => {
      const e = await execute(d, rb, world, given);

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe(error);
      expect(e.cause).toBe(cause);
      expect(e.path).toEqual(['Input complete?', 'Polling settings', 'Read node group', 'Valid size?', state, 'Report failure', 'Failed']);
      expect(world.changes()).toEqual([]);
      expect(subjects(world)).toEqual(['gpu-nodegroup-scale failed']);
    });

    it('an input without a node group: reported, nothing read or changed', async () => {
      const e = await execute(d, rb, world, { cluster: 'ml-prod', desiredSize: 3 });

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('InvalidInput');
      expect(e.path).toEqual(['Input complete?', 'Incomplete input', 'Report failure', 'Failed']);
      expect(world.changes()).toEqual([]);
      expect(subjects(world)).toEqual(['gpu-nodegroup-scale failed']);
    });

    it('a group that is not ACTIVE', async () => {
      group.status = 'DEGRADED';

      const e = await execute(d, rb, world, input(3));

      expect(e.error).toBe('NotActive');
      expect(e.cause).toBe('node group gpu-g5 is DEGRADED, not ACTIVE');
      expect(world.changes()).toEqual([]);
    });

    it('a node group that does not exist', async () => {
      const e = await execute(d, rb, world, input(3, 'gpu-nope'));

      expect(e.status).toBe('FAILED');
      expect(e.error).toBe('Eks.ResourceNotFoundException');
      expect(e.path).toEqual(['Input complete?', 'Polling settings', 'Read node group', 'Report failure', 'Failed']);
      expect(world.changes()).toEqual([]);
    });
  });

  describe('throttling', () => {
    it('retries throttled EKS and Auto Scaling calls and succeeds', async () => {
      world
        .fail({ call: 'eks:updateNodegroupConfig', error: 'Eks.ThrottlingException', times: 2 })
        .fail({ call: 'eks:describeNodegroup', error: 'Eks.ThrottlingException', after: 1, times: 2 })
        .fail({ call: 'autoscaling:describeAutoScalingGroups', error: 'AutoScaling.ThrottlingException', times: 2 });

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Set desired size', 'Set desired size', 'Node group status', 'Node group status', 'Instances in service', 'Instances in service']);
      expect(e.caught).toEqual([]);
      expect(group.desired).toBe(3);
    });

    it('retries an update refused while another is in progress (ResourceInUseException)', async () => {
      world.fail({ call: 'eks:updateNodegroupConfig', error: 'Eks.ResourceInUseException', times: 1 });

      const e = await execute(d, rb, world, input(3));

      expect(e.status).toBe('SUCCEEDED');
      expect(e.retried).toEqual(['Set desired size']);
    });
  });
});
