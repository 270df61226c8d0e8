#!/usr/bin/env node
// CDK entry point: `npx cdk synth [-c env=production] [-c config=path/to/mlscale.json]`.
import { App } from 'aws-cdk-lib';
import * as path from 'node:path';
import { ConfigError } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../lib/config/load';

const app = new App();
const configPath = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;
const environment = app.node.tryGetContext('env') as string | undefined;

try {
  const config = loadConfigFile(path.resolve(configPath));
  buildApp({ app, config, ...(environment ? { environment } : {}) });
  app.synth();
} catch (err) {
  if (err instanceof ConfigError) {
    // One line naming the bad field; exiting non-zero means no template is written.
    console.error(`Error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
