/**
 * Hourly load forecasting for predictive pre-scaling. Pure functions over an
 * hourly series; docs/benchmarks.md compares them on real traces.
 *
 * - `linear-regression`: the reference scaler's model (least squares on
 *   hour-of-day, day-of-week and a trend, as numbers). Kept as the baseline.
 * - `seasonal-naive`: the same hour one week (or day) ago.
 * - `seasonal-profile`: hour-of-week profile (recency-weighted mean of the same
 *   hour in past weeks; hour-of-day when there is under a week of history),
 *   corrected by the level error of the last hours, fading with lead time.
 * - `holt-winters`: additive Holt-Winters with a damped trend and a daily
 *   season, smoothing constants fitted on the history (one-step error).
 * - `ensemble`: the mean of the two above.
 * - `auto` (default): whichever of profile, Holt-Winters and ensemble
 *   backtests best on the target's own last three days. No single model won
 *   on every trace of the benchmark; selection is within a point of the best
 *   on each.
 */

export const FORECAST_MODELS = ['auto', 'ensemble', 'holt-winters', 'seasonal-profile', 'seasonal-naive', 'linear-regression'] as const;
export type ForecastModel = (typeof FORECAST_MODELS)[number];

const HOUR = 3_600_000;
const DAY_HOURS = 24;
const WEEK_HOURS = 168;

/** Hourly values from `start` (epoch ms, on the hour); `undefined` = no data for that hour. */
export interface HourlySeries {
  readonly start: number;
  readonly values: readonly (number | undefined)[];
}

/** Fill gaps: same hour a day earlier if known, else the nearest earlier value, else the first known. */
export function fillGaps(values: readonly (number | undefined)[]): number[] {
  const firstKnown = values.find((v) => v !== undefined && Number.isFinite(v)) ?? 0;
  const out: number[] = [];
  values.forEach((v, i) => {
    if (v !== undefined && Number.isFinite(v)) out.push(v);
    else if (i >= DAY_HOURS && out[i - DAY_HOURS] !== undefined) out.push(out[i - DAY_HOURS]!);
    else out.push(i > 0 ? out[i - 1]! : firstKnown);
  });
  return out;
}

// Epoch arithmetic rather than Date objects: the simulator refits forecasts hundreds of times per trace.
const HOUR_MS = 3_600_000;
const mod = (a: number, n: number) => ((a % n) + n) % n;
const hourOfDay = (t: number) => mod(Math.floor(t / HOUR_MS), DAY_HOURS);
/** 1970-01-01 was a Thursday (getUTCDay 4): hours since Sunday 00:00 UTC. */
const hourOfWeek = (t: number) => mod(Math.floor(t / HOUR_MS) + 4 * DAY_HOURS, 7 * DAY_HOURS);

function seasonalNaive(history: HourlySeries, horizon: number): number[] {
  const x = fillGaps(history.values);
  const n = x.length;
  const period = n >= WEEK_HOURS ? WEEK_HOURS : DAY_HOURS;
  return Array.from({ length: horizon }, (_, h) => {
    const back = n + h - period * Math.ceil((h + 1) / period);
    return x[Math.max(0, back)] ?? 0;
  });
}

/** Recency-weighted hour-of-week (or hour-of-day) profile of the history. */
function buildProfile(history: HourlySeries, x: readonly number[]): (t: number) => number {
  const n = x.length;
  const weekly = n >= WEEK_HOURS;
  const bucketOf = weekly ? hourOfWeek : hourOfDay;
  const buckets = weekly ? WEEK_HOURS : DAY_HOURS;
  const period = weekly ? WEEK_HOURS : DAY_HOURS;
  // A week (day) ago counts twice as much as the one before.
  const sum = new Array<number>(buckets).fill(0);
  const weight = new Array<number>(buckets).fill(0);
  for (let i = 0; i < n; i++) {
    if (history.values[i] === undefined) continue;
    const w = Math.pow(0.5, Math.floor((n - 1 - i) / period));
    const b = bucketOf(history.start + i * HOUR);
    sum[b]! += w * x[i]!;
    weight[b]! += w;
  }
  return (t: number) => {
    const b = bucketOf(t);
    return weight[b]! > 0 ? sum[b]! / weight[b]! : 0;
  };
}

