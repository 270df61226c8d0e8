import { describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/reconcile';
import { desiredCapacityMetric } from '../../lambdas/reconcile/flaps';
import { metricKey } from '../fakes/aws';
import {
  deployedAccount,
  expectOneLineError,
  handlerSuite,
  holdFor,
  MINUTE,
  minuteOf,
  pauseHold,
  recordMetrics,
  setNow,
  writes,
  zeros,
  type Account,
} from './fixtures';

handlerSuite();

/** Tuesday 12:00:30 UTC. */
const NOW = Date.parse('2026-03-10T12:00:30Z');
const LAST_MINUTE = minuteOf(NOW) - MINUTE;

/** The DESIGN.md targets at rest: engine at 4 of 2-10, embedder and gpu-workers idle at 0. */
function design(desired: Record<string, number> = {}): Account {
  setNow(NOW);
  const account = deployedAccount('design', { desired: { engine: 4, ...desired } });
  account.work('embedder', zeros(8), LAST_MINUTE);
  account.work('gpu-workers', zeros(8), LAST_MINUTE);
  return account;
}

const run = (account: Account) => account.as('ReconcilerFunction', () => handler({}));
const outcomeOf = (result: Awaited<ReturnType<typeof handler>>, target: string) => result.targets.find((t) => t.target === target);

describe('Function: reconcile handler', () => {
  it('writes nothing and reports every target as it is when no hold asks for anything', async () => {
    const account = design();

    const result = await run(account);

    expect(writes(account.fake)).toEqual([]);
    expect(result).toEqual({
      targets: [
        { target: 'engine', min: 2, max: 10, suspended: false, desired: 4, holds: [], from: 4 },
        { target: 'embedder', min: 0, max: 5, suspended: false, desired: 0, holds: [], from: 0 },
        { target: 'gpu-workers', min: 0, max: 4, suspended: false, desired: 0, holds: [], from: 0 },
      ],
    });
  });

  it('raises min and desired to the floor of an active hold', async () => {
    const account = design();
    account.putHold(holdFor('engine', 'manual', { floor: 6 }, NOW));

    const result = await run(account);

    expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').map((c) => c.input)).toEqual([
      expect.objectContaining({ ResourceId: 'service/pipestream/engine', MinCapacity: 6, MaxCapacity: 10 }),
    ]);
    expect(account.fake.callsOf('ecs:updateService').map((c) => c.input)).toEqual([{ cluster: 'pipestream', service: 'engine', desiredCount: 6 }]);
    expect(account.service('engine')).toMatchObject({ min: 6, max: 10, desired: 6 });
    expect(outcomeOf(result, 'engine')).toEqual({ target: 'engine', min: 6, max: 10, suspended: false, desired: 6, holds: ['manual'], from: 4 });
  });

  it('raises an EKS node group min, max and desired in one UpdateNodegroupConfig', async () => {
    const account = design();
    account.putHold(holdFor('gpu-workers', 'manual', { floor: 3, ceiling: 6 }, NOW));

    await run(account);

    expect(account.fake.callsOf('eks:updateNodegroupConfig').map((c) => c.input)).toEqual([
      { clusterName: 'ml-prod', nodegroupName: 'gpu-workers', scalingConfig: { minSize: 3, maxSize: 6, desiredSize: 3 } },
    ]);
    expect(account.nodegroup('gpu-workers')).toMatchObject({ min: 3, max: 6, desired: 3 });
  });

  it.each([
    ['keeps a desired within the configured max', 8, 8],
    ['brings a desired above the configured max down to it', 14, 10],
  ])('restores the configured min, max and suspension in one pass once the holds expired, and %s', async (_case, desired, after) => {
    const account = design({ engine: desired });
    Object.assign(account.service('engine'), { min: 8, max: 16, suspended: { dynamicIn: true, dynamicOut: false, scheduled: false } });
    account.putHold({ ...holdFor('engine', 'emergency:engine-20260310-1100', { floor: 8, ceiling: 16, suspendScaleIn: true }, NOW - 60 * MINUTE, 30) });

    const result = await run(account);

    expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').map((c) => c.input)).toEqual([
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: 'service/pipestream/engine',
        MinCapacity: 2,
        MaxCapacity: 10,
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
      },
    ]);
    expect(account.service('engine')).toMatchObject({ min: 2, max: 10, desired: after, suspended: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    expect(outcomeOf(result, 'engine')).toEqual({ target: 'engine', min: 2, max: 10, suspended: false, desired: after, holds: [], from: desired });
    // Desired is cut only to come within max: never by the release itself.
    expect(account.fake.callsOf('ecs:updateService').map((c) => c.input.desiredCount)).toEqual(desired > 10 ? [10] : []);
  });

  it('leaves desired where a pause hold found it, whatever floor another hold asks, and suspends the autoscaler', async () => {
    const account = design();
    account.putHold(pauseHold('engine', NOW));
    account.putHold(holdFor('engine', 'event:launch', { floor: 8 }, NOW));

    const result = await run(account);

    expect(account.fake.callsOf('ecs:updateService')).toEqual([]);
    expect(account.service('engine')).toMatchObject({ desired: 4, min: 4, max: 10, suspended: { dynamicIn: true, dynamicOut: true, scheduled: true } });
    expect(outcomeOf(result, 'engine')).toEqual({ target: 'engine', min: 4, max: 10, suspended: true, desired: 4, holds: expect.arrayContaining(['event:launch', 'pause']), from: 4 });
  });

  describe('holds derived from the config', () => {
    it.each([
      ['before the lead time', '2026-06-02T17:29:00Z', 2, []],
      ['within the 30-minute lead', '2026-06-02T17:45:00Z', 9, ['event:product-launch']],
      ['within the 20-minute cooldown', '2026-06-02T20:15:00Z', 9, ['event:product-launch']],
    ])('applies the planned event product-launch (18:00-20:00Z, 9 replicas) %s', async (_case, at, min, holds) => {
      setNow(Date.parse(at));
      const account = deployedAccount('default', { desired: { engine: 2, 'cpu-modules': 1 } });
      account.work('gpu-modules', zeros(8), minuteOf(Date.parse(at)) - MINUTE);

      const result = await run(account);

      expect(outcomeOf(result, 'engine')).toMatchObject({ min, desired: min, holds });
      expect(account.service('engine')).toMatchObject({ min, desired: min });
      // Derived, not written: nothing to strand when the window ends.
      expect(account.fake.callsOf('dynamodb:putItem')).toEqual([]);
    });

    it('restores the configured minimum once the planned event and its cooldown are over, without cutting desired', async () => {
      setNow(Date.parse('2026-06-02T20:21:00Z'));
      const account = deployedAccount('default', { desired: { engine: 9, 'cpu-modules': 1 } });
      Object.assign(account.service('engine'), { min: 9 });
      account.work('gpu-modules', zeros(8), minuteOf(Date.now()) - MINUTE);

      const result = await run(account);

      expect(outcomeOf(result, 'engine')).toMatchObject({ min: 2, desired: 9, holds: [] });
      expect(account.service('engine')).toMatchObject({ min: 2, desired: 9 });
      expect(account.fake.callsOf('ecs:updateService')).toEqual([]);
    });

    it.each([
      ['during office hours in Berlin (Tuesday 11:00 CET)', '2026-03-10T10:00:00Z', 3, ['peak-hours:office-hours']],
      ['after office hours in Berlin (Tuesday 19:30 CET)', '2026-03-10T18:30:00Z', 1, []],
      ['on a Saturday', '2026-03-14T10:00:00Z', 1, []],
    ])('applies the peak hours office-hours (08-18 Europe/Berlin MON-FRI, min 3) %s', async (_case, at, min, holds) => {
      setNow(Date.parse(at));
      const account = deployedAccount('eks');
      for (const t of account.doc.targets.filter((x) => x.work)) account.work(t.name, zeros(8), minuteOf(Date.parse(at)) - MINUTE);

      const result = await run(account);

      expect(outcomeOf(result, 'cpu-modules')).toMatchObject({ min, desired: min, holds });
      expect(account.service('cpu-modules')).toMatchObject({ min, desired: min });
    });
  });

  describe('failures', () => {
    it('reports the targets of a DescribeServices batch that fails after retries and still reconciles the others', async () => {
      const account = design();
      account.fake.fail({ call: 'ecs:describeServices', error: 'Ecs.ServiceUnavailableException', when: (input) => input.cluster === 'pipestream' });
      account.putHold(holdFor('gpu-workers', 'manual', { floor: 2 }, NOW));

      const result = await run(account);

      expect(account.fake.callsOf('ecs:describeServices')).toHaveLength(4);
      for (const target of ['engine', 'embedder']) {
        expect(outcomeOf(result, target)?.error).toMatch(new RegExp(`^service/pipestream/${target} could not be read: .*failed \\(fake\\)`));
      }
      expect(account.fake.callsOf('ecs:updateService')).toEqual([]);
      expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget')).toEqual([]);
      expect(account.nodegroup('gpu-workers')).toMatchObject({ min: 2, desired: 2 });
      expect(outcomeOf(result, 'gpu-workers')).toEqual({ target: 'gpu-workers', min: 2, max: 4, suspended: false, desired: 2, holds: ['manual'], from: 0 });
    });

    it('reports a node group whose UpdateNodegroupConfig is refused and still reconciles the others', async () => {
      const account = design();
      account.fake.fail({ call: 'eks:updateNodegroupConfig', error: 'Eks.InvalidParameterException', cause: 'Nodegroup is in UPDATING state' });
      account.putHold(holdFor('gpu-workers', 'manual', { floor: 2 }, NOW));
      account.putHold(holdFor('engine', 'manual', { floor: 5 }, NOW));

      const result = await run(account);

      expect(account.fake.callsOf('eks:updateNodegroupConfig')).toHaveLength(1);
      expect(outcomeOf(result, 'gpu-workers')).toMatchObject({ from: 0, desired: 0, error: 'nodegroup/ml-prod/gpu-workers: InvalidParameterException: Nodegroup is in UPDATING state' });
      expect(account.nodegroup('gpu-workers')).toMatchObject({ min: 0, desired: 0 });
      expect(outcomeOf(result, 'engine')).toMatchObject({ min: 5, desired: 5 });
      expect(outcomeOf(result, 'engine')?.error).toBeUndefined();
    });

    it('fails the invocation, naming every target, when no target could be read', async () => {
      const account = design();
      account.fake.fail({ call: 'ecs:describeServices', error: 'Ecs.AccessDeniedException' });
      account.fake.fail({ call: 'eks:describeNodegroup', error: 'Eks.ServiceUnavailableException' });

      await expectOneLineError(run(account), /^every target failed: engine: service\/pipestream\/engine could not be read: .+; embedder: .+; gpu-workers: nodegroup\/ml-prod\/gpu-workers could not be read: .+$/);
      expect(writes(account.fake)).toEqual([]);
    });
  });

  describe('metrics', () => {
    it('publishes Drift for the targets it changed and TargetErrors for the ones that failed', async () => {
      const published = recordMetrics();
      const account = design();
      account.fake.fail({ call: 'eks:describeNodegroup', error: 'Eks.ServiceUnavailableException' });
      account.putHold(holdFor('engine', 'manual', { floor: 6 }, NOW));

      await run(account);

      const metrics = published();
      expect(metrics).toEqual(
        expect.arrayContaining([
          { name: 'Drift', value: 1, dimensions: { Target: 'engine' } },
          { name: 'TargetErrors', value: 1, dimensions: { Target: 'gpu-workers' } },
          { name: 'TargetsReconciled', value: 3, dimensions: {} },
          { name: 'TargetsChanged', value: 1, dimensions: {} },
          { name: 'TargetErrors', value: 1, dimensions: {} },
        ]),
      );
      expect(metrics.filter((m) => m.name === 'Drift')).toHaveLength(1);
      expect(metrics.filter((m) => m.name === 'TargetErrors' && m.dimensions.Target)).toHaveLength(1);
    });

    it('publishes no Drift and no per-target TargetErrors for a pass at rest', async () => {
      const published = recordMetrics();
      const account = design();

      await run(account);

      // Per target, only the desired capacity thrash detection counts reversals in.
      expect(published().filter((m) => m.dimensions.Target && m.name !== 'DesiredCapacity')).toEqual([]);
      expect(published().filter((m) => m.name === 'DesiredCapacity')).toEqual([
        { name: 'DesiredCapacity', value: 4, dimensions: { Target: 'engine' } },
        { name: 'DesiredCapacity', value: 0, dimensions: { Target: 'embedder' } },
        { name: 'DesiredCapacity', value: 0, dimensions: { Target: 'gpu-workers' } },
      ]);
      expect(published()).toEqual(expect.arrayContaining([{ name: 'TargetsChanged', value: 0, dimensions: {} }, { name: 'TargetErrors', value: 0, dimensions: {} }]));
    });
  });

  describe('thrash detection', () => {
    /** The engine's published desired capacity over the last hour: up and down every `every` minutes. */
    function oscillate(account: Account, every: number): void {
      const values = Array.from({ length: 60 }, (_, i) => (Math.floor(i / every) % 2 === 0 ? 4 : 6));
      account.fake.setSeries(desiredCapacityMetric('engine'), values, LAST_MINUTE);
    }

    it('reports a target whose desired capacity reversed more than 4 times in the last hour, and publishes Flapping', async () => {
      const published = recordMetrics();
      const account = design();
      oscillate(account, 5);

      const result = await run(account);

      expect(outcomeOf(result, 'engine')?.flapping).toEqual({ reversals: 10, reason: expect.stringContaining('lengthen the scale-in cooldown') });
      expect(outcomeOf(result, 'embedder')?.flapping).toBeUndefined();
      expect(published().filter((m) => m.name === 'Flapping')).toEqual([{ name: 'Flapping', value: 1, dimensions: { Target: 'engine' } }]);
      expect(writes(account.fake)).toEqual([]);
    });

    it('leaves a target that moved but did not turn round often alone', async () => {
      const published = recordMetrics();
      const account = design();
      oscillate(account, 15);

      const result = await run(account);

      expect(outcomeOf(result, 'engine')?.flapping).toBeUndefined();
      expect(published().filter((m) => m.name === 'Flapping')).toEqual([]);
    });

    it('still reconciles when the history cannot be read', async () => {
      const account = design();
      account.putHold(holdFor('engine', 'manual', { floor: 6 }, NOW));
      account.fake.metricStatus.set(metricKey(desiredCapacityMetric('engine')), 'Forbidden');

      const result = await run(account);

      expect(outcomeOf(result, 'engine')).toMatchObject({ desired: 6, min: 6 });
      expect(outcomeOf(result, 'engine')?.flapping).toBeUndefined();
    });
  });

  it('applies a hold another actor wrote between its read and its apply in the same pass (the re-check)', async () => {
    const account = design();
    account.putHold(holdFor('engine', 'manual', { floor: 4 }, NOW));
    Object.assign(account.service('engine'), { desired: 3 });
    // The emergency Lambda writes its incident while this pass is applying the manual floor.
    account.fake.before('applicationautoscaling:registerScalableTarget', async () =>
      account.putHold(holdFor('engine', 'emergency:engine-20260310-1200', { floor: 8, ceiling: 10, suspendScaleIn: true }, NOW)),
    );

    const result = await run(account);

    expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').map((c) => [c.input.MinCapacity, c.input.SuspendedState.DynamicScalingInSuspended])).toEqual([
      [4, false],
      [8, true],
    ]);
    expect(account.service('engine')).toMatchObject({ min: 8, desired: 8, suspended: { dynamicIn: true } });
    expect(outcomeOf(result, 'engine')).toEqual({
      target: 'engine',
      min: 8,
      max: 10,
      suspended: true,
      desired: 8,
      holds: expect.arrayContaining(['manual', 'emergency:engine-20260310-1200']),
      from: 3,
    });
  });
});

