/**
 * AWS six-field cron (minutes hours day-of-month month day-of-week year), as
 * Application Auto Scaling and EventBridge take it, evaluated in a time zone.
 * Supported: `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), ranges, lists and
 * steps. Not supported (rejected with a clear message): `L`, `W`, `#`.
 * Day-of-week is 1-7 = SUN-SAT, as in AWS.
 */

export interface Cron {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  /** undefined = `?` (no constraint). */
  readonly daysOfMonth?: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek?: ReadonlySet<number>;
  readonly years: ReadonlySet<number> | 'any';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseField(text: string, name: string, lo: number, hi: number, names: string[] = [], nameBase = 1): Set<number> {
  const value = (token: string): number => {
    const i = names.indexOf(token.toUpperCase());
    const n = i >= 0 ? i + nameBase : Number(token);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`cron ${name}: '${token}' is not in ${lo}-${hi}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    // Names may contain L and W (JUL, WED); look for the letters outside them.
    if (/[LW#]/.test(names.reduce((rest, n) => rest.replaceAll(n, ''), part.toUpperCase()))) {
      throw new Error(`cron ${name}: '${part}' uses L, W or #, which mlscale does not support`);
    }
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`cron ${name}: step '${stepText}' must be a positive integer`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [lo, hi];
    else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      [from, to] = [value(a!), value(b!)];
      if (from > to) throw new Error(`cron ${name}: range '${range}' runs backwards`);
    } else {
      from = value(range!);
      to = stepText === undefined ? from : hi;
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** Parse `"0 8 ? * MON-FRI *"` (optionally wrapped as `cron(...)`); throws a one-line message. */
export function parseCron(expression: string): Cron {
  const inner = expression.trim().replace(/^cron\((.*)\)$/, '$1').trim();
  const fields = inner.split(/\s+/);
  if (fields.length !== 6) throw new Error(`cron '${expression}' must have 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) throw new Error(`cron '${expression}': exactly one of day-of-month and day-of-week must be '?'`);
  return {
    minutes: parseField(min, 'minutes', 0, 59),
    hours: parseField(hour, 'hours', 0, 23),
    ...(dom === '?' ? {} : { daysOfMonth: parseField(dom, 'day-of-month', 1, 31) }),
    months: parseField(month, 'month', 1, 12, MONTHS, 1),
    ...(dow === '?' ? {} : { daysOfWeek: parseField(dow, 'day-of-week', 1, 7, DAYS, 1) }),
    years: year === '*' ? 'any' : parseField(year, 'year', 1970, 2199),
  };
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 1-7 = SUN-SAT */
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of an instant in a time zone (IANA name, e.g. Europe/Berlin). */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: DAYS.indexOf(String(parts.weekday).toUpperCase()) + 1,
  };
}

/** Does the cron fire at this minute? */
export function cronMatches(cron: Cron, epochMs: number, timeZone: string): boolean {
  const w = wallClock(epochMs, timeZone);
  return (
    cron.minutes.has(w.minute) &&
    cron.hours.has(w.hour) &&
    cron.months.has(w.month) &&
    (cron.years === 'any' || cron.years.has(w.year)) &&
    (!cron.daysOfMonth || cron.daysOfMonth.has(w.day)) &&
    (!cron.daysOfWeek || cron.daysOfWeek.has(w.weekday))
  );
}

const MINUTE = 60_000;

/** Every minute in [from, to) at which the cron fires. */
export function cronFirings(cron: Cron, from: number, to: number, timeZone: string): number[] {
  const out: number[] = [];
  const HOUR = 60 * MINUTE;
  for (let hour = Math.floor(from / HOUR) * HOUR; hour < to; hour += HOUR) {
    // The zone's offset is constant within a UTC hour (zones are whole, half or
    // quarter hours off UTC, and change offset on such boundaries), so the wall
    // minute of hour+k is (wall minute of hour + k) mod 60: convert only the candidates.
    const startMinute = wallClock(hour, timeZone).minute;
    for (let k = 0; k < 60; k++) {
      const t = hour + k * MINUTE;
      if (t < from || t >= to || !cron.minutes.has((startMinute + k) % 60)) continue;
      if (cronMatches(cron, t, timeZone)) out.push(t);
    }
  }
  return out;
}

/** Is `timeZone` a zone this runtime knows? */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
