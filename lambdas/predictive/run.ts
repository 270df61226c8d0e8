import type { HoldStore } from '../aws/holds-store';
import { readMetrics } from '../aws/metrics';
import { putMetrics, type Datum } from '../aws/metrics';
import { FORECAST_NAMESPACE } from '../core/names';
import { enoughHistory, fitForecast, forecastFrom, forecastOrigin, forecastTrust, hourlyPeaks, knownHours, MIN_HISTORY_HOURS, type ForecastModel } from '../core/forecast';
import { forecastHolds } from '../core/forecast-holds';
import type { Observation } from '../core/work';
import type { TargetSpec } from '../core/config/document';
import { reconcileTargets } from '../reconcile/run';

const HOUR = 3_600_000;
/** History resolution: 5-minute points give each hour's peak, not just its average. */
const HISTORY_PERIOD_SECONDS = 300;
export { MIN_HISTORY_HOURS };

export interface PredictiveResult {
  readonly target: string;
  readonly mode: string;
  readonly model?: ForecastModel;
  /** Forecast load per hour from the current hour (req/s). */
  readonly forecast?: number[];
  readonly replicas?: readonly number[];
  /** Holders of the forecast holds written. */
  readonly holds: readonly string[];
  /** The model's backtest WAPE on this target (a fraction), when there was enough history to tell. */
  readonly backtestError?: number;
  /** Whether the forecast was acted on, and why (or why not). */
  readonly trust?: string;
  readonly skipped?: string;
  readonly error?: string;
  /** The floors were written but publishing the forecast metrics failed (the dashboard misses a point; nothing else). */
  readonly publishError?: string;
  /** The floors were written but not applied at once (the reconciler's next pass applies them). */
  readonly applyError?: string;
}

/** Sums and counts per period become rates; other statistics are taken as rates already. */
function toRate(value: number, statistic: string): number {
  return statistic === 'Sum' || statistic === 'SampleCount' ? value / HISTORY_PERIOD_SECONDS : value;
}

async function readHistory(targets: readonly TargetSpec[], origin: number): Promise<Map<string, Observation>> {
  const reads = targets.map((t) => ({ key: t.name, metric: t.predictive!.load }));
  const days = Math.max(0, ...targets.map((t) => t.predictive!.historyDays));
  if (reads.length === 0) return new Map<string, Observation>();
  const { observations } = await readMetrics(reads, {
    start: new Date(origin - days * 24 * HOUR),
    end: new Date(origin),
    periodSeconds: HISTORY_PERIOD_SECONDS,
  });
  return observations;
}

/**
 * One predictive pass: per predictive target, forecast the coming hours from
 * its load history and write the next hours' floors as `predictive:<hour>`
 * holds (forecast-and-scale), then reconcile the targets it wrote for; and
 * publish the forecast for the dashboard. Planned events and peak hours need
 * no pass: the reconciler derives them from the config.
 */
export async function runPredictive(all: readonly TargetSpec[], store: HoldStore, now: Date): Promise<PredictiveResult[]> {
  const targets = all.filter((t) => t.predictive);
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  // Refitted every 6 hours (AWS predictive scaling's cadence) on the history up to the refit: every
  // hourly run of one 6-hour block acts on the same forecast, as the simulator measures it.
  const origin = forecastOrigin(now.getTime());
  const history = await readHistory(targets, origin);
  const results: PredictiveResult[] = [];
  const written: TargetSpec[] = [];

  for (const t of targets) {
    const p = t.predictive!;
    const base = { target: t.name, mode: p.mode, holds: [] as string[] };
    try {
      const obs = history.get(t.name);
      if (obs?.error) throw new Error(`load history unreadable: ${obs.error}`);
      const hours = p.historyDays * 24;
      const series = hourlyPeaks((obs?.points ?? []).map((pt) => ({ t: pt.t, v: toRate(pt.v, p.load.statistic) })), origin - hours * HOUR, hours);
      if (!enoughHistory(series)) {
        results.push({ ...base, skipped: `${knownHours(series)} hours of load history, need ${MIN_HISTORY_HOURS}: no forecast yet` });
        continue;
      }
      const fitted = fitForecast(series, origin, p.horizonHours);
      const model = fitted.model;
      const load = forecastFrom(fitted, currentHour).slice(0, p.horizonHours);
      const trust = forecastTrust(fitted, p.maxError);
      const judged = { ...(fitted.wape !== undefined ? { backtestError: fitted.wape } : {}), trust: trust.reason };
      const { holds, replicas } = forecastHolds({
        target: t.name,
        firstHour: currentHour,
        load,
        perReplica: p.targetPerReplica,
        headroom: p.headroom,
        leadMinutes: p.leadMinutes,
        min: t.minCapacity,
        max: t.maxCapacity,
        now: now.getTime(),
      });
      // A forecast that has not earned trust is published (the dashboard shows it) but not acted on.
      const acting = p.mode === 'forecast-and-scale' && trust.trusted;
      if (acting) {
        for (const h of holds) await store.put(h);
        if (holds.length > 0) written.push(t);
      }
      const publishError = await publishForecast(t.name, currentHour, load, replicas, now).then(
        () => undefined,
        (err: Error) => `${err.name}: ${err.message}`,
      );
      results.push({ ...base, model, ...judged, forecast: load, replicas, holds: acting ? holds.map((h) => h.holder) : [], ...(publishError ? { publishError } : {}) });
    } catch (err) {
      const e = err as Error;
      results.push({ ...base, error: e.name === 'Error' ? e.message : `${e.name}: ${e.message}` });
    }
  }
  // Apply the new floors now rather than at the next reconciler minute; a failure here is repaired by that pass.
  if (written.length > 0) {
    const applied = await reconcileTargets(written, store, now);
    for (const o of applied.targets.filter((x) => x.failed)) {
      const i = results.findIndex((r) => r.target === o.target);
      if (i >= 0) results[i] = { ...results[i]!, applyError: o.error ?? 'not applied' };
    }
  }
  return results;
}

/** Forecast load and replicas for this hour and the next (CloudWatch takes up to 2 hours ahead). */
async function publishForecast(target: string, currentHour: number, load: readonly number[], replicas: readonly number[], now: Date) {
  const data: Datum[] = [];
  for (let h = 0; h < Math.min(2, load.length); h++) {
    const at = new Date(Math.min(currentHour + h * HOUR, now.getTime() + HOUR));
    data.push({ name: 'ForecastLoad', dimensions: { Target: target }, at, value: load[h]!, unit: 'Count/Second' });
    data.push({ name: 'ForecastReplicas', dimensions: { Target: target }, at, value: replicas[h]!, unit: 'Count' });
  }
  await putMetrics(FORECAST_NAMESPACE, data);
}
