import { configSchema, type MlscaleConfig } from './schema';
import { ConfigError, type ConfigProblem, problemsFromZod } from './errors';
import { fargateSizeProblem } from './fargate';
import { resolveEnvironment, type ResolvedEnvironment } from './resolve';
import { GPU_INSTANCES } from './instances';
import { scalesToZero } from './pool-kind';

export interface ParsedConfig {
  readonly config: MlscaleConfig;
  readonly environments: readonly ResolvedEnvironment[];
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

function checkUnique(problems: ConfigProblem[], path: string, names: readonly string[], what: string): void {
  for (const name of duplicates(names)) problems.push({ path, message: `duplicate ${what} name '${name}'` });
}

/** Checks that need more than one field: references, uniqueness, sizes, times. */
function crossFieldProblems(config: MlscaleConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const poolNames = config.pools.map((p) => p.name);
  const poolByName = new Map(config.pools.map((p) => [p.name, p]));
  const known = `known pools: ${poolNames.join(', ')}`;

  checkUnique(problems, 'pools', poolNames, 'pool');
  checkUnique(problems, 'environments', config.environments.map((e) => e.name), 'environment');
  checkUnique(problems, 'plannedEvents', config.plannedEvents.map((e) => e.name), 'planned event');
  checkUnique(problems, 'peakHours', config.peakHours.map((e) => e.name), 'peak hours');

  config.pools.forEach((pool, i) => {
    checkUnique(problems, `pools[${i}].containers`, pool.containers.map((c) => c.name), 'container');
    const compute = scalesToZero(pool) ? pool.compute : undefined;
    const onFargate = !compute || compute.type === 'fargate';
    if (onFargate) {
      const size = fargateSizeProblem(pool.cpu, pool.memoryMiB);
      if (size) problems.push({ path: `pools[${i}].memoryMiB`, message: size });
    } else if (compute?.type === 'ec2-gpu') {
      const instance = GPU_INSTANCES[compute.instanceType];
      if (instance && compute.gpusPerTask > instance.gpus) {
        problems.push({
          path: `pools[${i}].compute.gpusPerTask`,
          message: `${compute.instanceType} has ${instance.gpus} GPU(s), got gpusPerTask ${compute.gpusPerTask}`,
        });
      }
      if (instance && pool.memoryMiB > instance.memoryGiB * 1024 * 0.9) {
        problems.push({
          path: `pools[${i}].memoryMiB`,
          message: `${compute.instanceType} has ${instance.memoryGiB} GiB; a task may use about 90 % of it, got ${pool.memoryMiB} MiB`,
        });
      }
    }
    if (pool.kind === 'batch' && pool.queue.existing && pool.queue.name === undefined) {
      problems.push({ path: `pools[${i}].queue.name`, message: 'required when queue.existing is true (the name of the queue the workers read)' });
    }
    if (scalesToZero(pool) && pool.scaleFromZeroTo > pool.maxCapacity) {
      problems.push({ path: `pools[${i}].scaleFromZeroTo`, message: `must be <= maxCapacity, got ${pool.scaleFromZeroTo} > ${pool.maxCapacity}` });
    }
  });

  config.environments.forEach((env, i) => {
    for (const name of Object.keys(env.pools)) {
      if (!poolByName.has(name)) problems.push({ path: `environments[${i}].pools.${name}`, message: `unknown pool '${name}' (${known})` });
    }
    const t = { ...config.thresholds, ...env.thresholds };
    if (t.emergencyP95Ms <= t.p95Ms) {
      const where = env.thresholds?.emergencyP95Ms !== undefined ? `environments[${i}].thresholds` : 'thresholds';
      problems.push({ path: `${where}.emergencyP95Ms`, message: `must be > p95Ms, got ${t.emergencyP95Ms} <= ${t.p95Ms}` });
    }
  });

  config.plannedEvents.forEach((event, i) => {
    const pool = poolByName.get(event.pool);
    if (!pool) problems.push({ path: `plannedEvents[${i}].pool`, message: `unknown pool '${event.pool}' (${known})` });
    if ((event.replicas === undefined) === (event.multiplier === undefined)) {
      problems.push({ path: `plannedEvents[${i}]`, message: 'give exactly one of replicas or multiplier' });
    }
    if (Date.parse(event.end) <= Date.parse(event.start)) {
      problems.push({ path: `plannedEvents[${i}].end`, message: `must be after start, got ${event.end} <= ${event.start}` });
    }
    if (pool && event.replicas !== undefined && event.replicas > pool.maxCapacity) {
      problems.push({
        path: `plannedEvents[${i}].replicas`,
        message: `must be <= the pool's maxCapacity, got ${event.replicas} > ${pool.maxCapacity} (raise pools.${pool.name}.maxCapacity first)`,
      });
    }
  });

  config.peakHours.forEach((peak, i) => {
    // (Cron expressions and time zones are checked by the schema: parts.ts, shared with the targets document.)
    const pool = poolByName.get(peak.pool);
    if (!pool) problems.push({ path: `peakHours[${i}].pool`, message: `unknown pool '${peak.pool}' (${known})` });
    else if (peak.minCapacity > pool.maxCapacity) {
      problems.push({ path: `peakHours[${i}].minCapacity`, message: `must be <= the pool's maxCapacity, got ${peak.minCapacity} > ${pool.maxCapacity}` });
    }
  });

  const eks = config.eks;
  if (eks) {
    checkUnique(problems, 'eks.nodeGroups', eks.nodeGroups.map((n) => n.name), 'node group');
    eks.nodeGroups.forEach((ng, i) => {
      // Pools and node groups share one namespace of target names (the CLI and the Lambdas address them by name).
      if (poolByName.has(ng.name)) problems.push({ path: `eks.nodeGroups[${i}].name`, message: `'${ng.name}' is already a pool name` });
    });
    eks.nodeGroups.forEach((ng, i) => {
      if (ng.minSize > ng.maxSize) problems.push({ path: `eks.nodeGroups[${i}].minSize`, message: `must be <= maxSize, got ${ng.minSize} > ${ng.maxSize}` });
      if (ng.desiredSize < ng.minSize || ng.desiredSize > ng.maxSize) {
        problems.push({
          path: `eks.nodeGroups[${i}].desiredSize`,
          message: `must be within minSize..maxSize (${ng.minSize}..${ng.maxSize}), got ${ng.desiredSize}`,
        });
      }
    });
    if (eks.existing && eks.nodeGroups.length > 0 && eks.subnetIds.length === 0) {
      problems.push({ path: 'eks.subnetIds', message: 'required to add node groups to an existing cluster (no lookups at synth time)' });
    }
  }

  const net = config.network;
  if (net.vpcId) {
    if (net.privateSubnetIds.length === 0) problems.push({ path: 'network.privateSubnetIds', message: 'required with network.vpcId' });
    if (net.availabilityZones.length !== net.privateSubnetIds.length) {
      problems.push({
        path: 'network.availabilityZones',
        message: `must list one zone per private subnet, got ${net.availabilityZones.length} zones for ${net.privateSubnetIds.length} subnets`,
      });
    }
  }
  return problems;
}

/**
 * Parse and validate a config document. Throws a ConfigError whose one-line
 * message names every bad field; returns the config and every environment
 * resolved.
 */
export function parseConfig(input: unknown, source = 'mlscale config'): ParsedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, problemsFromZod(parsed.error));
  const config = parsed.data;
  const problems = crossFieldProblems(config);
  const environments = config.environments.map((_, i) => {
    const resolved = resolveEnvironment(config, i);
    problems.push(...resolved.problems);
    return resolved.environment;
  });
  if (problems.length > 0) {
    // The same problem can surface in several environments; report it once.
    const unique = [...new Map(problems.map((p) => [`${p.path}|${p.message}`, p])).values()];
    throw new ConfigError(source, unique);
  }
  return { config, environments };
}

/** The resolved environment called `name`, or a ConfigError listing the ones there are. */
export function selectEnvironment(parsed: ParsedConfig, name: string): ResolvedEnvironment {
  const env = parsed.environments.find((e) => e.name === name);
  if (!env) {
    throw new ConfigError('environment selection', [
      { path: 'env', message: `unknown environment '${name}' (known: ${parsed.environments.map((e) => e.name).join(', ')})` },
    ]);
  }
  return env;
}
