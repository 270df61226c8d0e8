import { beforeEach, describe, expect, it } from 'vitest';
import type { Nodegroup } from '../fakes/aws';
import { deniedCalls } from '../iam/guard';
import { MINUTE, onAction, START } from './fixtures';
import { entries, inOrder, useHarness } from './harness';

const input = (desiredSize: unknown, fields: Record<string, unknown> = {}) => ({ nodegroup: 'gpu-g5', desiredSize, ...fields });

describe('gpu-nodegroup-scale (gpu-g5: min 0, max 8)', () => {
  const h = useHarness('eks', START);
  let group: Nodegroup;

  beforeEach(() => {
    group = h.nodegroup('gpu-g5');
  });

  const updates = () => h.fake.callsOf('eks:updateNodegroupConfig').map((c) => [c.source, c.input.scalingConfig]);

  describe('happy path', () => {
    it('holds the size (a manual:<execution> hold), waits until the group is ACTIVE with every instance in service, reports; the hold then ends by itself', async () => {
      const e = await h.run('gpu-nodegroup-scale', input(3), { name: 'more-gpus' });

      expect(e.status).toBe('SUCCEEDED');
      const route = [
        'Plan',
        'Hold the size',
        'Start polling',
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
      expect(updates()).toEqual([['sdk', { minSize: 3, maxSize: 8, desiredSize: 3 }]]);
      expect(group).toMatchObject({ desired: 3, inService: 3, status: 'ACTIVE' });
      expect(h.holds()).toEqual([expect.objectContaining({ target: 'gpu-g5', holder: 'manual:more-gpus', floor: 3, reason: 'gpu-nodegroup-scale more-gpus [run more-gpus]', expiresAt: START / 1000 + 60 * 60 })]);
      expect(h.subjects()).toEqual(['gpu-nodegroup-scale: node group at the requested size']);
      expect(h.message(0)).toMatchObject({ runbook: 'pipestream-production-gpu-nodegroup-scale', detail: { holder: 'manual:more-gpus', desired: 3, min: 3, max: 8 } });
      expect(deniedCalls()).toEqual([]);

      // After holdMinutes the floor goes; the nodes stay until the reconciler finds the group idle.
      h.advancePastHolds();
      await h.reconcile();
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(group.desired).toBe(3);
    });

    it('keeps polling while the group is ACTIVE but its instances are still joining', async () => {
      group.instancesLagPolls = 2;

      const e = await h.run('gpu-nodegroup-scale', input(3));

      expect(e.status).toBe('SUCCEEDED');
      // ACTIVE from the second poll; every instance in service from the fourth.
      expect(entries(e, 'Node group status')).toBe(4);
      expect(entries(e, 'Instances in service')).toBe(3);
      expect(group.inService).toBe(3);
    });

    it('scales a group in to zero (no instance in service is an empty list, not a missing value)', async () => {
      Object.assign(group, { desired: 2, inService: 2 });

      const e = await h.run('gpu-nodegroup-scale', input(0, { holdMinutes: 15 }));

      expect(e.status).toBe('SUCCEEDED');
      expect(e.path.at(-1)).toBe('Scaled');
      expect(updates()).toEqual([['sdk', { minSize: 0, maxSize: 8, desiredSize: 0 }]]);
      expect(group).toMatchObject({ desired: 0, inService: 0 });
    });
  });

  describe('a group that does not get there: the hold is released and the run fails', () => {
    it('never ACTIVE: gives up after 40 checks (20 minutes), releases and reports NotReady', async () => {
      group.activeAfterPolls = Infinity;

      const e = await h.run('gpu-nodegroup-scale', input(3));

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotReady', cause: 'gpu-g5 did not reach 3 instances in 40 checks' });
      expect(entries(e, 'Node group status')).toBe(40);
      expect(inOrder(e.path, ['Out of time?', 'Size not reached', 'Release the hold', 'Report failure (released)', 'Failed'])).toHaveLength(5);
      expect(e.timeline.find((t) => t.state === 'Release the hold')!.at).toBe(START + 20 * MINUTE);
      expect(e.path).not.toContain('Report done');
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(h.subjects()).toEqual(['gpu-nodegroup-scale failed; its hold is released']);
      expect(h.message(0)).toMatchObject({ detail: { Error: 'NotReady' } });
    });

    it('instances never in service: gives up after 40 checks and releases', async () => {
      group.instancesLagPolls = Infinity;

      const e = await h.run('gpu-nodegroup-scale', input(3));

      expect(e).toMatchObject({ status: 'FAILED', error: 'NotReady' });
      expect(entries(e, 'Instances in service')).toBe(39);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });

    it.each([
      ['the node group status', 'eks:describeNodegroup', 'Eks.AccessDeniedException', 'Node group status'],
      ['the Auto Scaling group read', 'autoscaling:describeAutoScalingGroups', 'AutoScaling.AccessDeniedException', 'Instances in service'],
    ])('a poll error (%s) releases, reports and fails with the error', async (_what, call, error, state) => {
      h.fake.fail({ call, error, source: 'state-machine' });

      const e = await h.run('gpu-nodegroup-scale', input(3));

      expect(e).toMatchObject({ status: 'FAILED', error, caught: [state] });
      expect(inOrder(e.path, [state, 'Release the hold', 'Report failure (released)', 'Failed'])).toHaveLength(4);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
      expect(h.subjects()).toEqual(['gpu-nodegroup-scale failed; its hold is released']);
    });

    it('a hold that EKS will not apply is released, and the failure names why', async () => {
      h.fake.fail({ call: 'eks:updateNodegroupConfig', source: 'sdk', error: 'Eks.InvalidParameterException', cause: 'scaling config refused (fake)' });

      const e = await h.run('gpu-nodegroup-scale', input(3));

      expect(e.status).toBe('FAILED');
      expect(e.message).toMatch(/^hold manual:gpu-nodegroup-scale-\d+ on gpu-g5 written but not applied \(nodegroup\/ml-prod\/gpu-g5: InvalidParameterException: scaling config refused \(fake\)\); it ends by itself at /);
      expect(inOrder(e.path, ['Hold the size', 'Release the hold', 'Report failure (released)', 'Failed'])).toHaveLength(4);
      expect(h.holds()).toEqual([]);
      expect(h.limits()).toEqual(h.configuredLimits());
    });
  });

  describe('invalid input is refused before anything is held or changed', () => {
    it.each([
      ['a size above the maximum', input(9), 'desiredSize 9 is above the max 8 of gpu-g5'],
      ['a negative size', input(-1), 'desiredSize must be a whole number >= 0, got -1'],
      ['a size that is not a number', input('three'), 'desiredSize must be a whole number >= 0, got "three"'],
      ['no node group', { desiredSize: 3 }, 'target must be a non-empty string'],
      ['a node group that is not configured', input(3, { nodegroup: 'gpu-nope' }), "unknown target 'gpu-nope' (known: engine, cpu-modules, gpu-modules, gpu-g5, gpu-g5-multi, gpu-p4d, gpu-p5)"],
      ['an ECS service', input(3, { nodegroup: 'engine' }), 'engine is not an EKS node group'],
      ['a hold of more than a day', input(3, { holdMinutes: 2000 }), 'holdMinutes must be a whole number of minutes from 0 to 1440, got 2000'],
    ])('%s', async (_what, given, message) => {
      const e = await h.run('gpu-nodegroup-scale', given);

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError', path: ['Plan', 'Report rejected input', 'Failed'] });
      expect(e.message).toBe(message);
      expect(h.fake.calls.map((c) => c.call)).toEqual(['lambda:runbook', 'sns:publish']);
      expect(h.holds()).toEqual([]);
      expect(h.subjects()).toEqual(['gpu-nodegroup-scale rejected its input']);
    });

    it('refuses holdMinutes 0 while planning, before anything is held or changed', async () => {
      const e = await h.run('gpu-nodegroup-scale', input(3, { holdMinutes: 0 }));

      expect(e).toMatchObject({ status: 'FAILED', error: 'RunbookInputError' });
      expect(e.message).toBe('holdMinutes must be at least 1 (the hold would already be over)');
      expect(e.path).not.toContain('Hold the size');
      expect(h.fake.changes()).toEqual([]);
    });
  });

  it("holds under a holder of its own: an operator's manual hold on the group is neither replaced nor released by a failed run", async () => {
    // An operator pinned the group at 2 for two hours (the CLI's `manual` hold, through the same Lambda action).
    await h.invoke('runbook', { action: 'hold', target: 'gpu-g5', holder: 'manual', floor: 2, minutes: 120, reason: 'operator: keep two for the demo' });
    group.activeAfterPolls = Infinity;

    const e = await h.run('gpu-nodegroup-scale', input(3));

    expect(e.status).toBe('FAILED');
    expect(h.holds()).toEqual([expect.objectContaining({ holder: 'manual', floor: 2 })]);
    expect(h.limits()['gpu-g5']!.min).toBe(2);
  });

  it('retries throttled EKS and Auto Scaling reads and a throttled Lambda, and succeeds', async () => {
    h.fake
      .fail({ call: 'lambda:runbook', error: 'Lambda.TooManyRequestsException', times: 1, when: onAction('hold') })
      .fail({ call: 'eks:describeNodegroup', source: 'state-machine', error: 'Eks.ThrottlingException', times: 2 })
      .fail({ call: 'autoscaling:describeAutoScalingGroups', error: 'AutoScaling.ThrottlingException', times: 2 });

    const e = await h.run('gpu-nodegroup-scale', input(3));

    expect(e.status).toBe('SUCCEEDED');
    expect(e.retried).toEqual(['Hold the size', 'Node group status', 'Node group status', 'Instances in service', 'Instances in service']);
    expect(e.caught).toEqual([]);
    expect(group.desired).toBe(3);
  });
});
