#!/usr/bin/env node
// `npm run summary`: synthesise the default app (with cdk-nag) and say what `cdk deploy` would create.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cdkJsonContext } from '../lib/cdk-context';
import { ConfigError, loadConfigFile, MlscaleApp } from '../lib/index';
import { summarize } from '../lib/summary';

try {
  const config = process.argv[2] ? loadConfigFile(path.resolve(process.argv[2]), process.argv[2]) : loadConfigFile();
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlscale-synth-'));
  const app = new MlscaleApp({ config, outdir, context: cdkJsonContext() });
  const assembly = app.synth();
  console.log(summarize(app.stacks, assembly));
  console.log(`\nTemplates in ${outdir}; deploy with: npx cdk deploy ${app.stacks.map((s) => s.stackName).join(' ')}`);
} catch (err) {
  console.error(`Error: ${err instanceof ConfigError ? err.message : (err as Error).message.split('\n')[0]}`);
  process.exit(1);
}
