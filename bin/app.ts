#!/usr/bin/env node
// CDK entry point: `npx cdk synth [-c env=production] [-c config=path/to/mlscale.json]`.
import { DEFAULT_CONFIG_PATH } from '../lambdas/core/config/load';
import { ConfigError, MlscaleApp } from '../lib/index';

try {
  // The config named by -c config= (this repository's config/mlscale.json by default); -c env= or every environment.
  new MlscaleApp({ context: { config: DEFAULT_CONFIG_PATH } }).synth();
} catch (err) {
  if (err instanceof ConfigError) {
    // One line naming the bad field; exiting non-zero means no template is written.
    console.error(`Error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
