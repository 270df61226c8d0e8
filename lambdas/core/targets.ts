import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ConfigError, problemsFromZod } from './config/errors';
import type { MetricRef } from './config/metric';
import { isTimeZone, parseCron } from './cron';

/**
 * The managed-targets document (DESIGN.md, "Managed targets"): what the
 * Lambdas may touch, nothing else. The CDK app renders it from the config
 * into the MLSCALE_CONFIG environment variable; other tooling may write it by
 * hand. Required fields are the contract; extra fields are allowed.
 *
 * Written with zod/mini, which tree-shakes: the Lambdas bundle this schema,
 * and classic zod would be nine tenths of every bundle (see docs/benchmarks.md).
 */

// zod/mini ships no messages; English ones keep the errors readable.
z.config(en());

const nonNegativeInt = z.int().check(z.minimum(0));
const positiveInt = z.int().check(z.minimum(1));
const nonEmpty = z.string().check(z.minLength(1));
const isoTime = z.iso.datetime({ offset: true });

const metricSchema = z.object({
  namespace: nonEmpty,
  metricName: nonEmpty,
  dimensions: z._default(z.record(z.string(), z.string()), {}),
  statistic: z.string().check(
    z.refine((s) => ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'].includes(s) || /^p(\d{1,2}(\.\d+)?|100)$/.test(s), {
      message: 'must be one of Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99',
    }),
  ),
}) satisfies z.ZodMiniType<MetricRef, unknown>;

const plannedEventSchema = z.looseObject({
  name: nonEmpty,
  start: isoTime,
  end: isoTime,
  replicas: z.optional(positiveInt),
  multiplier: z.optional(z.number().check(z.gt(1))),
  leadMinutes: z._default(nonNegativeInt, 30),
  cooldownMinutes: z._default(nonNegativeInt, 20),
});

const peakHoursSchema = z.looseObject({
  name: nonEmpty,
  startCron: nonEmpty,
  endCron: nonEmpty,
  minCapacity: positiveInt,
  timezone: z._default(z.string(), 'UTC'),
});

const predictiveSchema = z.looseObject({
  /** Load metric (requests, statistic Sum per period). */
  load: metricSchema,
  /** Requests per second one replica carries at its scaling target. */
  targetPerReplica: z.number().check(z.gt(0)),
  headroom: z._default(z.number().check(z.minimum(0)), 0.1),
  leadMinutes: z._default(nonNegativeInt, 10),
  mode: z._default(z.enum(['forecast-only', 'forecast-and-scale']), 'forecast-and-scale'),
  historyDays: z._default(z.int().check(z.minimum(2), z.maximum(14)), 14),
  horizonHours: z._default(z.int().check(z.minimum(1), z.maximum(48)), 6),
  /** Largest backtest WAPE (a fraction) at which the forecast is acted on. */
  maxError: z._default(z.number().check(z.gt(0), z.maximum(1)), 0.25),
});

/** Drain-sized scale-out (lambdas/core/drain.ts): the backlog and what the pool processes, and how to size. */
const drainSchema = z.looseObject({
  backlog: metricSchema,
  /** Work processed per period (statistic Sum over one minute). */
  processed: metricSchema,
  capacityPerTask: z.number().check(z.gt(0)),
  targetUtilization: z.number().check(z.gt(0), z.maximum(1)),
  drainSeconds: z.int().check(z.minimum(1)),
  startupSeconds: z.int().check(z.minimum(0)),
  backlogThreshold: z.number().check(z.minimum(0)),
});

const common = {
  name: nonEmpty,
  cluster: nonEmpty,
  pool: nonEmpty,
  minCapacity: nonNegativeInt,
  maxCapacity: positiveInt,
  /** Pending work that wakes a scale-to-zero target. */
  work: z.optional(metricSchema),
  /** Work being processed; when given, idleness also needs it at 0. */
  inFlight: z.optional(metricSchema),
  /** GPU utilisation %; when given, idleness also needs it at or below gpuIdlePercent. */
  gpuUtilization: z.optional(metricSchema),
  gpuIdlePercent: z._default(z.number().check(z.minimum(0), z.maximum(100)), 5),
  /** At zero with the work metric unknown: one task for forMinutes, every everyMinutes. @default - no probe */
  probe: z.optional(z.object({ everyMinutes: z.int().check(z.minimum(5), z.maximum(1_440)), forMinutes: z.int().check(z.minimum(1), z.maximum(60)) })),
  idleMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), 5),
  scaleFromZeroTo: z._default(positiveInt, 1),
  missingDataIsIdle: z._default(z.boolean(), false),
  /** Alarm names whose events belong to this target. */
  alarms: z._default(z.array(z.string()), []),
  /** The emergency procedure may act on this target. */
  emergencyEnabled: z._default(z.boolean(), true),
  /** Highest capacity the emergency procedure may reach. @default maxCapacity × 2 */
  emergencyCeiling: z.optional(positiveInt),
  predictive: z.optional(predictiveSchema),
  drain: z.optional(drainSchema),
  plannedEvents: z._default(z.array(plannedEventSchema), []),
  peakHours: z._default(z.array(peakHoursSchema), []),
};

