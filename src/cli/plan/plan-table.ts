import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError, problemsFromZod } from '../../../lambdas/core/config/errors';
import { fargateSizeProblem } from '../../../lambdas/core/config/fargate';
import { GPU_INSTANCES } from '../../../lambdas/core/config/instances';

/** The shipped table (docs/plan.md explains every number and where it comes from). */
export const DEFAULT_PLAN_TABLE = path.join(__dirname, '..', '..', '..', 'config', 'plan-table.json');

const positive = z.number().positive();

const common = {
  name: z.string().min(1),
  /** Model workers per replica (MLServer `parallel_workers`, or one per GPU). */
  workers: z.number().int().min(1),
  /** Requests per second one worker sustains at full load, for the reference workload. */
  rpsPerWorker: positive,
  /** p95 latency of one request on this profile at the planned utilisation, ms. */
  p95Ms: positive,
  /** Overrides the computed (Fargate) or instance-table (GPU) price. */
  usdPerHour: positive.optional(),
  notes: z.string().optional(),
};

const tableSchema = z.object({
  $comment: z.string().optional(),
  workload: z.string().min(1),
  source: z.string().optional(),
  pricing: z.object({
    region: z.string().min(1),
    fargate: z.object({ usdPerVcpuHour: positive, usdPerGbHour: positive }),
  }),
  profiles: z
    .array(
      z.discriminatedUnion('kind', [
        z.object({ ...common, kind: z.literal('fargate'), cpu: z.number().int(), memoryMiB: z.number().int() }),
        z.object({ ...common, kind: z.literal('gpu'), instanceType: z.string().min(1) }),
      ]),
    )
    .min(1),
});

export type PlanTableFile = z.infer<typeof tableSchema>;

/** One row of the table with its price resolved. */
export interface Profile {
  readonly name: string;
  readonly kind: 'fargate' | 'gpu';
  /** `1vCPU/2GiB`, or the GPUs: `1xA10G/24GiB` (one token, for tables). */
  readonly size: string;
  readonly workers: number;
  readonly rpsPerWorker: number;
  readonly p95Ms: number;
  readonly usdPerHour: number;
}

export interface PlanTable {
  readonly source: string;
  readonly workload: string;
  readonly region: string;
  readonly profiles: readonly Profile[];
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/** Check a parsed table and resolve prices: Fargate from vCPU and memory, GPU from lambdas/core/config/instances.ts unless given. */
export function resolvePlanTable(input: unknown, source: string): PlanTable {
  const parsed = tableSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, problemsFromZod(parsed.error));
  const t = parsed.data;
  const problems: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  const profiles = t.profiles.map((p, i): Profile => {
    if (seen.has(p.name)) problems.push({ path: `profiles[${i}].name`, message: `duplicate profile name '${p.name}'` });
    seen.add(p.name);
    const base = { name: p.name, kind: p.kind, workers: p.workers, rpsPerWorker: p.rpsPerWorker, p95Ms: p.p95Ms };
    if (p.kind === 'fargate') {
      const problem = fargateSizeProblem(p.cpu, p.memoryMiB);
      if (problem) problems.push({ path: `profiles[${i}]`, message: problem });
      const computed = (p.cpu / 1024) * t.pricing.fargate.usdPerVcpuHour + (p.memoryMiB / 1024) * t.pricing.fargate.usdPerGbHour;
      return { ...base, size: `${p.cpu / 1024}vCPU/${p.memoryMiB / 1024}GiB`, usdPerHour: p.usdPerHour ?? round4(computed) };
    }
    const instance = GPU_INSTANCES[p.instanceType];
    if (!instance && p.usdPerHour === undefined) {
      problems.push({ path: `profiles[${i}].instanceType`, message: `'${p.instanceType}' is not in lambdas/core/config/instances.ts; give usdPerHour` });
    }
    const size = instance ? `${instance.gpus}x${instance.gpuModel}/${instance.gpuMemoryGiB / instance.gpus}GiB` : p.instanceType;
    return { ...base, size, usdPerHour: p.usdPerHour ?? instance?.usdPerHour ?? 0 };
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return { source, workload: t.workload, region: t.pricing.region, profiles };
}

/** Read a plan table; messages name the file as it was given (the default one relative to the working directory). */
export function loadPlanTable(file: string = DEFAULT_PLAN_TABLE): PlanTable {
  const source = file === DEFAULT_PLAN_TABLE ? path.relative(process.cwd(), file) || file : file;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(source, [{ path: '', message: e.code ? `cannot read the file (${e.code})` : `not valid JSON (${e.message})` }]);
  }
  return resolvePlanTable(json, source);
}
