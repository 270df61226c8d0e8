/**
 * Load traces for the simulator: a CSV turned into one load value (req/s) per
 * minute. Two shapes are accepted:
 * - a rate series: a time column and a `requests` / `value` / `rps` / `load`
 *   / `count` column, at any regular interval (values taken as req/s, each
 *   the mean rate over its interval);
 * - a request log: a header with the time column alone, one row per request
 *   (counted per minute).
 * Times: ISO-8601 (a time without a zone is UTC; `YYYY-MM-DD HH:MM:SS` too),
 * or epoch seconds / milliseconds.
 *
 * A file is streamed, never held whole: one pass checks every row and learns
 * the interval, gaps and span (`openTraceFile`); each later pass
 * (`forEachMinute`) turns the rows into minutes as it reads them. Only rows
 * that are out of time order are sorted in memory.
 *
 * Per minute:
 * - intervals up to INTERPOLATE_ABOVE_SECONDS (5 minutes) hold each row's
 *   value over its interval (finer rows are averaged per minute);
 * - coarser intervals (30-minute points) are joined linearly: each row is
 *   placed at the middle of its interval and a minute takes the line's value
 *   at its start, so the load ramps between points instead of jumping;
 * - a gap (rows further apart than 1.5 intervals) up to MAX_GAP_HOURS is
 *   filled the same way (held, or interpolated) and reported; a longer one
 *   is an error.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Source intervals longer than this are interpolated linearly between points; up to it, each row's value is held. */
export const INTERPOLATE_ABOVE_SECONDS = 300;
/** A gap between two rows longer than this is an error (a metric outage, not load); shorter ones are filled. */
export const MAX_GAP_HOURS = 6;

export type TraceShape = 'rate series' | 'request log';

/** How a trace was rescaled (`--peak-utilization`). */
export interface TraceRescale {
  readonly factor: number;
  /** The peak minute needs this share of the pool's full capacity. */
  readonly fraction: number;
  readonly fullCapacityRps: number;
  /** Peak minute of the trace before rescaling (its own units). */
  readonly rawPeak: number;
}

/** What is known of a trace besides its minutes. */
export interface TraceMeta {
  readonly name: string;
  /** Epoch ms of the first minute. */
  readonly start: number;
  readonly shape: TraceShape;
  /** Interval of the source rows, in seconds (60 for a request log). */
  readonly intervalSeconds: number;
  /** Source intervals missing from a rate series (filled: held or interpolated). */
  readonly gapsFilled: number;
  /** Rows were joined linearly (interval above INTERPOLATE_ABOVE_SECONDS). */
  readonly interpolated?: boolean;
  /** Minutes without a row inside the gaps. */
  readonly gapMinutes?: number;
  /** The longest gap: minutes without a row, and where it starts (epoch ms). */
  readonly largestGap?: { readonly minutes: number; readonly from: number };
  readonly rescale?: TraceRescale;
}

/** A trace in memory: one value per minute. */
export interface MinuteTrace extends TraceMeta {
  /** Load per minute, requests per second. */
  readonly rps: readonly number[];
}

/** A trace read from its source on every pass: minutes in order, nothing kept. */
export interface TraceStream extends TraceMeta {
  readonly minutes: number;
  /** Call `fn` with each minute's load (req/s), in order: one pass over the source. */
  forEachMinute(fn: (rps: number) => void): void;
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

/** One cell: trimmed, its quotes removed. */
function cellText(raw: string | undefined): string {
  if (raw === undefined) return '';
  const c = raw.trim();
  return c.length > 0 && (c.charCodeAt(0) === 34 || c.charCodeAt(c.length - 1) === 34) ? c.replace(/^"|"$/g, '') : c;
}

function splitLine(line: string): string[] {
  return line.split(',').map(cellText);
}

/** A cell as an error message may show it: printable characters only, at most 40. */
export function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

/** Lines of a source, numbered from 1 as in the file; can be read more than once. */
export interface LineSource {
  forEachLine(fn: (text: string, no: number) => void): void;
}

/** The lines of a text in memory. */
export function textLines(text: string, source = 'trace'): LineSource {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new TraceError(source, `is not a text CSV: it holds binary data (a NUL byte at character ${nul + 1})`);
  return {
    forEachLine(fn) {
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) fn(lines[i]!, i + 1);
    },
  };
}

