import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { DEFAULTS } from './defaults';
import { ConfigError, problemsFromZod } from './errors';
import { documentMetricSchema as metricSchema } from './metric';
import { gpuIdlePercentSchema, idleMinutesSchema, peakHoursShape, plannedEventShape, predictiveShape, probeShape } from './parts';

/**
 * The managed-targets document (DESIGN.md, "Managed targets"): what the
 * Lambdas may touch, nothing else. The CDK app renders it from the config
 * (render.ts) into the MLSCALE_CONFIG environment variable; other
 * tooling may write it by hand. Required fields are the contract; extra
 * fields are allowed. Events, peak hours, metrics and forecast settings are
 * the config's own pieces (parts.ts, metric.ts): one set of checks, one set
 * of defaults.
 *
 * zod/mini tree-shakes: the Lambdas bundle this module; classic zod would be
 * nine tenths of every bundle (see docs/benchmarks.md).
 */

// zod/mini ships no messages; English ones keep the errors readable.
z.config(en());

const nonNegativeInt = z.int().check(z.minimum(0));
const positiveInt = z.int().check(z.minimum(1));
const nonEmpty = z.string().check(z.minLength(1));

const plannedEventSchema = z.looseObject(plannedEventShape);
const peakHoursSchema = z.looseObject(peakHoursShape);

const predictiveSchema = z.looseObject({
  ...predictiveShape,
  /** Load metric (requests, statistic Sum per period). */
  load: metricSchema,
  /** Requests per second one replica carries at its scaling target. */
  targetPerReplica: z.number().check(z.gt(0)),
  headroom: z._default(z.number().check(z.minimum(0)), DEFAULTS.predictive.headroom),
  leadMinutes: z._default(nonNegativeInt, DEFAULTS.predictive.leadMinutes),
  /** Largest backtest WAPE (a fraction) at which the forecast is acted on. */
  maxError: z._default(z.number().check(z.gt(0), z.maximum(1)), DEFAULTS.predictive.maxErrorPercent / 100),
});

/** Drain-sized scale-out (lambdas/core/drain.ts): the backlog and what the pool processes, and how to size. */
const drainSchema = z.looseObject({
  backlog: metricSchema,
  /** Work processed per period (statistic Sum over one minute). */
  processed: metricSchema,
  capacityPerTask: z.number().check(z.gt(0)),
  targetUtilization: z.number().check(z.gt(0), z.maximum(1)),
  drainSeconds: z._default(positiveInt, DEFAULTS.drainSeconds),
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
  gpuIdlePercent: z._default(gpuIdlePercentSchema, DEFAULTS.scaleToZero.gpuIdlePercent),
  /** At zero with the work metric unknown: one task for forMinutes, every everyMinutes. @default - no probe */
  probe: z.optional(z.object(probeShape)),
  idleMinutes: z._default(idleMinutesSchema, DEFAULTS.scaleToZero.idleMinutes),
  scaleFromZeroTo: z._default(positiveInt, DEFAULTS.scaleToZero.scaleFromZeroTo),
  missingDataIsIdle: z._default(z.boolean(), false),
  /** Alarm names whose events belong to this target. */
  alarms: z._default(z.array(z.string()), []),
  /** Batch targets: the SQS queue the workers read (its metrics are `work` and `inFlight`). */
  queue: z.optional(nonEmpty),
  /** Alarm names that say new capacity of this target is unhealthy (the rollout runbook's gates). */
  healthAlarms: z._default(z.array(z.string()), []),
  /** The emergency procedure may act on this target. */
  emergencyEnabled: z._default(z.boolean(), true),
  /** Highest capacity the emergency procedure may reach. @default maxCapacity × 2 */
  emergencyCeiling: z.optional(positiveInt),
  predictive: z.optional(predictiveSchema),
  drain: z.optional(drainSchema),
  plannedEvents: z._default(z.array(plannedEventSchema), []),
  peakHours: z._default(z.array(peakHoursSchema), []),
  /** More reversals of desired capacity in an hour than this: the target is flapping (lambdas/core/flaps.ts). */
  maxDirectionChangesPerHour: z._default(positiveInt, DEFAULTS.thrash.maxDirectionChangesPerHour),
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
      stableMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), DEFAULTS.emergency.stableMinutes),
      /** How long an incident's hold lasts when nobody resumes it (a trigger without a runbook). */
      holdMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), DEFAULTS.emergency.holdMinutes),
      /** The runbook stops watching after this long. */
      maxMonitorMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1_440)), DEFAULTS.emergency.maxMonitorMinutes),
    }),
    { stableMinutes: DEFAULTS.emergency.stableMinutes, holdMinutes: DEFAULTS.emergency.holdMinutes, maxMonitorMinutes: DEFAULTS.emergency.maxMonitorMinutes },
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
  // An alarm routes its emergency to one target: a name listed by two would be ambiguous (issue #8).
  const alarmOwner = new Map<string, string>();
  parsed.data.targets.forEach((t, i) => {
    if (seen.has(t.name)) problems.push({ path: `targets[${i}].name`, message: `duplicate target name '${t.name}'` });
    seen.add(t.name);
    t.alarms.forEach((alarm, j) => {
      const owner = alarmOwner.get(alarm);
      if (owner !== undefined && owner !== t.name) {
        problems.push({ path: `targets[${i}].alarms[${j}]`, message: `alarm '${alarm}' is listed by targets '${owner}' and '${t.name}'; an alarm starts the emergency of one target` });
      }
      alarmOwner.set(alarm, owner ?? t.name);
    });
    if (t.minCapacity > t.maxCapacity) {
      problems.push({ path: `targets[${i}].minCapacity`, message: `must be <= maxCapacity, got ${t.minCapacity} > ${t.maxCapacity}` });
    }
    if (t.pool === 'scale-to-zero' && !t.work) {
      problems.push({ path: `targets[${i}].work`, message: 'required for a scale-to-zero target (the metric that says work is pending)' });
    }
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
  return target.emergencyCeiling ?? Math.ceil(target.maxCapacity * DEFAULTS.emergency.ceilingMultiplier);
}

/** A scale-to-zero target the reconciler may take to zero (it has a work metric that wakes it). */
export function isScaleToZero(t: TargetSpec): boolean {
  return (t.pool === 'scale-to-zero' || t.pool === 'batch') && t.work !== undefined;
}

/** The configured limits the reconciler restores when no hold asks otherwise. */
export function configuredLimits(t: TargetSpec) {
  return { min: t.minCapacity, max: t.maxCapacity, ceiling: emergencyCeiling(t), scaleToZero: isScaleToZero(t) && t.minCapacity === 0 };
}

/** `service/<cluster>/<service>` or `<cluster>/<nodegroup>`: how logs and errors name a target's resource. */
export function describeTarget(target: TargetSpec): string {
  return target.kind === 'ecs-service' ? `service/${target.cluster}/${target.service}` : `nodegroup/${target.cluster}/${target.nodegroup}`;
}
