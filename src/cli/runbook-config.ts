import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../lib/config/load';
import type { ResolvedEnvironment } from '../../lambdas/core/config';
import { renderTargetsDocument } from '../../lambdas/core/render-targets';
import { parseTargetsDocument, type TargetsDocument } from '../../lambdas/core/targets';
import { CliError } from './errors';

export const DEFAULT_CONFIG = 'config/mlscale.json';
export const DEFAULT_ENV = 'production';

export type RunbookName = 'scale-for-event' | 'emergency-scale-up' | 'gpu-nodegroup-scale';

/** The deployed name of a runbook state machine (lib/constructs/runbooks/runbooks.ts: `<pipeline>-<environment>-<runbook>`). */
export const stateMachineName = (env: Pick<ResolvedEnvironment, 'pipeline' | 'name'>, runbook: RunbookName) => `${env.pipeline}-${env.name}-${runbook}`;

export interface RunbookConfig {
  readonly environment: ResolvedEnvironment;
  /** The managed-targets document the deployed Lambdas were given, rendered the same way: the runbooks' own validation runs on it. */
  readonly targets: TargetsDocument;
  readonly source: string;
}

/**
 * Load `--config` for `--env`. The default path is looked up in the working
 * directory, then beside this checkout (so `mlscale` works from anywhere in it).
 */
export function loadRunbookConfig(configOpt: string | undefined, envName: string): RunbookConfig {
  let file = path.resolve(configOpt ?? DEFAULT_CONFIG);
  if (configOpt === undefined && !existsSync(file)) file = DEFAULT_CONFIG_PATH;
  const parsed = loadConfigFile(file);
  const environment = parsed.environments.find((e) => e.name === envName);
  const source = path.relative(process.cwd(), file) || file;
  if (!environment) {
    throw new CliError(`Unknown environment '${envName}' in ${source} (known: ${parsed.environments.map((e) => e.name).join(', ')}; see --env)`);
  }
  // Alarm names do not matter for validation; the targets and their limits do.
  const targets = parseTargetsDocument(
    renderTargetsDocument(environment, () => '', () => []),
    source,
  );
  return { environment, targets, source };
}
