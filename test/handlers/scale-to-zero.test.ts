import { describe, expect, it, vi } from 'vitest';
import { parseTargetsDocument } from '../../lambdas/core/config/document';
import { handler } from '../../lambdas/scale-to-zero';
import { metricKey } from '../fakes/aws';
import { DESIGN_EMBEDDER, workMetric } from '../fixtures/design-example';
import {
  deployedAccount,
  epoch,
  expectOneLineError,
  handlerSuite,
  holdFor,
  MINUTE,
  minuteOf,
  openAccount,
  pauseHold,
  setNow,
  withTarget,
  writes,
  zeros,
  type Account,
  type DeployedOptions,
} from './fixtures';

handlerSuite();

/** Tuesday 12:00:30 UTC: minute 12:00 is a multiple of 15 (a probe minute for `everyMinutes: 15`). */
const NOW = Date.parse('2026-03-10T12:00:30Z');
const LAST_MINUTE = minuteOf(NOW) - MINUTE;
const IN_FLIGHT = { namespace: 'Pipestream/Embedder', metricName: 'InFlight', dimensions: { Service: 'embedder' }, statistic: 'Maximum' };

/** The DESIGN.md targets (engine at 4, embedder and gpu-workers at 0), as the design config deploys them. */
function design(options: DeployedOptions = {}): Account {
  setNow(NOW);
  return deployedAccount('design', { ...options, desired: { engine: 4, ...options.desired } });
}

/** The handler as the reconciler's role: the deployed function that runs the scale-to-zero pass. */
const run = (account: Account) => account.as('ReconcilerFunction', () => handler({}));
const decisionOf = (result: Awaited<ReturnType<typeof handler>>, target: string) => result.decisions.find((d) => d.target === target);
const updatesOf = (account: Account) => account.fake.callsOf('ecs:updateService').map((c) => c.input);
const nodegroupUpdatesOf = (account: Account) => account.fake.callsOf('eks:updateNodegroupConfig').map((c) => c.input.scalingConfig);

