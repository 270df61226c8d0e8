import { DEFAULTS } from '../../lambdas/core/config/defaults';
import { CliError } from './errors';

/** Whole number >= min, written as digits only (no 1e3, no 2.0, no -1). */
export function wholeNumber(value: string, flag: string, min = 0): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`${flag} must be a whole number >= ${min}, got '${value}'`);
  return n;
}

/** A finite number > 0. */
export function positiveNumber(value: string, flag: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag} must be a number > 0, got '${value}'`);
  return n;
}

/**
 * A fraction in (0, 1] (`0.7`), or a percentage with its sign (`70%`). A bare
 * number above 1 is refused rather than guessed at: 1.5 is neither 150 % nor 1.5 %.
 */
export function fraction(value: string, flag: string): number {
  const text = value.trim();
  const percent = text.endsWith('%');
  const digits = percent ? text.slice(0, -1).trim() : text;
  const n = digits === '' ? NaN : Number(digits);
  const f = percent ? n / 100 : n;
  if (!Number.isFinite(f) || f <= 0 || f > 1) throw new CliError(`${flag} must be a fraction in (0, 1], e.g. 0.7 (or a percentage like 70%), got '${value}'`);
  return f;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `1h`, `90m`, `1h30m`, `2d`, `45s` -> seconds; undefined for anything else (or zero). */
export function parseSpan(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(\d+[dhms])+$/.test(t)) return undefined;
  let seconds = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([dhms])/g)) seconds += Number(n) * UNIT_SECONDS[unit!]!;
  return seconds > 0 ? seconds : undefined;
}

/** The longest hold the CLI writes: a forgotten hold must end by itself within a week. */
export const MAX_HOLD_SECONDS = DEFAULTS.cli.maxHoldMinutes * 60;

/** How long a hold lasts: `30m`, `1h`, `4h`, `1d12h` … up to 7d. */
export function holdDuration(value: string, flag = '--for'): number {
  const seconds = parseSpan(value);
  if (seconds === undefined) throw new CliError(`${flag} must be a duration like 30m, 1h, 4h or 2d, got '${value}'`);
  if (seconds > MAX_HOLD_SECONDS) throw new CliError(`${flag} must be at most 7d (a hold always ends by itself), got '${value}'`);
  return seconds;
}

/** A polling interval: `5s`, `2m`, `1500ms`, or a number of seconds; at least 1 s (polling AWS faster only buys throttling). */
export function interval(value: string, flag = '--interval'): number {
  const t = value.trim().toLowerCase();
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(t);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1_000) : NaN;
  if (!Number.isFinite(ms)) throw new CliError(`${flag} must be a duration like 2s, 5s or 1m, got '${value}'`);
  if (ms < 1_000) throw new CliError(`${flag} must be at least 1s, got '${value}'`);
  return Math.round(ms);
}

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A point in time for a runbook: an ISO-8601 date-time (UTC when it names no
 * zone), `now`, or a relative `+30m` / `+2h` / `+1d` from now.
 */
export function parseTime(value: string, flag: string, now: Date): Date {
  const text = value.trim();
  const relative = /^\+(\d+)([mhd])$/i.exec(text);
  let t = NaN;
  if (text.toLowerCase() === 'now') t = now.getTime();
  else if (relative) t = now.getTime() + Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!;
  else if (ISO.test(text)) {
    const iso = text.replace(' ', 'T');
    t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
  }
  if (!Number.isFinite(t)) {
    throw new CliError(`${flag} must be an ISO-8601 time (e.g. 2026-12-24T18:00:00Z; UTC when no zone is given), 'now' or +30m / +2h / +1d, got '${value}'`);
  }
  return new Date(t);
}