describe('Function: reconcile handler (drain-sized scale-out)', () => {
  /** The engine's lag and throughput for the last two complete minutes. */
  function backlog(account: Account, lags: [number, number], servedPerSecond: number): void {
    const drain = account.spec('engine').drain!;
    const last = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    account.fake.setSeries(drain.backlog, lags, last);
    account.fake.setSeries(drain.processed, [servedPerSecond * 60, servedPerSecond * 60], last);
  }

  it('writes a short drain floor of what clears a growing backlog, and the pass applies it', async () => {
    const account = design();
    // 40/s served by 4 tasks; the lag grew by 1,200 in a minute: 60/s arrive.
    backlog(account, [600, 1_800], 40);

    const result = await run(account);

    // (60 + (1,800 + 20 x 60 s of start-up) / 120 s) / (10 per task x 70 %) = 12.1 -> capped at max 10.
    expect(account.holds('engine')).toEqual([expect.objectContaining({ holder: 'drain', floor: 10, expiresAt: Math.floor(Date.now() / 1000) + 120 })]);
    expect(result.targets.find((t) => t.target === 'engine')).toMatchObject({ from: 4, desired: 10, min: 10, holds: ['drain'] });
  });

  it('adds nothing for a backlog under its threshold or one the running tasks already drain', async () => {
    const small = design();
    backlog(small, [900, 950], 40);
    await run(small);
    expect(small.holds('engine')).toEqual([]);

    const draining = design({ engine: 8 });
    // 8 tasks serve 80/s; 20/s arrive; 1,200 left drains in 20 s.
    backlog(draining, [4_800, 1_200], 80);
    await run(draining);
    expect(draining.holds('engine')).toEqual([]);
    expect(draining.service('engine')).toMatchObject({ desired: 8 });
  });
});
