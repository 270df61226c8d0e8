/**
 * Forecast accuracy on real traces: rolling origin every 6 hours, 14 days of
 * hourly-peak history, 6-hour horizon (what the predictive Lambda does).
 * Reports WAPE (sum |error| / sum actual) and the share of hours
 * under-forecast by more than 10 % (the ones that cost SLO).
 */
import { FORECAST_MODELS, forecastHourly, hourlyPeaks, type ForecastModel } from '../lambdas/core/forecast';
import type { RawTrace } from './trace-io';

const HOUR = 3_600_000;

export interface ForecastScore {
  readonly trace: string;
  readonly model: ForecastModel;
  readonly origins: number;
  readonly wape: number;
  readonly underTenPct: number;
  readonly msPerForecast: number;
}

export function scoreForecasts(trace: RawTrace, historyDays = 14, horizon = 6, stepHours = 6): ForecastScore[] {
  const start = Math.ceil(trace.points[0]!.t / HOUR) * HOUR;
  const hours = Math.floor((trace.points[trace.points.length - 1]!.t - start) / HOUR);
  const series = hourlyPeaks(trace.points, start, hours);
  // Short traces (the ELB one is 14 days) get half their length as history.
  const historyHours = Math.min(historyDays * 24, Math.floor(hours / 2 / 24) * 24);
  return FORECAST_MODELS.map((model) => {
    let absErr = 0;
    let actualSum = 0;
    let under = 0;
    let count = 0;
    let origins = 0;
    let elapsed = 0;
    for (let origin = historyHours; origin + horizon <= hours; origin += stepHours) {
      const history = { start: start + (origin - historyHours) * HOUR, values: series.values.slice(origin - historyHours, origin) };
      const t0 = performance.now();
      const predicted = forecastHourly(history, horizon, model);
      elapsed += performance.now() - t0;
      origins++;
      for (let h = 0; h < horizon; h++) {
        const actual = series.values[origin + h];
        if (actual === undefined) continue;
        absErr += Math.abs(predicted[h]! - actual);
        actualSum += actual;
        if (predicted[h]! < actual * 0.9) under++;
        count++;
      }
    }
    return { trace: trace.name, model, origins, wape: absErr / actualSum, underTenPct: under / count, msPerForecast: elapsed / origins };
  });
}
