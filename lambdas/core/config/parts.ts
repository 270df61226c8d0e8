/**
 * The pieces the config (schema.ts) and the targets document (document.ts)
 * share: planned events, peak hours and forecast settings are checked by the
 * same code in both, with the same defaults, so a value the config accepts
 * the Lambdas accept too.
 */
import * as z from 'zod/mini';
import { isTimeZone, parseCron } from '../cron';
import { DEFAULTS } from './defaults';

const nonEmpty = z.string().check(z.minLength(1));
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

export const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 time with a zone, e.g. 2026-12-24T18:00:00Z' });

/** Six-field AWS cron (minutes hours day-of-month month day-of-week year), parsed the way the reconciler evaluates it. */
export const cronSchema = z.string().check(
  z.superRefine((text, ctx) => {
    try {
      parseCron(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, input: text });
    }
  }),
);

export const timeZoneSchema = z.string().check(
  z.superRefine((tz, ctx) => {
    if (!isTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `unknown time zone '${tz}' (an IANA name like Europe/Berlin)`, input: tz });
  }),
);

/** A planned event: capacity held from `leadMinutes` before start to `cooldownMinutes` after end. */
export const plannedEventShape = {
  name: nonEmpty,
  start: isoTime,
  end: isoTime,
  /** Capacity to hold during the event. Exactly one of replicas / multiplier. */
  replicas: z.optional(z.int().check(z.minimum(1))),
  /** Capacity = ceil(multiplier × the capacity the target would have without the event). */
  multiplier: z.optional(z.number().check(z.gt(1), z.maximum(20))),
  leadMinutes: z._default(int(0, 1_440), DEFAULTS.event.leadMinutes),
  cooldownMinutes: z._default(int(0, 1_440), DEFAULTS.event.cooldownMinutes),
};

/** Peak hours: a minimum capacity between two cron firings, in a time zone. */
export const peakHoursShape = {
  name: nonEmpty,
  startCron: cronSchema,
  endCron: cronSchema,
  minCapacity: z.int().check(z.minimum(1)),
  timezone: z._default(timeZoneSchema, 'UTC'),
};

/** Forecast settings every predictive target carries. */
export const predictiveShape = {
  mode: z._default(z.enum(['forecast-only', 'forecast-and-scale']), 'forecast-and-scale'),
  historyDays: z._default(int(2, 14), DEFAULTS.predictive.historyDays),
  horizonHours: z._default(int(1, 48), DEFAULTS.predictive.horizonHours),
};

/** A scale-to-zero target's idle window, minutes (config and document alike). */
export const idleMinutesSchema = int(1, 1_440);

/** GPU utilisation at or below this is idle, percent. */
export const gpuIdlePercentSchema = z.number().check(z.minimum(0), z.maximum(100));

/**
 * A timed probe of a scale-to-zero target whose work metric is unknown at zero: one task for
 * `forMinutes`, at minutes of the clock divisible by `everyMinutes`.
 */
export const probeShape = {
  everyMinutes: int(5, 1_440),
  forMinutes: int(1, 60),
};