function seasonalProfile(history: HourlySeries, horizon: number): number[] {
  const x = fillGaps(history.values);
  const n = x.length;
  const profile = buildProfile(history, x);
  // Level correction: how far the last hours sat from their profile, fading with lead time.
  const recent = Math.min(6, n);
  let error = 0;
  for (let i = n - recent; i < n; i++) error += x[i]! - profile(history.start + i * HOUR);
  error /= Math.max(1, recent);
  return Array.from({ length: horizon }, (_, h) => Math.max(0, profile(history.start + (n + h) * HOUR) + error * Math.pow(0.85, h + 1)));
}

interface HoltWintersFit {
  readonly level: number;
  readonly trend: number;
  readonly seasonal: number[];
  readonly sse: number;
}

function holtWintersRun(x: readonly number[], m: number, alpha: number, beta: number, gamma: number, phi: number): HoltWintersFit {
  let level = 0;
  for (let i = 0; i < m; i++) level += x[i]!;
  level /= m;
  let second = 0;
  for (let i = m; i < 2 * m; i++) second += x[i]!;
  let trend = (second / m - level) / m;
  const seasonal = Array.from({ length: m }, (_, i) => x[i]! - level);
  let sse = 0;
  for (let t = m; t < x.length; t++) {
    const s = seasonal[t % m]!;
    const predicted = level + phi * trend + s;
    sse += (x[t]! - predicted) ** 2;
    const newLevel = alpha * (x[t]! - s) + (1 - alpha) * (level + phi * trend);
    trend = beta * (newLevel - level) + (1 - beta) * phi * trend;
    seasonal[t % m] = gamma * (x[t]! - newLevel) + (1 - gamma) * s;
    level = newLevel;
  }
  return { level, trend, seasonal, sse };
}

/** Smoothing constants of a Holt-Winters fit (phi: trend damping). */
export interface HoltWintersParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

const HW_PHI = 0.9;

/** The smoothing constants with the least one-step error on `x` (a grid of 90). */
function fitHoltWintersParams(x: readonly number[], m: number): HoltWintersParams {
  let best: { fit: HoltWintersFit; params: HoltWintersParams } | undefined;
  for (const alpha of [0.05, 0.1, 0.2, 0.35, 0.5, 0.7]) {
    for (const beta of [0, 0.01, 0.05]) {
      for (const gamma of [0.05, 0.1, 0.2, 0.35, 0.5]) {
        const fit = holtWintersRun(x, m, alpha, beta, gamma, HW_PHI);
        if (!best || fit.sse < best.fit.sse) best = { fit, params: { alpha, beta, gamma } };
      }
    }
  }
  return best!.params;
}

/**
 * Holt-Winters with a damped trend and a daily season. `params` fixed: one
 * run (the backtest reuses the constants it fitted once); else the grid.
 */
function holtWinters(history: HourlySeries, horizon: number, params?: HoltWintersParams): number[] {
  const x = fillGaps(history.values);
  const n = x.length;
  const m = DAY_HOURS;
  if (n < 2 * m) return seasonalNaive(history, horizon);
  const phi = HW_PHI;
  const p = params ?? fitHoltWintersParams(x, m);
  const fit = holtWintersRun(x, m, p.alpha, p.beta, p.gamma, phi);
  let damp = 0;
  return Array.from({ length: horizon }, (_, h) => {
    damp += Math.pow(phi, h + 1);
    return Math.max(0, fit.level + damp * fit.trend + fit.seasonal[(n + h) % m]!);
  });
}

/** Solve the normal equations A·b = y by Gaussian elimination (tiny systems). */
function leastSquares(rows: readonly number[][], y: readonly number[]): number[] {
  const k = rows[0]!.length;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  rows.forEach((r, i) => {
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < k; q++) a[p]![q]! += r[p]! * r[q]!;
      a[p]![k]! += r[p]! * y[i]!;
    }
  });
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    if (Math.abs(a[c]![c]!) < 1e-12) continue;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let q = c; q <= k; q++) a[r]![q]! -= f * a[c]![q]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[k]! / row[i]!));
}

