import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORECAST_MODELS, fillGaps, forecastHourly, hourlyPeaks, selectModel, type ForecastModel, type HourlySeries } from '../../lambdas/core/forecast';

const HOUR = 3_600_000;
/** Monday 2026-05-04 00:00Z. */
const START = Date.UTC(2026, 4, 4);

/** Daily shape: 40 req/s at 00:00, 160 at 12:00. */
const daily = (i: number) => 100 + 60 * Math.sin((2 * Math.PI * (new Date(START + i * HOUR).getUTCHours() - 6)) / 24);
/** The daily shape at half height on Saturdays and Sundays. */
const weekly = (i: number) => {
  const day = new Date(START + i * HOUR).getUTCDay();
  return daily(i) * (day === 0 || day === 6 ? 0.5 : 1);
};

function history(fn: (i: number) => number, hours: number): HourlySeries {
  return { start: START, values: Array.from({ length: hours }, (_, i) => fn(i)) };
}

const truthAfter = (fn: (i: number) => number, hours: number, horizon: number) => Array.from({ length: horizon }, (_, h) => fn(hours + h));

/** Weighted absolute percentage error: sum |forecast - truth| / sum truth. */
const wape = (forecast: readonly number[], truth: readonly number[]) =>
  forecast.reduce((acc, v, i) => acc + Math.abs(v - truth[i]!), 0) / truth.reduce((a, b) => a + b, 0);

/** Largest error of one hour relative to that hour's truth. */
const worstHour = (forecast: readonly number[], truth: readonly number[]) => Math.max(...forecast.map((v, i) => Math.abs(v - truth[i]!) / truth[i]!));

/** History lengths ending at different hours of the day and days of the week. */
const ENDS = [0, 7, 13, 19, 29, 41];

describe('Function: forecastHourly', () => {
  it.each(['seasonal-profile', 'auto'] as const)('%s forecasts a weekly pattern within 1%% after three weeks', (model) => {
    for (const extra of ENDS) {
      const hours = 21 * 24 + extra;
      const forecast = forecastHourly(history(weekly, hours), 12, model);
      const truth = truthAfter(weekly, hours, 12);
      expect(worstHour(forecast, truth)).toBeLessThan(0.01);
    }
  });

  it('seasonal-profile forecasts a daily pattern from under a week of history', () => {
    const forecast = forecastHourly(history(daily, 3 * 24 + 5), 8, 'seasonal-profile');
    expect(worstHour(forecast, truthAfter(daily, 3 * 24 + 5, 8))).toBeLessThan(0.01);
  });

  it('seasonal-profile still forecasts a weekly pattern when a tenth of the history is missing', () => {
    const hours = 21 * 24 + 7;
    const values = history(weekly, hours).values.map((v, i) => (i % 10 === 3 ? undefined : v));
    const forecast = forecastHourly({ start: START, values }, 12, 'seasonal-profile');
    expect(worstHour(forecast, truthAfter(weekly, hours, 12))).toBeLessThan(0.01);
  });

  it.each(['holt-winters', 'auto'] as const)('%s forecasts a daily pattern with a linear trend within 3%%', (model) => {
    const trended = (i: number) => daily(i) + 0.1 * i;
    for (const extra of ENDS) {
      const hours = 14 * 24 + extra;
      const forecast = forecastHourly(history(trended, hours), 6, model);
      const truth = truthAfter(trended, hours, 6);
      expect(wape(forecast, truth)).toBeLessThan(0.03);
      expect(worstHour(forecast, truth)).toBeLessThan(0.05);
    }
  });

  it('is clearly better than linear-regression on a weekly-seasonal series', () => {
    for (const extra of ENDS) {
      const hours = 21 * 24 + extra;
      const truth = truthAfter(weekly, hours, 12);
      const best = wape(forecastHourly(history(weekly, hours), 12, 'auto'), truth);
      const baseline = wape(forecastHourly(history(weekly, hours), 12, 'linear-regression'), truth);
      expect(baseline).toBeGreaterThan(0.2);
      expect(best * 10).toBeLessThan(baseline);
    }
  });

  it('returns zeros when the whole history is missing', () => {
    for (const model of FORECAST_MODELS) {
      expect(forecastHourly({ start: START, values: new Array(200).fill(undefined) }, 4, model)).toEqual([0, 0, 0, 0]);
    }
  });

  it('returns `horizon` values', () => {
    for (const model of FORECAST_MODELS) expect(forecastHourly(history(weekly, 200), 7, model)).toHaveLength(7);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects the horizon %s', (horizon) => {
    expect(() => forecastHourly(history(daily, 48), horizon)).toThrow(/horizon must be a positive whole number of hours/);
  });

  it('never forecasts below zero for traffic falling to nothing', () => {
    const falling = (i: number) => Math.max(0, 300 - 1.5 * i + 30 * Math.sin(i / 3));
    for (const model of FORECAST_MODELS) {
      for (const v of forecastHourly(history(falling, 220), 24, model)) expect(v).toBeGreaterThanOrEqual(0);
    }
  });

  it('never forecasts below zero, whatever the history (property)', () => {
    const valuesArb = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.double({ min: 0, max: 1_000, noNaN: true }) },
        { weight: 1, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant(Number.NaN) },
      ),
      { minLength: 1, maxLength: 200 },
    );
    fc.assert(
      fc.property(valuesArb, fc.integer({ min: 1, max: 12 }), fc.constantFrom(...FORECAST_MODELS), (values, horizon, model) => {
        const forecast = forecastHourly({ start: START, values }, horizon, model);
        expect(forecast).toHaveLength(horizon);
        for (const v of forecast) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 250 },
    );
  });
});

