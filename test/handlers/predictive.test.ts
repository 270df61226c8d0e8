import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../lambdas/predictive';
import { metricKey } from '../fakes/aws';
import { DAY, deployedAccount, epoch, expectOneLineError, handlerSuite, holdFor, HOUR, MINUTE, setNow, withTarget, writes, type Account, type DocEdit } from './fixtures';

handlerSuite();

/** Tuesday 09:17 UTC, on the rising edge of the daily pattern. */
const NOW = Date.parse('2026-03-10T09:17:00Z');
/** The last 6-hour refit before NOW: the forecast is fitted on the history up to it. */
const ORIGIN = Math.floor(NOW / (6 * HOUR)) * 6 * HOUR;
const CURRENT_HOUR = Date.parse('2026-03-10T09:00:00Z');
const FIVE_MINUTES = 5 * MINUTE;

/**
 * Requests per second at t: 20 at night, a half-sine day peaking at 250 at
 * 12:00 UTC. At 50 req/s per replica + 10 % (engine, min 2, max 10) the
 * hours 09 and 10 need 5 and 6 replicas; at night 1 (below the minimum).
 */
function rate(t: number): number {
  const hour = (t % DAY) / HOUR;
  return 20 + 230 * Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
}

/**
 * The default config as deployed (engine and cpu-modules forecast-and-scale,
 * 14 days of history), with `hours` of 5-minute Sum history of their load
 * before the current hour.
 */
function defaults(options: { now?: number; hours?: number; edit?: DocEdit } = {}): Account {
  const now = options.now ?? NOW;
  setNow(now);
  const account = deployedAccount('default', { desired: { engine: 2, 'cpu-modules': 1 }, ...(options.edit ? { edit: options.edit } : {}) });
  const currentHour = Math.floor(now / HOUR) * HOUR;
  const points = Array.from({ length: ((options.hours ?? 14 * 24) * HOUR) / FIVE_MINUTES }, (_, i) => currentHour - (i + 1) * FIVE_MINUTES).map((t) => ({ t, v: rate(t) * 300 }));
  for (const t of account.doc.targets.filter((x) => x.predictive)) account.fake.metrics.set(metricKey(t.predictive!.load), points);
  return account;
}

const run = (account: Account) => account.as('PredictiveFunction', () => handler({}));
const resultOf = (r: Awaited<ReturnType<typeof handler>>, target: string) => r.targets.find((t) => t.target === target);
const predictiveHolds = (account: Account, target: string) => account.holds(target).filter((h) => h.holder.startsWith('predictive:'));
const forecastData = (account: Account) => account.fake.callsOf('cloudwatch:putMetricData').map((c) => c.input);

