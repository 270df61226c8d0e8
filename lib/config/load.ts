import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseConfig, type ParsedConfig } from '../../lambdas/core/config';

/** The config the default app deploys. */
export const DEFAULT_CONFIG_PATH = path.join(__dirname, '..', '..', 'config', 'mlscale.json');

/** Read, parse and validate a config file; every failure is a one-line ConfigError. */
export function loadConfigFile(file: string = DEFAULT_CONFIG_PATH): ParsedConfig {
  const source = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid JSON (${(err as Error).message})` }]);
  }
  return parseConfig(json, source);
}
