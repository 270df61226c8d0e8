/**
 * Load traces for the simulator: a CSV read into one load value (req/s) per
 * minute. Two shapes are accepted:
 * - a rate series: a time column and a `requests` / `value` / `rps` / `load`
 *   / `count` column, at any regular interval (values taken as req/s);
 * - a request log: one row per request with a time column (counted per minute).
 * Times: ISO-8601 (a time without a zone is UTC; `YYYY-MM-DD HH:MM:SS` too),
 * or epoch seconds / milliseconds.
 */

const MINUTE = 60_000;

export interface MinuteTrace {
  readonly name: string;
  /** Epoch ms of the first minute. */
  readonly start: number;
  /** Load per minute, requests per second. */
  readonly rps: readonly number[];
  readonly shape: 'rate series' | 'request log';
  /** Interval of the source rows, in seconds (60 for a request log). */
  readonly intervalSeconds: number;
  /** Source intervals missing from a rate series, filled by holding the previous value. */
  readonly gapsFilled: number;
}

/** A trace that cannot be read: one line naming the file and what is wrong. */
export class TraceError extends Error {
  constructor(source: string, message: string) {
    super(`trace ${source}: ${message}`);
    this.name = 'TraceError';
  }
}

const TIME_COLUMNS = ['timestamp', 'time', 'ts', 'datetime', 'date', 'minute'];
const VALUE_COLUMNS = ['rps', 'requests', 'value', 'load', 'count', 'requests_per_second'];

/** Parse one timestamp: ISO-8601 or epoch seconds/milliseconds. NaN when it is neither. */
export function parseTimestamp(text: string): number {
  const s = text.trim().replace(/^"|"$/g, '');
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Epoch seconds until the year 5138; milliseconds above.
    return n < 1e11 ? n * 1000 : n;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return NaN;
  const iso = s.replace(' ', 'T');
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  return Date.parse(zoned);
}

function splitLine(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
}

/** Read a CSV text into a per-minute load trace. */
export function parseTrace(text: string, source = 'trace'): MinuteTrace {
  // Keep each row's line number in the file (comments and blank lines count) for the error messages.
  const rows = text
    .split(/\r?\n/)
    .map((l, i) => ({ l, no: i + 1 }))
    .filter(({ l }) => l.trim() !== '' && !l.startsWith('#'));
  const lines = rows.map((r) => r.l);
  if (lines.length < 2) throw new TraceError(source, 'needs a header row and at least one data row');
  const header = splitLine(lines[0]!).map((h) => h.toLowerCase());
  const timeCol = header.findIndex((h) => TIME_COLUMNS.includes(h));
  if (timeCol < 0) throw new TraceError(source, `no time column (one of ${TIME_COLUMNS.join(', ')}) in header '${lines[0]}'`);
  const valueCol = header.findIndex((h) => VALUE_COLUMNS.includes(h));

  const times: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitLine(lines[i]!);
    const t = parseTimestamp(cells[timeCol] ?? '');
    if (!Number.isFinite(t)) throw new TraceError(source, `line ${rows[i]!.no}: cannot read time '${cells[timeCol] ?? ''}' (ISO-8601 or epoch seconds)`);
    times.push(t);
    if (valueCol >= 0) {
      const v = Number(cells[valueCol]);
      if (!Number.isFinite(v) || v < 0) throw new TraceError(source, `line ${rows[i]!.no}: ${header[valueCol]} must be a number >= 0, got '${cells[valueCol] ?? ''}'`);
      values.push(v);
    }
  }
  return valueCol >= 0 ? rateSeries(source, times, values) : requestLog(source, times);
}

function rateSeries(source: string, times: number[], values: number[]): MinuteTrace {
  const order = times.map((_, i) => i).sort((a, b) => times[a]! - times[b]!);
  const t = order.map((i) => times[i]!);
  const v = order.map((i) => values[i]!);
  if (t.length < 2) throw new TraceError(source, 'a rate series needs at least two rows');
  const diffs = t.slice(1).map((x, i) => x - t[i]!).sort((a, b) => a - b);
  const interval = diffs[Math.floor(diffs.length / 2)]!;
  if (interval <= 0) throw new TraceError(source, 'duplicate timestamps: the rows must be one per interval');
  const start = Math.floor(t[0]! / MINUTE) * MINUTE;
  const minutes = Math.max(1, Math.round((t[t.length - 1]! + interval - start) / MINUTE));
  const sum = new Float64Array(minutes);
  const weight = new Float64Array(minutes);
  let gaps = 0;
  // Each row holds its value from its time until the next row's (a step function), across gaps too.
  for (let i = 0; i < t.length; i++) {
    const from = t[i]!;
    const next = i + 1 < t.length ? t[i + 1]! : from + interval;
    if (next - from > 1.5 * interval) gaps += Math.round((next - from) / interval) - 1;
    for (let m = Math.floor((from - start) / MINUTE); m < minutes && start + m * MINUTE < next; m++) {
      const lo = Math.max(from, start + m * MINUTE);
      const hi = Math.min(next, start + (m + 1) * MINUTE);
      if (hi <= lo) continue;
      sum[m]! += v[i]! * (hi - lo);
      weight[m]! += hi - lo;
    }
  }
  const rps = Array.from(sum, (s, m) => (weight[m]! > 0 ? s / weight[m]! : 0));
  return { name: source, start, rps, shape: 'rate series', intervalSeconds: interval / 1000, gapsFilled: gaps };
}

function requestLog(source: string, times: number[]): MinuteTrace {
  const first = -maxOf(times.map((t) => -t));
  const last = maxOf(times);
  const start = Math.floor(first / MINUTE) * MINUTE;
  const minutes = Math.floor((last - start) / MINUTE) + 1;
  const counts = new Float64Array(minutes);
  for (const t of times) counts[Math.floor((t - start) / MINUTE)]! += 1;
  return { name: source, start, rps: Array.from(counts, (c) => c / 60), shape: 'request log', intervalSeconds: 60, gapsFilled: 0 };
}

/** Largest value (Math.max(...xs) overflows the stack on long traces). */
export function maxOf(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  return m;
}

/** Scale a trace so its peak minute needs `fraction` × the pool's full capacity. */
export function rescaleToPeak(trace: MinuteTrace, fraction: number, fullCapacityRps: number): MinuteTrace {
  if (!(fraction > 0)) throw new TraceError(trace.name, `--peak-utilization must be > 0, got ${fraction}`);
  const peak = maxOf(trace.rps);
  if (peak <= 0) throw new TraceError(trace.name, 'has no load at all; nothing to rescale');
  const k = (fraction * fullCapacityRps) / peak;
  return { ...trace, rps: trace.rps.map((x) => x * k) };
}

/** Minutes [from, to) of a trace. */
export function sliceTrace(trace: MinuteTrace, from: number, to: number): MinuteTrace {
  return { ...trace, start: trace.start + from * MINUTE, rps: trace.rps.slice(from, to) };
}
