#!/usr/bin/env node
// `npm run summary`: synthesise the default app (with cdk-nag) and say what `cdk deploy` would create.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import { cdkJsonContext } from '../lib/cdk-context';
import { loadConfigFile } from '../lib/config/load';
import { summarize } from '../lib/summary';

try {
  const config = loadConfigFile(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlscale-synth-'));
  const { app, stacks } = buildApp({ config, appProps: { outdir, context: cdkJsonContext() } });
  const assembly = app.synth();
  console.log(summarize(stacks, assembly));
  console.log(`\nTemplates in ${outdir}; deploy with: npx cdk deploy ${stacks.map((s) => s.stackName).join(' ')}`);
} catch (err) {
  console.error(`Error: ${err instanceof ConfigError ? err.message : (err as Error).message.split('\n')[0]}`);
  process.exit(1);
}