export const ecsTargetSchema = z.looseObject({ ...common, kind: z.literal('ecs-service'), service: nonEmpty });
export const eksTargetSchema = z.looseObject({ ...common, kind: z.literal('eks-nodegroup'), nodegroup: nonEmpty });

export const targetSchema = z.discriminatedUnion('kind', [ecsTargetSchema, eksTargetSchema]);
export const targetsDocumentSchema = z.looseObject({
  targets: z.array(targetSchema),
  /** The DynamoDB holds table (`<pipeline>-<environment>-holds`). @default - holds kept in memory for one invocation */
  holdsTable: z.optional(nonEmpty),
  emergency: z._default(
    z.object({
      /** Minutes the alarms must stay OK before the runbook releases the incident. */
      stableMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), 15),
      /** How long an incident's hold lasts when nobody resumes it (a trigger without a runbook). */
      holdMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), 180),
    }),
    { stableMinutes: 15, holdMinutes: 180 },
  ),
});

export type TargetSpec = z.infer<typeof targetSchema>;
export type TargetsDocument = z.infer<typeof targetsDocumentSchema>;
export type TargetsDocumentInput = z.input<typeof targetsDocumentSchema>;

/** Parse and check a targets document; a ConfigError names the bad field. */
export function parseTargetsDocument(input: unknown, source = 'MLSCALE_CONFIG'): TargetsDocument {
  const parsed = targetsDocumentSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, problemsFromZod(parsed.error));
  const problems: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  parsed.data.targets.forEach((t, i) => {
    if (seen.has(t.name)) problems.push({ path: `targets[${i}].name`, message: `duplicate target name '${t.name}'` });
    seen.add(t.name);
    if (t.minCapacity > t.maxCapacity) {
      problems.push({ path: `targets[${i}].minCapacity`, message: `must be <= maxCapacity, got ${t.minCapacity} > ${t.maxCapacity}` });
    }
    if (t.pool === 'scale-to-zero' && !t.work) {
      problems.push({ path: `targets[${i}].work`, message: 'required for a scale-to-zero target (the metric that says work is pending)' });
    }
    t.peakHours.forEach((peak, j) => {
      for (const field of ['startCron', 'endCron'] as const) {
        try {
          parseCron(peak[field]);
        } catch (err) {
          problems.push({ path: `targets[${i}].peakHours[${j}].${field}`, message: (err as Error).message });
        }
      }
      if (!isTimeZone(peak.timezone)) problems.push({ path: `targets[${i}].peakHours[${j}].timezone`, message: `unknown time zone '${peak.timezone}'` });
    });
    if (t.emergencyCeiling !== undefined && t.emergencyCeiling < t.maxCapacity) {
      problems.push({ path: `targets[${i}].emergencyCeiling`, message: `must be >= maxCapacity, got ${t.emergencyCeiling} < ${t.maxCapacity}` });
    }
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return parsed.data;
}

/** Read the document from a JSON string (the environment variable), failing with one line. */
export function parseTargetsJson(json: string | undefined, source = 'MLSCALE_CONFIG'): TargetsDocument {
  if (json === undefined || json.trim() === '') {
    throw new ConfigError(source, [{ path: '', message: 'is not set; it must hold the managed-targets JSON document' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `is not valid JSON (${(err as Error).message})` }]);
  }
  return parseTargetsDocument(value, source);
}

/** The emergency ceiling of a target: its own, or twice its maximum. */
export function emergencyCeiling(target: TargetSpec): number {
  return target.emergencyCeiling ?? target.maxCapacity * 2;
}

/** A scale-to-zero target the reconciler may take to zero (it has a work metric that wakes it). */
export function isScaleToZero(t: TargetSpec): boolean {
  return t.pool === 'scale-to-zero' && t.work !== undefined;
}

/** The configured limits the reconciler restores when no hold asks otherwise. */
export function configuredLimits(t: TargetSpec) {
  return { min: t.minCapacity, max: t.maxCapacity, ceiling: emergencyCeiling(t), scaleToZero: isScaleToZero(t) && t.minCapacity === 0 };
}

/** `service/<cluster>/<service>` or `<cluster>/<nodegroup>`: how logs and errors name a target's resource. */
export function describeTarget(target: TargetSpec): string {
  return target.kind === 'ecs-service' ? `service/${target.cluster}/${target.service}` : `nodegroup/${target.cluster}/${target.nodegroup}`;
}
