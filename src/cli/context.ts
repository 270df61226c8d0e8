import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { DynamoHoldStore, type HoldStore } from '../../lambdas/aws/holds-store';
import { isAwsError } from '../../lambdas/aws/send';
import type { ParsedConfig, ResolvedEnvironment } from '../../lambdas/core/config';
import type { Hold } from '../../lambdas/core/holds';
import { documentFor } from '../../lambdas/core/config/render';
import type { TargetSpec, TargetsDocument } from '../../lambdas/core/config/document';
import { ConfigFileUnreadable, DEFAULT_CONFIG_PATH, loadConfigFile } from '../../lambdas/core/config/load';
import { CliError } from './errors';
import { argumentOf, checkName, parseResource, type Kind, type ResourceRef } from './resource';

/** Looked up in the working directory first, then in this checkout. */
export const DEFAULT_CONFIG = 'config/mlscale.json';
export const DEFAULT_ENV = 'production';

/** What every command that addresses targets takes: which config, which environment, which namespace. */
export interface ScopeOptions {
  readonly config?: string;
  readonly env?: string;
  readonly namespace?: string;
}

export interface Scope {
  /** The file read. */
  readonly file: string;
  /** How messages name it: as the user typed it, or relative for the default. */
  readonly shown: string;
  readonly explicitConfig: boolean;
  readonly parsed: ParsedConfig;
  readonly environment: ResolvedEnvironment;
  readonly explicitEnv: boolean;
  /** The managed-targets document the deployed Lambdas read (render-targets.ts renders both). */
  readonly doc: TargetsDocument;
}

