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

/** A fraction in (0, 1]: `0.7`, `70` or `70%` all mean 70 %. */
export function utilization(value: string, flag: string): number {
  const text = value.trim().replace(/%$/, '');
  const n = text === '' ? NaN : Number(text);
  const fraction = value.trim().endsWith('%') || n > 1 ? n / 100 : n;
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new CliError(`${flag} must be a fraction in (0, 1] or a percentage in (0, 100], got '${value}'`);
  }
  return fraction;
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
