import { forecastHourly, hourlyPeaks, selectModel, type ForecastModel } from '../core/forecast';
import { planPrescale, reconcileActions, type PlannedAction } from '../core/prescale-plan';
import type { Observation } from '../core/scale-to-zero';
import type { TargetSpec } from '../core/targets';
import { readMetrics } from '../aws/metric-reader';
import { FORECAST_NAMESPACE, putMetrics, type Datum } from '../aws/metric-writer';
import { scalableTarget } from '../aws/scalable-target';

const HOUR = 3_600_000;
/** History resolution: 5-minute points give each hour's peak, not just its average. */
const HISTORY_PERIOD_SECONDS = 300;
/** Below a day of history the forecast has no season to go on (AWS predictive scaling asks the same). */
const MIN_HISTORY_HOURS = 24;

export interface PredictiveResult {
  readonly target: string;
  readonly mode?: string;
  readonly model?: ForecastModel;
  /** Forecast load per hour from the current hour (req/s). */
  readonly forecast?: number[];
  readonly replicas?: readonly number[];
  readonly actions: readonly PlannedAction[];
  readonly put: number;
  readonly removed: number;
  readonly skipped?: string;
  readonly error?: string;
}

const isPrescaled = (t: TargetSpec) => t.kind === 'ecs-service' && (t.predictive !== undefined || t.plannedEvents.length > 0 || t.peakHours.length > 0);

/** Sums and counts per period become rates; other statistics are taken as rates already. */
function toRate(value: number, statistic: string): number {
  return statistic === 'Sum' || statistic === 'SampleCount' ? value / HISTORY_PERIOD_SECONDS : value;
}

async function readHistory(targets: readonly TargetSpec[], currentHour: number): Promise<Map<string, Observation>> {
  const reads = targets.filter((t) => t.predictive).map((t) => ({ key: t.name, metric: t.predictive!.load }));
  const days = Math.max(0, ...targets.map((t) => t.predictive?.historyDays ?? 0));
  if (reads.length === 0) return new Map<string, Observation>();
  const { observations } = await readMetrics(reads, {
    start: new Date(currentHour - days * 24 * HOUR),
    end: new Date(currentHour),
    periodSeconds: HISTORY_PERIOD_SECONDS,
  });
  return observations;
}

/**
 * One predictive pass: per target, forecast the coming hours from its load
 * history, merge forecast, planned events and peak hours into one minimum
 * capacity timeline, and make the target's mlscale scheduled actions match it.
 * A target in an incident or paused (scheduled scaling suspended) is left alone.
 */
export async function runPredictive(all: readonly TargetSpec[], now: Date): Promise<PredictiveResult[]> {
  const targets = all.filter(isPrescaled);
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  const history = await readHistory(targets, currentHour);
  const results: PredictiveResult[] = [];

  for (const t of targets) {
    const p = t.predictive;
    const base = { target: t.name, actions: [] as PlannedAction[], put: 0, removed: 0, ...(p ? { mode: p.mode } : {}) };
    try {
      let forecast: { load: number[]; model: ForecastModel } | undefined;
      if (p) {
        const obs = history.get(t.name);
        if (obs?.error) throw new Error(`load history unreadable: ${obs.error}`);
        const hours = p.historyDays * 24;
        const start = currentHour - hours * 60 * 60_000;
        const series = hourlyPeaks((obs?.points ?? []).map((pt) => ({ t: pt.t, v: toRate(pt.v, p.load.statistic) })), start, hours);
        const known = series.values.filter((v) => v !== undefined).length;
        if (known >= MIN_HISTORY_HOURS) {
          const model = selectModel(series, p.horizonHours);
          forecast = { load: forecastHourly(series, p.horizonHours, model), model };
        }
      }

      const target = scalableTarget(t);
      const state = await target.read();
      if (state.suspension.scheduled) {
        results.push({ ...base, ...(forecast ? { forecast: forecast.load, model: forecast.model } : {}), skipped: 'scheduled scaling is suspended (incident or paused)' });
        continue;
      }
      const plan = planPrescale({
        now: now.getTime(),
        baseMin: t.minCapacity,
        max: state.max,
        currentMin: state.min,
        desired: state.desired,
        horizonHours: p?.horizonHours ?? 6,
        ...(forecast && p && p.mode === 'forecast-and-scale'
          ? { forecast: { firstHour: currentHour, load: forecast.load, perReplica: p.targetPerReplica, headroom: p.headroom, leadMinutes: p.leadMinutes } }
          : {}),
        events: t.plannedEvents,
        peakHours: t.peakHours,
      });

      // Put before remove: a failure half-way leaves extra actions, each within [min, max], never a gap.
      const { put, remove } = reconcileActions(await target.listScheduledActions(), plan.actions);
      for (const a of put) await target.putScheduledAction(a.name, new Date(a.action.at), a.action.minCapacity);
      for (const name of remove) await target.deleteScheduledAction(name);

      if (forecast && p) await publishForecast(t.name, currentHour, forecast.load, p.targetPerReplica, p.headroom, now);
      results.push({
        ...base,
        ...(forecast ? { forecast: forecast.load, model: forecast.model } : {}),
        ...(plan.forecastReplicas.length ? { replicas: plan.forecastReplicas } : {}),
        actions: plan.actions,
        put: put.length,
        removed: remove.length,
        ...(p && !forecast ? { skipped: `under ${MIN_HISTORY_HOURS} hours of load history: no forecast yet` } : {}),
      });
    } catch (err) {
      results.push({ ...base, error: (err as Error).message });
    }
  }
  return results;
}

/** Forecast load and replicas for this hour and the next (CloudWatch takes up to 2 hours ahead). */
async function publishForecast(target: string, currentHour: number, load: readonly number[], perReplica: number, headroom: number, now: Date) {
  const data: Datum[] = [];
  for (let h = 0; h < Math.min(2, load.length); h++) {
    const at = new Date(Math.min(currentHour + h * HOUR, now.getTime() + HOUR));
    data.push({ name: 'ForecastLoad', dimensions: { Target: target }, at, value: load[h]!, unit: 'Count/Second' });
    data.push({ name: 'ForecastReplicas', dimensions: { Target: target }, at, value: Math.ceil((load[h]! / perReplica) * (1 + headroom)), unit: 'Count' });
  }
  await putMetrics(FORECAST_NAMESPACE, data);
}