function linearRegression(history: HourlySeries, horizon: number): number[] {
  const x = fillGaps(history.values);
  const features = (t: number, i: number) => [1, i, new Date(t).getUTCHours(), new Date(t).getUTCDay()];
  const rows = x.map((_, i) => features(history.start + i * HOUR, i));
  const b = leastSquares(rows, x);
  return Array.from({ length: horizon }, (_, h) => {
    const i = x.length + h;
    const f = features(history.start + i * HOUR, i);
    return Math.max(0, f.reduce((acc, v, j) => acc + v * b[j]!, 0));
  });
}

const AUTO_CANDIDATES: readonly ForecastModel[] = ['seasonal-profile', 'holt-winters', 'ensemble'];

/**
 * Pick the candidate with the lowest absolute error when backtested on the
 * history's own last three days (origins every 6 hours): traffic with a firm
 * weekly shape gets the profile, bursty traffic the adaptive Holt-Winters.
 */
export function selectModel(history: HourlySeries, horizon: number): ForecastModel {
  return backtest(history, horizon).model;
}

/** Hours of its own history a target's forecast is backtested on. */
export const BACKTEST_HOURS = 72;

/**
 * Backtest the candidates on the history's own last three days (origins
 * every 6 hours, each forecasting `horizon` hours as it would have then) and
 * return the best with its WAPE (Σ|forecast − actual| ÷ Σ actual). With under
 * five days of history there is nothing to backtest on: WAPE is undefined.
 */
export function backtest(history: HourlySeries, horizon: number): { model: ForecastModel; wape: number | undefined } {
  const n = history.values.length;
  if (n < BACKTEST_HOURS + 2 * DAY_HOURS) return { model: 'seasonal-profile', wape: undefined };
  const first = n - BACKTEST_HOURS;
  // Holt-Winters' constants are fitted once, on the history before the backtest window, and reused at
  // every origin: the backtest then costs one run per origin instead of a grid of 90 (the simulator
  // refits every 6 hours over traces of months).
  const params = fitHoltWintersParams(fillGaps(history.values.slice(0, first)), DAY_HOURS);
  const errors = new Map<ForecastModel, number>(AUTO_CANDIDATES.map((m) => [m, 0]));
  let actualSum = 0;
  for (let origin = first; origin + horizon <= n; origin += 6) {
    const past = { start: history.start, values: history.values.slice(0, origin) };
    const profile = seasonalProfile(past, horizon);
    const hw = holtWinters(past, horizon, params);
    const predicted: Record<string, number[]> = { 'seasonal-profile': profile, 'holt-winters': hw, ensemble: profile.map((v, i) => (v + hw[i]!) / 2) };
    for (let h = 0; h < horizon; h++) {
      const actual = history.values[origin + h];
      if (actual === undefined) continue;
      actualSum += actual;
      for (const model of AUTO_CANDIDATES) errors.set(model, errors.get(model)! + Math.abs(predicted[model]![h]! - actual));
    }
  }
  let best: { model: ForecastModel; error: number } | undefined;
  for (const model of AUTO_CANDIDATES) if (!best || errors.get(model)! < best.error) best = { model, error: errors.get(model)! };
  return { model: best!.model, wape: actualSum > 0 ? best!.error / actualSum : undefined };
}

/** Forecasts are refitted on AWS predictive scaling's cadence: every 6 hours, at 00, 06, 12 and 18 UTC. */
export const REFIT_HOURS = 6;

/** The refit the forecast in force at `now` came from. */
export const forecastOrigin = (now: number) => Math.floor(now / (REFIT_HOURS * HOUR)) * REFIT_HOURS * HOUR;