/** `--config`, `--env` and `-n` on a command, with the defaults every command shares. */
export function scopeOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', `mlscale config (default: ${DEFAULT_CONFIG} in the working directory, else this checkout's)`)
    .option('--env <name>', `environment of the config (default: ${DEFAULT_ENV}, else the first)`)
    .option('-n, --namespace <namespace>', 'ECS cluster (services) or EKS cluster (node groups) (default: $MLSCALE_NAMESPACE, else the environment\'s cluster)');
}

/** Read, parse and validate the config (the shared loader); a missing file is named as it was given. */
export function loadConfig(configOpt: string | undefined): { file: string; shown: string; parsed: ParsedConfig } {
  let file: string;
  let shown: string;
  if (configOpt !== undefined) {
    file = path.resolve(configOpt);
    shown = configOpt;
  } else {
    const local = path.resolve(DEFAULT_CONFIG);
    file = existsSync(local) ? local : DEFAULT_CONFIG_PATH;
    shown = path.relative(process.cwd(), file) || file;
  }
  try {
    return { file, shown, parsed: loadConfigFile(file, shown) };
  } catch (err) {
    // The CLI's own wording for a file that is not there: it can point at the flag.
    if (err instanceof ConfigFileUnreadable) throw new CliError(`cannot read config ${shown} (${err.code}; see --config)`);
    throw err;
  }
}

/** The environment `--env` names: production, else the first. */
export function chooseEnvironment(parsed: ParsedConfig, envOpt: string | undefined, shown: string): ResolvedEnvironment {
  const name = envOpt ?? (parsed.environments.some((e) => e.name === DEFAULT_ENV) ? DEFAULT_ENV : parsed.environments[0]!.name);
  const environment = parsed.environments.find((e) => e.name === name);
  if (!environment) {
    throw new CliError(`Unknown environment '${name}' in ${shown} (known: ${parsed.environments.map((e) => e.name).join(', ')}; see --env)`);
  }
  return environment;
}

export function loadScope(opts: ScopeOptions): Scope {
  const { file, shown, parsed } = loadConfig(opts.config);
  const environment = chooseEnvironment(parsed, opts.env, shown);
  return { file, shown, explicitConfig: opts.config !== undefined, parsed, environment, explicitEnv: opts.env !== undefined, doc: documentFor(environment) };
}

export const kindOf = (spec: TargetSpec): Kind => (spec.kind === 'ecs-service' ? 'service' : 'nodegroup');
export const resourceOf = (spec: TargetSpec): string => (spec.kind === 'ecs-service' ? spec.service : spec.nodegroup);
export const refOf = (spec: TargetSpec) => ({ kind: kindOf(spec), name: resourceOf(spec) });

/** The cluster the environment's targets of this kind live in, if it has any. */
export function configuredCluster(scope: Scope, kind: Kind): string | undefined {
  return kind === 'service' ? scope.environment.clusterName : scope.environment.eks?.clusterName;
}

/** `-n`, else MLSCALE_NAMESPACE, else the environment's ECS cluster (services) or EKS cluster (node groups). */
export function namespaceFor(scope: Scope, kind: Kind, namespaceOpt: string | undefined): string {
  const given = namespaceOpt ?? (process.env.MLSCALE_NAMESPACE || undefined);
  if (given !== undefined) return checkName(given, 'namespace');
  const cluster = configuredCluster(scope, kind);
  if (!cluster) throw new CliError(`${scope.environment.name} in ${scope.shown} has no EKS cluster (no eks section): give -n CLUSTER for node groups`);
  return cluster;
}

/** How managed targets are listed in messages: services by name, node groups as nodegroup/NAME. */
export const managedArguments = (scope: Scope) => scope.doc.targets.map((t) => argumentOf(refOf(t)));
export const managedList = (scope: Scope) => managedArguments(scope).join(', ') || 'none';

export interface Managed {
  readonly spec: TargetSpec;
  readonly ref: ResourceRef;
  readonly namespace: string;
}

/**
 * The managed target a command line names: a service or node group of the
 * environment's document, in the namespace given (or the default one). A
 * bare NAME that only a node group has means that node group. Nothing
 * outside the document may be scaled, paused or held.
 */
export function managedTarget(scope: Scope, first: string, second: string | undefined, namespaceOpt: string | undefined): Managed {
  const asked = parseResource(first, second);
  const candidates = scope.doc.targets.filter((t) => resourceOf(t) === asked.name && (!asked.explicit || kindOf(t) === asked.kind));
  const spec = candidates.find((t) => kindOf(t) === asked.kind) ?? candidates[0];
  if (!spec) throw new CliError(`${argumentOf(asked)} is not managed by mlscale in ${scope.environment.name} (managed: ${managedList(scope)})`);
  const ref: ResourceRef = { kind: kindOf(spec), name: resourceOf(spec), explicit: asked.explicit };
  const namespace = namespaceFor(scope, ref.kind, namespaceOpt);
  if (namespace !== spec.cluster) {
    throw new CliError(
      `${argumentOf(ref)} in namespace ${namespace} is not managed by mlscale in ${scope.environment.name} (mlscale manages ${argumentOf(ref)} in namespace ${spec.cluster}; drop -n or see --env)`,
    );
  }
  return { spec, ref, namespace };
}

/** ` --env staging --config x.json`: what a hint must repeat so the command it suggests acts on the same targets. */
export function scopeArgs(scope: Scope): string {
  return `${scope.explicitEnv ? ` --env ${scope.environment.name}` : ''}${scope.explicitConfig ? ` --config ${scope.shown}` : ''}`;
}

/** The holds table is not there: the stack of this environment is not deployed where the CLI is pointed. */
export class HoldsTableMissing extends CliError {}

/**
 * The environment's holds table, with its absence said in words (the stack
 * is not deployed in this account and region, or the config names another
 * environment) rather than as DynamoDB's ResourceNotFoundException.
 */
export function holdStore(scope: Scope): HoldStore {
  const table = scope.doc.holdsTable;
  if (!table) throw new CliError(`the targets document of ${scope.environment.name} names no holds table`);
  const store = new DynamoHoldStore(table);
  const missing = () =>
    new HoldsTableMissing(`holds table ${table} not found (is the ${scope.environment.stackName} stack deployed in this account and region? see --env)`);
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) throw missing();
      throw err;
    }
  };
  return {
    where: store.where,
    all: () => guard(() => store.all()),
    of: (target: string) => guard(() => store.of(target)),
    put: (hold: Hold, options?: { readonly ifAbsent?: boolean; readonly now?: number }) => guard(() => store.put(hold, options)),
    release: (target: string, holder: string) => guard(() => store.release(target, holder)),
  };
}