describe('Function: scale-to-zero handler', () => {
  it('wakes an ECS service and an EKS node group from 0 to scaleFromZeroTo with a wake hold when work appears', async () => {
    const account = design({ edit: (doc) => withTarget(doc, 'embedder', { scaleFromZeroTo: 2 }) });
    account.work('embedder', [0, 0, 5], LAST_MINUTE);
    account.work('gpu-workers', [3], LAST_MINUTE);

    const result = await run(account);

    // The hold that keeps them up: floor scaleFromZeroTo, ending idleMinutes + 1 from now unless renewed.
    expect(account.holds()).toEqual([
      expect.objectContaining({ target: 'embedder', holder: 'wake', floor: 2, createdAt: epoch(NOW), expiresAt: epoch(NOW) + 6 * 60 }),
      expect.objectContaining({ target: 'gpu-workers', holder: 'wake', floor: 1, createdAt: epoch(NOW), expiresAt: epoch(NOW) + 6 * 60 }),
    ]);
    expect(account.service('embedder')).toMatchObject({ min: 2, desired: 2 });
    expect(updatesOf(account)).toEqual([{ cluster: 'pipestream', service: 'embedder', desiredCount: 2 }]);
    expect(account.nodegroup('gpu-workers')).toMatchObject({ min: 1, max: 4, desired: 1 });
    expect(nodegroupUpdatesOf(account)).toEqual([{ minSize: 1, maxSize: 4, desiredSize: 1 }]);
    expect(result.decisions).toEqual([
      { target: 'embedder', from: 0, to: 2, reason: expect.any(String) },
      { target: 'gpu-workers', from: 0, to: 1, reason: expect.any(String) },
    ]);
  });

  it('never reads or touches a target outside the scale-to-zero pool', async () => {
    const account = design();
    account.work('embedder', [5], LAST_MINUTE);
    account.putHold(holdFor('engine', 'manual', { floor: 8 }, NOW));

    const result = await run(account);

    expect(decisionOf(result, 'engine')).toBeUndefined();
    expect(account.fake.callsOf('ecs:describeServices').flatMap((c) => c.input.services as string[])).toEqual(['embedder']);
    expect(updatesOf(account).map((u) => u.service)).toEqual(['embedder']);
    expect(account.service('engine')).toMatchObject({ min: 2, desired: 4 });
  });

  it('scales both targets to 0 after idleMinutes of zero datapoints ending now', async () => {
    const account = design({ desired: { embedder: 2, 'gpu-workers': 3 } });
    account.work('embedder', zeros(8), LAST_MINUTE);
    account.work('gpu-workers', zeros(8), LAST_MINUTE);
    account.gpu('gpu-workers', zeros(8), LAST_MINUTE);

    const result = await run(account);

    expect(updatesOf(account)).toEqual([{ cluster: 'pipestream', service: 'embedder', desiredCount: 0 }]);
    expect(nodegroupUpdatesOf(account)).toEqual([{ minSize: 0, maxSize: 4, desiredSize: 0 }]);
    expect(account.holds()).toEqual([]);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 0, reason: expect.stringMatching(/idle: no work for 5 minutes/) });
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 3, to: 0, reason: expect.stringMatching(/idle: no work for 5 minutes/) });
  });

  it('keeps capacity when work was seen within the idle window', async () => {
    const account = design({ desired: { embedder: 2 } });
    account.work('embedder', [0, 0, 0, 0, 2, 0, 0, 0], LAST_MINUTE); // 2 pending four minutes ago
    account.work('gpu-workers', zeros(8), LAST_MINUTE);

    const result = await run(account);

    expect(updatesOf(account)).toEqual([]);
    expect(account.service('embedder').desired).toBe(2);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 2, reason: expect.stringMatching(/work 2 at 11:56Z, within the last 5 minutes/) });
  });

  it('does not scale down when datapoints are missing', async () => {
    const account = design({ desired: { embedder: 2, 'gpu-workers': 1 } });
    account.work('gpu-workers', [0, 0, 0], LAST_MINUTE); // three minutes of zeros is not five

    const result = await run(account);

    expect(updatesOf(account)).toEqual([]);
    expect(nodegroupUpdatesOf(account).map((c) => c.desiredSize)).not.toContain(0);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 2, reason: expect.stringMatching(/work metric has no datapoints/) });
    expect(decisionOf(result, 'gpu-workers')).toMatchObject({ from: 1, to: 1, reason: expect.stringMatching(/no datapoint at 11:55Z: unknown, not idle/) });
  });

  it('holds a target whose GetMetricData query returns InternalError while the others act', async () => {
    const account = design({ desired: { embedder: 2 } });
    account.work('embedder', zeros(8), LAST_MINUTE); // partial data of zeros: must not read as idle
    account.fake.metricStatus.set(metricKey(account.spec('embedder').work!), 'InternalError');
    account.work('gpu-workers', [4], LAST_MINUTE);

    const result = await run(account);

    expect(updatesOf(account)).toEqual([]);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 2, to: 2, reason: expect.stringMatching(/work metric unreadable \(InternalError/) });
    expect(nodegroupUpdatesOf(account)).toEqual([{ minSize: 1, maxSize: 4, desiredSize: 1 }]);
    expect(decisionOf(result, 'gpu-workers')).toMatchObject({ from: 0, to: 1 });
  });

  it('reports a target whose DescribeServices batch fails after retries and still wakes the others', async () => {
    const account = design();
    account.fake.fail({ call: 'ecs:describeServices', error: 'Ecs.ServiceUnavailableException', cause: 'Service unavailable' });
    account.work('embedder', [5], LAST_MINUTE);
    account.work('gpu-workers', [5], LAST_MINUTE);

    const result = await run(account);

    expect(account.fake.callsOf('ecs:describeServices')).toHaveLength(4);
    expect(decisionOf(result, 'embedder')).toMatchObject({ from: 0, to: 0, error: expect.stringMatching(/^service\/pipestream\/embedder could not be read: ServiceUnavailableException: Service unavailable/) });
    expect(updatesOf(account)).toEqual([]);
    expect(nodegroupUpdatesOf(account)).toEqual([{ minSize: 1, maxSize: 4, desiredSize: 1 }]);
    expect(decisionOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', from: 0, to: 1, reason: expect.any(String) });
  });

  it('retries throttled GetMetricData, DescribeServices and UpdateService and applies the change once', async () => {
    const account = design();
    for (const call of ['cloudwatch:getMetricData', 'ecs:describeServices', 'ecs:updateService']) {
      account.fake.fail({ call, error: `${call.split(':')[0]}.ThrottlingException`, cause: 'Rate exceeded', times: 1 });
    }
    account.work('embedder', [5], LAST_MINUTE);
    account.work('gpu-workers', zeros(8), LAST_MINUTE);

    const result = await run(account);

    expect(account.fake.callsOf('cloudwatch:getMetricData')).toHaveLength(2);
    expect(account.fake.callsOf('ecs:describeServices')).toHaveLength(2);
    expect(account.fake.callsOf('ecs:updateService')).toHaveLength(2);
    expect(account.service('embedder').desired).toBe(1);
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 1, reason: expect.any(String) });
  });

  it('keeps an ECS service with a pause hold at 0 even with work pending', async () => {
    const account = design();
    account.putHold(pauseHold('embedder', NOW));
    account.work('embedder', [9], LAST_MINUTE);
    account.work('gpu-workers', zeros(8), LAST_MINUTE);

    const result = await run(account);

    expect(updatesOf(account)).toEqual([]);
    expect(account.service('embedder')).toMatchObject({ desired: 0, min: 0, suspended: { dynamicIn: true, dynamicOut: true, scheduled: true } });
    expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 0, reason: expect.stringMatching(/paused/) });
  });

  it('keeps an EKS node group with a pause hold at 0 even with work pending', async () => {
    const account = design();
    account.putHold(pauseHold('gpu-workers', NOW));
    account.work('embedder', zeros(8), LAST_MINUTE);
    account.work('gpu-workers', [9], LAST_MINUTE);

    const result = await run(account);

    expect(account.nodegroup('gpu-workers')).toMatchObject({ desired: 0, min: 0 });
    expect(decisionOf(result, 'gpu-workers')).toMatchObject({ target: 'gpu-workers', from: 0, to: 0 });
    // A node group has no suspension switches to write: the pause is honoured by the reconciler alone,
    // and no UpdateNodegroupConfig that changes nothing is sent (EKS would refuse it).
    expect(nodegroupUpdatesOf(account)).toEqual([]);
    expect(decisionOf(result, 'gpu-workers')?.error).toBeUndefined();
  });

  it('still wakes a target whose scale-in alone is suspended by a hold (an incident, not a pause)', async () => {
    const account = design();
    account.putHold(holdFor('embedder', 'manual', { suspendScaleIn: true }, NOW));
    account.work('embedder', [9], LAST_MINUTE);
    account.work('gpu-workers', zeros(8), LAST_MINUTE);

    await run(account);

    expect(updatesOf(account)).toEqual([{ cluster: 'pipestream', service: 'embedder', desiredCount: 1 }]);
    expect(account.service('embedder')).toMatchObject({ desired: 1, suspended: { dynamicIn: true, dynamicOut: false } });
  });

  it('reads 1,000 ECS targets with 2 GetMetricData calls of 500 queries and 100 DescribeServices calls of at most 10', async () => {
    // Built by hand and run without the IAM guard: no deployed role names 1,000 services.
    setNow(NOW);
    const targets = Array.from({ length: 1_000 }, (_, i) => ({ ...DESIGN_EMBEDDER, name: `module-${i}`, cluster: 'gpu-fleet', service: `module-${i}`, work: workMetric(`module-${i}`) }));
    const account = openAccount(parseTargetsDocument({ targets, holdsTable: 'fleet-holds' }), undefined);
    for (const t of targets) account.work(t.name, zeros(8), LAST_MINUTE);
    account.work('module-777', [0, 3], LAST_MINUTE); // in the second metric batch: its query ids restart at m0

    const result = await handler({});

    const metricCalls = account.fake.callsOf('cloudwatch:getMetricData');
    expect(metricCalls.map((c) => c.input.MetricDataQueries.length)).toEqual([500, 500]);
    const describeCalls = account.fake.callsOf('ecs:describeServices');
    expect(describeCalls).toHaveLength(100);
    expect(describeCalls.every((c) => c.input.services.length <= 10)).toBe(true);
    expect(new Set(describeCalls.flatMap((c) => c.input.services as string[])).size).toBe(1_000);
    expect(result.decisions).toHaveLength(1_000);
    expect(updatesOf(account)).toEqual([{ cluster: 'gpu-fleet', service: 'module-777', desiredCount: 1 }]);
    expect(result.decisions.filter((d) => d.to !== d.from).map((d) => d.target)).toEqual(['module-777']);
  });

  describe('malformed MLSCALE_CONFIG', () => {
    it.each([
      ['unset', undefined, /^Invalid MLSCALE_CONFIG: is not set/],
      ['not JSON', '{ targets: [', /^Invalid MLSCALE_CONFIG: is not valid JSON/],
      ['missing work on a scale-to-zero target', JSON.stringify({ targets: [{ ...DESIGN_EMBEDDER, work: undefined }] }), /^Invalid MLSCALE_CONFIG: targets\[0\]\.work: required for a scale-to-zero target/],
      ['a negative minCapacity', JSON.stringify({ targets: [{ ...DESIGN_EMBEDDER, minCapacity: -1 }] }), /^Invalid MLSCALE_CONFIG: targets\[0\]\.minCapacity: /],
    ])('throws a one-line error naming the field and makes no AWS call when it is %s', async (_case, value, message) => {
      const account = design();
      account.work('embedder', [5], LAST_MINUTE);
      vi.stubEnv('MLSCALE_CONFIG', value);
      vi.stubEnv('MLSCALE_CONFIG_BUNDLED', undefined);

      await expectOneLineError(run(account), message);
      expect(account.fake.calls).toEqual([]);
    });
  });

  describe('regressions of issue #8', () => {
    it('(item 1) wakes a GPU pool at 0 as the deployed reconciler role: RegisterScalableTarget is made and allowed', async () => {
      setNow(NOW);
      const account = deployedAccount('default', { desired: { engine: 2, 'cpu-modules': 1 } });
      account.work('gpu-modules', [0, 4], LAST_MINUTE);

      const result = await run(account);

      expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').map((c) => c.input)).toEqual([
        expect.objectContaining({ ResourceId: 'service/pipestream-production/gpu-modules', MinCapacity: 1, MaxCapacity: 5 }),
      ]);
      expect(account.iam('application-autoscaling:RegisterScalableTarget').map((c) => c.allowed)).toEqual([true]);
      expect(account.iam('ecs:UpdateService').map((c) => c.allowed)).toEqual([true]);
      expect(account.service('gpu-modules')).toMatchObject({ min: 1, desired: 1 });
      expect(decisionOf(result, 'gpu-modules')).toEqual({ target: 'gpu-modules', from: 0, to: 1, reason: expect.any(String) });
    });

    it('(item 6) reports a work metric with no datapoints at zero as an error and keeps 0', async () => {
      const account = design();
      account.work('gpu-workers', zeros(8), LAST_MINUTE);

      const result = await run(account);

      expect(decisionOf(result, 'embedder')).toEqual({
        target: 'embedder',
        from: 0,
        to: 0,
        reason: expect.stringMatching(/no datapoints/),
        error: expect.stringMatching(/^work unknown at zero: work metric has no datapoints/),
      });
      expect(decisionOf(result, 'gpu-workers')?.error).toBeUndefined();
      expect(writes(account.fake)).toEqual([]);
    });

    it('(item 6) keeps a GPU target whose lag is zero but whose GPU utilisation is above the idle threshold', async () => {
      const account = design({ desired: { 'gpu-workers': 2 } });
      account.work('embedder', zeros(8), LAST_MINUTE);
      account.work('gpu-workers', zeros(8), LAST_MINUTE);
      account.gpu('gpu-workers', [80, 85, 90, 70, 75, 60, 65, 80], LAST_MINUTE);

      const result = await run(account);

      expect(nodegroupUpdatesOf(account).map((c) => c.desiredSize)).not.toContain(0);
      expect(account.nodegroup('gpu-workers').desired).toBe(2);
      expect(decisionOf(result, 'gpu-workers')).toMatchObject({ from: 2, to: 2, reason: expect.stringMatching(/GPU utilisation \d+ at/) });
    });

    it('(item 6) keeps a target whose lag is zero but which has work in flight', async () => {
      const account = design({ desired: { embedder: 1 }, edit: (doc) => withTarget(doc, 'embedder', { inFlight: IN_FLIGHT }) });
      account.work('embedder', zeros(8), LAST_MINUTE);
      account.fake.setSeries(IN_FLIGHT, [1, 1, 1, 1, 1, 1, 1, 1], LAST_MINUTE);
      account.work('gpu-workers', zeros(8), LAST_MINUTE);

      const result = await run(account);

      expect(updatesOf(account)).toEqual([]);
      expect(decisionOf(result, 'embedder')).toMatchObject({ from: 1, to: 1, reason: expect.stringMatching(/in-flight work 1 at/) });
    });

    it('(item 6) does not take three minutes of silence after the last zero datapoint as idle: the window ends now', async () => {
      const account = design({ desired: { embedder: 2 } });
      account.work('embedder', zeros(8), LAST_MINUTE - 3 * MINUTE);
      account.work('gpu-workers', zeros(8), LAST_MINUTE);

      const result = await run(account);

      expect(updatesOf(account)).toEqual([]);
      expect(decisionOf(result, 'embedder')).toMatchObject({ from: 2, to: 2, reason: expect.stringMatching(/no datapoint at 11:57Z: unknown, not idle/) });
    });

    it.each([
      ['at a probe minute', NOW, [{ floor: 1, expiresAt: epoch(NOW) + 10 * 60 }], 1],
      ['between probe minutes', NOW + MINUTE, [], 0],
    ])('(item 6) with probe configured, gives an unknown-at-zero target a one-task wake hold %s', async (_case, at, holds, desired) => {
      const account = design({ edit: (doc) => withTarget(doc, 'embedder', { probe: { everyMinutes: 15, forMinutes: 10 } }) });
      setNow(at);
      account.work('gpu-workers', zeros(8), minuteOf(at) - MINUTE);

      const result = await run(account);

      expect(account.holds('embedder')).toEqual(holds.map((h) => expect.objectContaining({ holder: 'wake', reason: expect.stringMatching(/^probe: /), ...h })));
      expect(account.service('embedder').desired).toBe(desired);
      expect(decisionOf(result, 'embedder')).toMatchObject({ from: 0, to: desired, error: expect.stringMatching(/^work unknown at zero/) });
    });

    it('(item 6) fails the invocation when every target failed', async () => {
      const account = design();
      account.fake.fail({ call: 'ecs:describeServices', error: 'Ecs.ServiceUnavailableException' });
      account.fake.fail({ call: 'eks:describeNodegroup', error: 'Eks.ServiceUnavailableException' });
      account.work('embedder', [5], LAST_MINUTE);
      account.work('gpu-workers', [5], LAST_MINUTE);

      await expectOneLineError(run(account), /^every target failed: embedder: .+; gpu-workers: .+$/);
      expect(writes(account.fake)).toEqual([]);
    });

    it('(item 6) does not fail the invocation when one target of several failed', async () => {
      const account = design();
      account.fake.fail({ call: 'eks:describeNodegroup', error: 'Eks.ServiceUnavailableException' });
      account.work('embedder', [5], LAST_MINUTE);

      const result = await run(account);

      expect(decisionOf(result, 'gpu-workers')?.error).toMatch(/could not be read/);
      expect(decisionOf(result, 'embedder')).toEqual({ target: 'embedder', from: 0, to: 1, reason: expect.any(String) });
    });
  });
});