export interface FittedForecast {
  /** The refit time (epoch ms, a 6-hour boundary): the forecast's first hour. */
  readonly origin: number;
  readonly model: ForecastModel;
  /** Load per hour from `origin`, for REFIT_HOURS + horizon hours. */
  readonly load: readonly number[];
  /** The model's backtest WAPE on this target's own history (undefined: too little history to tell). */
  readonly wape: number | undefined;
}

/**
 * Fit the forecast in force from `origin` on the history up to it: the model
 * the backtest picks, forecasting until the next refit plus the horizon.
 */
/** Below a day of history the forecast has no season to go on (AWS predictive scaling asks the same). */
export const MIN_HISTORY_HOURS = 24;

/** Whether `history` has enough hours with a datapoint to forecast from (the Lambda and the simulator alike). */
export function enoughHistory(history: HourlySeries): boolean {
  return knownHours(history) >= MIN_HISTORY_HOURS;
}

/** Hours of `history` that have a datapoint. */
export function knownHours(history: HourlySeries): number {
  return history.values.filter((v) => v !== undefined).length;
}

export function fitForecast(history: HourlySeries, origin: number, horizonHours: number): FittedForecast {
  const { model, wape } = backtest(history, horizonHours);
  return { origin, model, load: forecastHourly(history, REFIT_HOURS + horizonHours, model), wape };
}

/** The fitted forecast's hours from `hourStart` on (req/s per hour). */
export function forecastFrom(fitted: FittedForecast, hourStart: number): number[] {
  return fitted.load.slice(Math.max(0, Math.round((hourStart - fitted.origin) / HOUR)));
}

/**
 * Is the forecast good enough to act on? Only when its backtest error on
 * this target is known and under the threshold; otherwise mlscale falls back
 * to plain reactive scaling, and says why.
 */
export function forecastTrust(fitted: Pick<FittedForecast, 'wape' | 'model'>, maxWape: number): { trusted: boolean; reason: string } {
  if (fitted.wape === undefined) return { trusted: false, reason: 'under five days of history: the forecast has not been backtested yet' };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  if (fitted.wape > maxWape) return { trusted: false, reason: `backtest error ${pct(fitted.wape)} (${fitted.model}) is above ${pct(maxWape)}: reactive scaling only` };
  return { trusted: true, reason: `backtest error ${pct(fitted.wape)} (${fitted.model}) is within ${pct(maxWape)}` };
}

/** The model mlscale uses unless told otherwise (chosen by the forecast benchmark). */
export const DEFAULT_FORECAST_MODEL: ForecastModel = 'auto';

/** Forecast the next `horizon` hours after the history. Never negative. */
export function forecastHourly(history: HourlySeries, horizon: number, model: ForecastModel = DEFAULT_FORECAST_MODEL): number[] {
  if (!Number.isInteger(horizon) || horizon < 1) throw new Error(`horizon must be a positive whole number of hours, got ${horizon}`);
  if (history.values.every((v) => v === undefined)) return new Array<number>(horizon).fill(0);
  switch (model) {
    case 'auto':
      return forecastHourly(history, horizon, selectModel(history, horizon));
    case 'ensemble': {
      const a = seasonalProfile(history, horizon);
      const b = holtWinters(history, horizon);
      return a.map((v, i) => (v + b[i]!) / 2);
    }
    case 'holt-winters':
      return holtWinters(history, horizon);
    case 'seasonal-profile':
      return seasonalProfile(history, horizon);
    case 'seasonal-naive':
      return seasonalNaive(history, horizon);
    case 'linear-regression':
      return linearRegression(history, horizon);
  }
}

/**
 * Hourly peak load from finer points (e.g. 5-minute request sums turned into
 * req/s): capacity must cover the busiest part of each hour, not its average.
 */
export function hourlyPeaks(points: readonly { t: number; v: number }[], start: number, hours: number): HourlySeries {
  const values = new Array<number | undefined>(hours).fill(undefined);
  for (const p of points) {
    const i = Math.floor((p.t - start) / HOUR);
    if (i < 0 || i >= hours || !Number.isFinite(p.v)) continue;
    values[i] = Math.max(values[i] ?? -Infinity, p.v);
  }
  return { start, values };
}