describe('Function: selectModel', () => {
  it('picks seasonal-profile on a clean weekly pattern', () => {
    for (const extra of ENDS) expect(selectModel(history(weekly, 21 * 24 + extra), 6)).toBe('seasonal-profile');
  });

  it('picks holt-winters on a daily pattern with a trend', () => {
    expect(selectModel(history((i) => daily(i) + 0.1 * i, 14 * 24 + 7), 6)).toBe('holt-winters');
  });

  it('falls back to seasonal-profile without enough history to backtest', () => {
    expect(selectModel(history((i) => daily(i) + 0.1 * i, 5 * 24 - 1), 6)).toBe('seasonal-profile');
  });

  it('only picks one of the auto candidates', () => {
    const noisy = (i: number) => 50 + 40 * Math.sin(i * 1.7) + (i % 17);
    expect(['seasonal-profile', 'holt-winters', 'ensemble'] satisfies ForecastModel[]).toContain(selectModel(history(noisy, 10 * 24), 6));
  });
});

describe('Function: fillGaps', () => {
  it('fills leading gaps with the first known value and later gaps with the previous one', () => {
    expect(fillGaps([undefined, undefined, 5, undefined, 7, undefined])).toEqual([5, 5, 5, 5, 7, 7]);
  });

  it('prefers the same hour a day earlier', () => {
    const values: (number | undefined)[] = Array.from({ length: 30 }, (_, i) => i);
    values[26] = undefined;
    expect(fillGaps(values)[26]).toBe(2);
  });

  it('treats non-finite values as gaps', () => {
    expect(fillGaps([1, Number.NaN, Number.POSITIVE_INFINITY, 4])).toEqual([1, 1, 1, 4]);
  });

  it('does not take a leading non-finite value as the first known one', () => {
    expect(fillGaps([Number.NaN, undefined, 3])).toEqual([3, 3, 3]);
  });

  it('gives zeros when nothing is known', () => {
    expect(fillGaps([undefined, undefined])).toEqual([0, 0]);
    expect(fillGaps([])).toEqual([]);
  });

  it('keeps every known value and leaves no gap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.constant(undefined), fc.constant(Number.NaN)), { maxLength: 80 }), (values) => {
        const filled = fillGaps(values);
        expect(filled).toHaveLength(values.length);
        values.forEach((v, i) => {
          if (v !== undefined && Number.isFinite(v)) expect(filled[i]).toBe(v);
          else expect(Number.isFinite(filled[i])).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: hourlyPeaks', () => {
  it('takes the maximum of each hour and leaves hours without points undefined', () => {
    const points = [
      { t: START + 5 * 60_000, v: 3 },
      { t: START + 50 * 60_000, v: 9 },
      { t: START + 55 * 60_000, v: 4 },
      { t: START + 2 * HOUR, v: 1 },
      { t: START + 2 * HOUR + 59 * 60_000, v: 2 },
    ];
    expect(hourlyPeaks(points, START, 3)).toEqual({ start: START, values: [9, undefined, 2] });
  });

  it('ignores points outside the range and non-finite values', () => {
    const points = [
      { t: START - 1, v: 100 },
      { t: START + 2 * HOUR, v: 100 },
      { t: START + 10, v: Number.NaN },
      { t: START + 20, v: Number.POSITIVE_INFINITY },
      { t: START + 30, v: 6 },
    ];
    expect(hourlyPeaks(points, START, 2).values).toEqual([6, undefined]);
  });

  it('keeps an hour whose only value is zero', () => {
    expect(hourlyPeaks([{ t: START, v: 0 }], START, 1).values).toEqual([0]);
  });
});