const CHUNK = 1 << 16;

/** The lines of a file, read in 64 KiB chunks on every pass (a binary or non-UTF-8 file is an error, its bytes never shown). */
export function fileLines(file: string, source = file): LineSource {
  return {
    forEachLine(fn) {
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch (err) {
        throw new TraceError(source, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        const decoder = new TextDecoder('utf-8', { fatal: true });
        let offset = 0;
        let rest = '';
        let no = 0;
        for (;;) {
          let n: number;
          try {
            n = readSync(fd, buf, 0, CHUNK, null);
          } catch (err) {
            throw new TraceError(source, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
          }
          const bytes = buf.subarray(0, n);
          const nul = bytes.indexOf(0);
          if (nul >= 0) throw new TraceError(source, `is not a text CSV: it holds binary data (a NUL byte at byte ${offset + nul + 1})`);
          let text: string;
          try {
            text = decoder.decode(bytes, { stream: n > 0 });
          } catch {
            throw new TraceError(source, `is not a text CSV: bytes ${offset + 1}-${offset + Math.max(1, n)} are not UTF-8 text`);
          }
          offset += n;
          const parts = (rest + text).split('\n');
          rest = n > 0 ? parts.pop()! : '';
          for (const p of parts) fn(p.endsWith('\r') ? p.slice(0, -1) : p, ++no);
          if (n === 0) break;
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

interface Header {
  readonly timeCol: number;
  /** -1: a request log. */
  readonly valueCol: number;
  readonly valueName: string;
}

function readHeader(line: string, source: string): Header {
  const header = splitLine(line).map((h) => h.toLowerCase());
  const timeCol = header.findIndex((h) => TIME_COLUMNS.includes(h));
  if (timeCol < 0) throw new TraceError(source, `no time column (one of ${TIME_COLUMNS.join(', ')}) in header '${shown(line)}'`);
  const valueCol = header.findIndex((h) => VALUE_COLUMNS.includes(h));
  // A request log says so: its header is the time column alone. Any other column without a known value
  // column is a rate series whose value column the reader does not know, not a log to count.
  if (valueCol < 0 && header.length > 1) {
    throw new TraceError(
      source,
      `no value column (one of ${VALUE_COLUMNS.join(', ')}) in header '${shown(line)}'; a request log (one row per request) has the time column alone`,
    );
  }
  return { timeCol, valueCol, valueName: valueCol >= 0 ? header[valueCol]! : '' };
}

/** Every data row of a source, checked: time (epoch ms), value (req/s; 1 for a request log) and line number. */
function forEachRow(lines: LineSource, source: string, fn: (t: number, v: number, line: number) => void, onHeader?: (h: Header) => void): { header: Header; rows: number } {
  let header: Header | undefined;
  let content = 0;
  let rows = 0;
  lines.forEachLine((text, no) => {
    // A byte-order mark starts the file, whatever its first line is.
    const l = no === 1 ? text.replace(/^\ufeff/, '') : text;
    if (l.trim() === '' || l.startsWith('#')) return;
    content++;
    if (!header) {
      header = readHeader(l, source);
      onHeader?.(header);
      return;
    }
    // Only the two cells that matter are trimmed and unquoted.
    const cells = l.split(',');
    const cell = cellText(cells[header.timeCol]);
    const t = parseTimestamp(cell);
    if (!Number.isFinite(t)) throw new TraceError(source, `line ${no}: cannot read time '${shown(cell)}' (ISO-8601 or epoch seconds)`);
    let v = 1;
    if (header.valueCol >= 0) {
      const raw = cellText(cells[header.valueCol]);
      v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v) || v < 0) throw new TraceError(source, `line ${no}: ${header.valueName} must be a number >= 0, got '${shown(raw)}'`);
    }
    rows++;
    fn(t, v, no);
  });
  if (content === 0) throw new TraceError(source, 'is empty');
  if (!header || rows === 0) throw new TraceError(source, 'needs a header row and at least one data row');
  return { header, rows };
}

const when = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const hours = (ms: number) => `${(ms / HOUR).toFixed(1)} hours`;

/** What the first pass learns of the rows (in time order). */
interface RowStats {
  first: number;
  last: number;
  prev: { t: number; line: number } | undefined;
  diffs: Map<number, number>;
  largest: { d: number; from: number; line: number; nextLine: number };
}

function newStats(): RowStats {
  return { first: Infinity, last: -Infinity, prev: undefined, diffs: new Map(), largest: { d: 0, from: 0, line: 0, nextLine: 0 } };
}

/** One row in time order: duplicates are an error; intervals are counted. */
function observeSorted(s: RowStats, t: number, line: number, source: string): void {
  if (s.prev) {
    const d = t - s.prev.t;
    if (d === 0) throw new TraceError(source, `duplicate timestamp ${when(t)} on lines ${s.prev.line} and ${line}: the rows must be one per interval`);
    s.diffs.set(d, (s.diffs.get(d) ?? 0) + 1);
    if (d > s.largest.d) s.largest = { d, from: s.prev.t, line: s.prev.line, nextLine: line };
  }
  s.first = Math.min(s.first, t);
  s.last = Math.max(s.last, t);
  s.prev = { t, line };
}

/** The median interval between rows (as the simulator has always taken it), from the counts of each interval. */
function medianInterval(diffs: Map<number, number>, count: number): number {
  const target = Math.floor(count / 2);
  let seen = 0;
  for (const d of [...diffs.keys()].sort((a, b) => a - b)) {
    seen += diffs.get(d)!;
    if (seen > target) return d;
  }
  return 0;
}

/** Rows kept in memory when the file is not in time order (sorted once, then replayed from memory). */
interface SortedRows {
  readonly t: Float64Array;
  readonly v: Float64Array;
}

/** Open a trace: check every row once, learn its shape, interval, gaps and span. */
export function readTrace(lines: LineSource, source = 'trace'): TraceStream {
  const stats = newStats();
  let sorted = true;
  let prevT = -Infinity;
  let isLog = false;
  const { header, rows } = forEachRow(
    lines,
    source,
    (t, _v, line) => {
      if (t < prevT) sorted = false;
      prevT = t;
      // A request log repeats times (several requests in a second); a rate series may not.
      if (isLog) [stats.first, stats.last] = [Math.min(stats.first, t), Math.max(stats.last, t)];
      else if (sorted) observeSorted(stats, t, line, source);
    },
    (h) => (isLog = h.valueCol < 0),
  );
  let memory: SortedRows | undefined;
  const log = header.valueCol < 0;
  let s = stats;
  if (!sorted) {
    // Out of time order: the one case a trace is held in memory (sorted, then checked as if it had been in order).
    const t = new Float64Array(rows);
    const v = new Float64Array(rows);
    const no = new Int32Array(rows);
    let i = 0;
    forEachRow(lines, source, (tt, vv, line) => {
      [t[i], v[i], no[i]] = [tt, vv, line];
      i++;
    });
    const order = Array.from({ length: rows }, (_, k) => k).sort((a, b) => t[a]! - t[b]! || a - b);
    memory = { t: Float64Array.from(order, (k) => t[k]!), v: Float64Array.from(order, (k) => v[k]!) };
    s = newStats();
    if (!log) for (const k of order) observeSorted(s, t[k]!, no[k]!, source);
    else [s.first, s.last] = [memory.t[0]!, memory.t[rows - 1]!];
  }

  if (log) {
    const start = Math.floor(s.first / MINUTE) * MINUTE;
    const minutes = Math.floor((s.last - start) / MINUTE) + 1;
    return {
      name: source,
      start,
      minutes,
      shape: 'request log',
      intervalSeconds: 60,
      gapsFilled: 0,
      interpolated: false,
      gapMinutes: 0,
      forEachMinute: (fn) => logMinutes(lines, source, memory, start, minutes, fn),
    };
  }

  if (rows < 2) throw new TraceError(source, 'a rate series needs at least two rows');
  const interval = medianInterval(s.diffs, rows - 1);
  let gaps = 0;
  let gapMs = 0;
  for (const [d, count] of s.diffs) {
    if (d > 1.5 * interval) {
      gaps += (Math.round(d / interval) - 1) * count;
      gapMs += (d - interval) * count;
    }
  }
  const largestGapMs = s.largest.d > 1.5 * interval ? s.largest.d - interval : 0;
  if (largestGapMs > MAX_GAP_HOURS * HOUR) {
    throw new TraceError(
      source,
      `a gap of ${hours(largestGapMs)} with no rows between line ${s.largest.line} (${when(s.largest.from)}) and line ${s.largest.nextLine}: ` +
        `gaps of up to ${MAX_GAP_HOURS} hours are filled, longer ones are an outage, not load (split the trace there or fill the gap)`,
    );
  }
  const start = Math.floor(s.first / MINUTE) * MINUTE;
  const minutes = Math.max(1, Math.round((s.last + interval - start) / MINUTE));
  const interpolated = interval > INTERPOLATE_ABOVE_SECONDS * 1000;
  const rowsOf = (fn: (t: number, v: number) => void) => {
    if (memory) for (let i = 0; i < memory.t.length; i++) fn(memory.t[i]!, memory.v[i]!);
    else forEachRow(lines, source, (t, v) => fn(t, v));
  };
  return {
    name: source,
    start,
    minutes,
    shape: 'rate series',
    intervalSeconds: interval / 1000,
    gapsFilled: gaps,
    interpolated,
    gapMinutes: Math.round(gapMs / MINUTE),
    ...(largestGapMs > 0 ? { largestGap: { minutes: Math.round(largestGapMs / MINUTE), from: s.largest.from + interval } } : {}),
    forEachMinute: (fn) => (interpolated ? linearMinutes : heldMinutes)(rowsOf, start, minutes, interval, fn),
  };
}

/**
 * Each row's value held from its time until the next row's (across a gap
 * too), the last one for one interval; a minute is the time-weighted mean of
 * what falls in it.
 */
function heldMinutes(rows: (fn: (t: number, v: number) => void) => void, start: number, minutes: number, interval: number, emit: (rps: number) => void): void {
  let m = 0;
  let sum = 0;
  let weight = 0;
  const flush = () => {
    emit(weight > 0 ? sum / weight : 0);
    m++;
    sum = 0;
    weight = 0;
  };
  const span = (from: number, next: number, v: number) => {
    for (let k = Math.floor((from - start) / MINUTE); k < minutes && start + k * MINUTE < next; k++) {
      while (m < k) flush();
      const lo = Math.max(from, start + k * MINUTE);
      const hi = Math.min(next, start + (k + 1) * MINUTE);
      if (hi <= lo) continue;
      sum += v * (hi - lo);
      weight += hi - lo;
    }
  };
  let prevT = NaN;
  let prevV = 0;
  rows((t, v) => {
    if (!Number.isNaN(prevT)) span(prevT, t, prevV);
    [prevT, prevV] = [t, v];
  });
  span(prevT, prevT + interval, prevV);
  while (m < minutes) flush();
}

/**
 * Rows joined linearly: each row is the mean rate over its interval, placed
 * at the interval's middle; minute m takes the line's value at its start;
 * before the first middle and after the last, the nearest row's value.
 */
function linearMinutes(rows: (fn: (t: number, v: number) => void) => void, start: number, minutes: number, interval: number, emit: (rps: number) => void): void {
  let m = 0;
  let prevC = NaN;
  let prevV = 0;
  rows((t, v) => {
    const c = t + interval / 2;
    if (Number.isNaN(prevC)) {
      while (m < minutes && start + m * MINUTE <= c) {
        emit(v);
        m++;
      }
    } else {
      while (m < minutes && start + m * MINUTE <= c) {
        const w = (start + m * MINUTE - prevC) / (c - prevC);
        // Exact at both points (a + (b - a) × w is not at w = 1).
        emit(prevV * (1 - w) + v * w);
        m++;
      }
    }
    [prevC, prevV] = [c, v];
  });
  while (m < minutes) {
    emit(prevV);
    m++;
  }
}

/** A request log counted per minute (req/s = count / 60). */
function logMinutes(lines: LineSource, source: string, memory: SortedRows | undefined, start: number, minutes: number, emit: (rps: number) => void): void {
  let m = 0;
  let count = 0;
  const row = (t: number) => {
    const k = Math.floor((t - start) / MINUTE);
    while (m < k) {
      emit(count / 60);
      m++;
      count = 0;
    }
    count++;
  };
  if (memory) for (let i = 0; i < memory.t.length; i++) row(memory.t[i]!);
  else forEachRow(lines, source, (t) => row(t));
  while (m < minutes) {
    emit(count / 60);
    m++;
    count = 0;
  }
}

/** Open a trace file for streaming: its rows are checked now, its minutes read on each pass. */
export function openTraceFile(file: string, source = file): TraceStream {
  return readTrace(fileLines(file, source), source);
}

/** Read a CSV text into a per-minute load trace (in memory). */
export function parseTrace(text: string, source = 'trace'): MinuteTrace {
  return materialize(readTrace(textLines(text, source), source));
}

/** A streamed trace's minutes, in memory (what `--tune` replays many times). */
export function materialize(stream: TraceStream): MinuteTrace {
  const rps: number[] = [];
  stream.forEachMinute((x) => rps.push(x));
  const { forEachMinute: _pass, minutes: _minutes, ...meta } = stream;
  return { ...meta, rps };
}

/** Minutes of a trace in memory as a stream (the simulator runs both the same way). */
export function streamOf(trace: MinuteTrace): TraceStream {
  const { rps, ...meta } = trace;
  return {
    ...meta,
    minutes: rps.length,
    forEachMinute(fn) {
      for (let i = 0; i < rps.length; i++) fn(rps[i]!);
    },
  };
}

/** Largest value (Math.max(...xs) overflows the stack on long traces). */
export function maxOf(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  return m;
}

function rescaleFactor(name: string, fraction: number, fullCapacityRps: number, peak: number): number {
  if (!(fraction > 0)) throw new TraceError(name, `--peak-utilization must be > 0, got ${fraction}`);
  if (peak <= 0) throw new TraceError(name, 'has no load at all; nothing to rescale');
  return (fraction * fullCapacityRps) / peak;
}

/** Scale a trace so its peak minute needs `fraction` × the pool's full capacity. */
export function rescaleToPeak(trace: MinuteTrace, fraction: number, fullCapacityRps: number): MinuteTrace {
  if (!(fraction > 0)) throw new TraceError(trace.name, `--peak-utilization must be > 0, got ${fraction}`);
  const peak = maxOf(trace.rps);
  const k = rescaleFactor(trace.name, fraction, fullCapacityRps, peak);
  return { ...trace, rps: trace.rps.map((x) => x * k), rescale: { factor: k, fraction, fullCapacityRps, rawPeak: peak } };
}

/** The same for a stream: one pass finds the peak; every later pass multiplies as it reads. */
export function rescaleStream(stream: TraceStream, fraction: number, fullCapacityRps: number): TraceStream {
  if (!(fraction > 0)) throw new TraceError(stream.name, `--peak-utilization must be > 0, got ${fraction}`);
  let peak = -Infinity;
  stream.forEachMinute((x) => {
    if (x > peak) peak = x;
  });
  const k = rescaleFactor(stream.name, fraction, fullCapacityRps, peak);
  return { ...stream, rescale: { factor: k, fraction, fullCapacityRps, rawPeak: peak }, forEachMinute: (fn) => stream.forEachMinute((x) => fn(x * k)) };
}

/** Minutes [from, to) of a trace. */
export function sliceTrace(trace: MinuteTrace, from: number, to: number): MinuteTrace {
  return { ...trace, start: trace.start + from * MINUTE, rps: trace.rps.slice(from, to) };
}
