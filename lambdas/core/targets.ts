import { z } from 'zod';
import { ConfigError, problemsFromZod } from './config/errors';
import { metricSchema } from './config/metric';

/**
 * The managed-targets document (DESIGN.md, "Managed targets"): what the
 * Lambdas may touch, nothing else. The CDK app renders it from the config
 * into the MLSCALE_CONFIG environment variable; other tooling may write it by
 * hand. Required fields are the contract; extra fields are allowed.
 */

const nonNegativeInt = z.number().int().min(0);

const plannedEventSchema = z.looseObject({
  name: z.string().min(1),
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
  replicas: z.number().int().min(1).optional(),
  multiplier: z.number().gt(1).optional(),
  leadMinutes: nonNegativeInt.default(30),
  cooldownMinutes: nonNegativeInt.default(20),
});

const peakHoursSchema = z.looseObject({
  name: z.string().min(1),
  startCron: z.string().min(1),
  endCron: z.string().min(1),
  minCapacity: z.number().int().min(1),
  timezone: z.string().default('UTC'),
});

const predictiveSchema = z.looseObject({
  /** Load metric (requests, statistic Sum per period). */
  load: metricSchema,
  /** Requests per second one replica carries at its scaling target. */
  targetPerReplica: z.number().gt(0),
  headroom: z.number().min(0).default(0.1),
  leadMinutes: nonNegativeInt.default(10),
  mode: z.enum(['forecast-only', 'forecast-and-scale']).default('forecast-and-scale'),
  historyDays: z.number().int().min(2).max(14).default(14),
  horizonHours: z.number().int().min(1).max(48).default(6),
});

const common = {
  name: z.string().min(1),
  cluster: z.string().min(1),
  pool: z.string().min(1),
  minCapacity: nonNegativeInt,
  maxCapacity: z.number().int().min(1),
  /** Pending work that wakes a scale-to-zero target. */
  work: metricSchema.optional(),
  /** Work being processed; when given, idleness also needs it at 0. */
  inFlight: metricSchema.optional(),
  idleMinutes: z.number().int().min(1).max(1_440).default(5),
  scaleFromZeroTo: z.number().int().min(1).default(1),
  missingDataIsIdle: z.boolean().default(false),
  /** Alarm names whose events belong to this target. */
  alarms: z.array(z.string()).default([]),
  /** The emergency procedure may act on this target. */
  emergencyEnabled: z.boolean().default(true),
  /** Highest capacity the emergency procedure may reach. @default maxCapacity × 2 */
  emergencyCeiling: z.number().int().min(1).optional(),
  predictive: predictiveSchema.optional(),
  plannedEvents: z.array(plannedEventSchema).default([]),
  peakHours: z.array(peakHoursSchema).default([]),
};

export const ecsTargetSchema = z.looseObject({ ...common, kind: z.literal('ecs-service'), service: z.string().min(1) });
export const eksTargetSchema = z.looseObject({ ...common, kind: z.literal('eks-nodegroup'), nodegroup: z.string().min(1) });

export const targetSchema = z.discriminatedUnion('kind', [ecsTargetSchema, eksTargetSchema]);
export const targetsDocumentSchema = z.looseObject({ targets: z.array(targetSchema) });

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

/** `service/<cluster>/<service>` or `<cluster>/<nodegroup>`: how logs and errors name a target's resource. */
export function describeTarget(target: TargetSpec): string {
  return target.kind === 'ecs-service' ? `service/${target.cluster}/${target.service}` : `nodegroup/${target.cluster}/${target.nodegroup}`;
}