describe('Function: predictive handler', () => {
  it('reads 14 days of 5-minute Sum history up to the last 6-hour refit for every predictive target in one GetMetricData call', async () => {
    const account = defaults();

    await run(account);

    // (The pass that applies the floors reads the engine's backlog too: one-minute periods.)
    const reads = account.fake.callsOf('cloudwatch:getMetricData').map((c) => c.input).filter((i) => i.MetricDataQueries[0].MetricStat.Period === 300);
    expect(reads).toHaveLength(1);
    expect(new Date(reads[0].StartTime).getTime()).toBe(ORIGIN - 14 * DAY);
    expect(new Date(reads[0].EndTime).getTime()).toBe(ORIGIN);
    expect(reads[0].MetricDataQueries.map((q: { MetricStat: unknown }) => q.MetricStat)).toEqual(
      ['engine', 'cpu-modules'].map((pool) => ({
        Metric: { Namespace: 'Pipestream/Pipeline', MetricName: 'RequestCount', Dimensions: [{ Name: 'Pool', Value: pool }] },
        Period: 300,
        Stat: 'Sum',
      })),
    );
  });

  it('writes predictive:<hour> holds for the next two windows, each in force from leadMinutes before its hour, and applies the current one', async () => {
    const account = defaults();

    const result = await run(account);

    const holds = predictiveHolds(account, 'engine');
    expect(holds.map((h) => [h.holder, h.startsAt, h.expiresAt])).toEqual([
      ['predictive:2026-03-10T09', epoch(CURRENT_HOUR - 10 * MINUTE), epoch(CURRENT_HOUR + 50 * MINUTE)],
      ['predictive:2026-03-10T10', epoch(CURRENT_HOUR + 50 * MINUTE), epoch(CURRENT_HOUR + 110 * MINUTE)],
    ]);
    expect(holds.map((h) => h.floor)).toEqual([5, 6]);
    expect(resultOf(result, 'engine')).toMatchObject({ target: 'engine', mode: 'forecast-and-scale', holds: ['predictive:2026-03-10T09', 'predictive:2026-03-10T10'] });
    expect(resultOf(result, 'engine')?.error).toBeUndefined();
    // In force now (08:50 to 09:50): the pass reconciles it at once.
    expect(account.service('engine')).toMatchObject({ min: 5, desired: 5, max: 10 });
    expect(predictiveHolds(account, 'cpu-modules').map((h) => h.floor)).toEqual([12, 14]);
    expect(account.service('cpu-modules')).toMatchObject({ min: 12, desired: 12 });
  });

  it('writes no hold for hours whose forecast needs no more than the configured minimum, and still publishes the forecast', async () => {
    const account = defaults({ now: Date.parse('2026-03-10T02:17:00Z') });

    const result = await run(account);

    expect(account.holds('engine')).toEqual([]);
    expect(resultOf(result, 'engine')).toMatchObject({ holds: [], replicas: expect.arrayContaining([2]) });
    expect(resultOf(result, 'engine')?.replicas?.every((r) => r >= 2 && r <= 10)).toBe(true);
    expect(account.service('engine')).toMatchObject({ min: 2, desired: 2 });
    expect(forecastData(account).map((d) => d.Namespace)).toEqual(['mlscale/Predictive', 'mlscale/Predictive']);
  });

  it('skips a target with under 24 hours of history and writes nothing', async () => {
    const account = defaults({ hours: 20 });

    const result = await run(account);

    expect(resultOf(result, 'engine')).toEqual({ target: 'engine', mode: 'forecast-and-scale', holds: [], skipped: `${20 - (CURRENT_HOUR - ORIGIN) / HOUR} hours of load history, need 24: no forecast yet` });
    expect(writes(account.fake)).toEqual([]);
    expect(forecastData(account)).toEqual([]);
  });

  it('publishes ForecastLoad and ForecastReplicas to mlscale/Predictive and writes no hold in forecast-only mode', async () => {
    const forecastOnly = { mode: 'forecast-only' };
    const account = defaults({
      edit: (doc) =>
        ['engine', 'cpu-modules'].reduce((d, name) => withTarget(d, name, { predictive: { ...d.targets.find((t) => t.name === name)!.predictive, ...forecastOnly } }), doc),
    });

    const result = await run(account);

    expect(writes(account.fake)).toEqual([]);
    expect(resultOf(result, 'engine')).toMatchObject({ mode: 'forecast-only', holds: [], forecast: expect.any(Array) });
    const data = forecastData(account).find((d) => d.MetricData[0].Dimensions[0].Value === 'engine');
    expect(data.Namespace).toBe('mlscale/Predictive');
    expect(data.MetricData.map((d: { MetricName: string }) => d.MetricName).sort()).toEqual(['ForecastLoad', 'ForecastLoad', 'ForecastReplicas', 'ForecastReplicas']);
    for (const d of data.MetricData) {
      expect(d.Dimensions).toEqual([{ Name: 'Target', Value: 'engine' }]);
      expect(d.Value).toBeGreaterThan(0);
      expect(new Date(d.Timestamp).getTime()).toBeLessThanOrEqual(NOW + HOUR);
    }
    // The role's PutMetricData grant is conditional on the namespace: the guard allowed it.
    expect(account.iam('cloudwatch:PutMetricData').map((c) => c.allowed)).toEqual([true, true]);
  });

  it('reports an unreadable load history as an error of that target and goes on with the others', async () => {
    const account = defaults();
    account.fake.metricStatus.set(metricKey(account.spec('engine').predictive!.load), 'InternalError');

    const result = await run(account);

    expect(resultOf(result, 'engine')).toMatchObject({ holds: [], error: expect.stringMatching(/^load history unreadable: InternalError/) });
    expect(predictiveHolds(account, 'engine')).toEqual([]);
    expect(account.service('engine')).toMatchObject({ min: 2, desired: 2 });
    expect(resultOf(result, 'cpu-modules')?.holds).toHaveLength(2);
    expect(account.service('cpu-modules').min).toBe(12);
  });

  it('fails the invocation, naming every target, when no target could be forecast', async () => {
    const account = defaults();
    account.fake.fail({ call: 'cloudwatch:getMetricData', error: 'CloudWatch.ServiceUnavailableException', cause: 'Service unavailable' });

    await expectOneLineError(run(account), /^every target failed: engine: load history unreadable: ServiceUnavailableException: Service unavailable; cpu-modules: load history unreadable: /);
    expect(account.fake.callsOf('cloudwatch:getMetricData')).toHaveLength(4);
    expect(writes(account.fake)).toEqual([]);
  });

  it("never lowers a runbook's floor: its hold stays, and the reconciler takes the higher of the two (issue #9)", async () => {
    const account = defaults();
    account.putHold(holdFor('engine', 'event:launch', { floor: 8 }, NOW - HOUR, 180));
    Object.assign(account.service('engine'), { min: 8, desired: 8 });

    await run(account);

    expect(account.holds('engine').map((h) => [h.holder, h.floor])).toEqual([
      ['event:launch', 8],
      ['predictive:2026-03-10T09', 5],
      ['predictive:2026-03-10T10', 6],
    ]);
    expect(account.service('engine')).toMatchObject({ min: 8, desired: 8 });
    expect(account.fake.callsOf('applicationautoscaling:registerScalableTarget').filter((c) => c.input.ResourceId.endsWith('/engine'))).toEqual([]);
  });

  it('throws a one-line error naming the field and makes no AWS call when MLSCALE_CONFIG is malformed', async () => {
    const account = defaults();
    const engine = account.spec('engine');
    vi.stubEnv('MLSCALE_CONFIG', JSON.stringify({ targets: [{ ...engine, predictive: { ...engine.predictive, targetPerReplica: 0 } }] }));

    await expectOneLineError(run(account), /^Invalid MLSCALE_CONFIG: targets\[0\]\.predictive\.targetPerReplica: /);
    expect(account.fake.calls).toEqual([]);
  });
});
