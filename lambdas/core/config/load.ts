import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './errors';
import { parseConfig, type ParsedConfig } from './validate';

/**
 * Reading a config file: the one loader the CDK app, the CLI, the simulator
 * and the benchmarks share. It lives beside the model it feeds; it is the
 * only part of lambdas/core/config that touches the file system, and no
 * Lambda imports it (index.ts does not re-export it).
 */

/** The config the default app deploys: config/mlscale.json of this checkout. */
export const DEFAULT_CONFIG_PATH = path.join(__dirname, '..', '..', '..', 'config', 'mlscale.json');

/** The file could not be read at all (missing, unreadable): a ConfigError that keeps the system's error code. */
export class ConfigFileUnreadable extends ConfigError {
  constructor(
    readonly shown: string,
    readonly code: string,
  ) {
    super(shown, [{ path: '', message: `cannot read the file (${code})` }]);
    this.name = 'ConfigFileUnreadable';
  }
}

/**
 * Read, parse and validate a config file; every failure is a one-line
 * ConfigError. `shown` is how messages name the file: by default exactly as
 * it was given (a relative path stays relative, an absolute one absolute).
 */
export function loadConfigFile(file: string = DEFAULT_CONFIG_PATH, shown: string = file): ParsedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileUnreadable(shown, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(shown, [{ path: '', message: `not valid JSON (${(err as Error).message})` }]);
  }
  return parseConfig(json, shown);
}
