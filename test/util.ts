import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { ConfigInput } from '../lambdas/core/config';
import { parseConfig } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import { cdkJsonContext } from '../lib/cdk-context';
import type { MlscaleStack } from '../lib/mlscale-stack';

export const ROOT = path.join(__dirname, '..');

/** The feature flags cdk.json gives the real app, so tests synthesise the same way. */
export const CDK_CONTEXT = cdkJsonContext();

/** A fresh copy of the example config the default app deploys. */
export function exampleConfig(): ConfigInput {
  return JSON.parse(readFileSync(path.join(ROOT, 'config', 'mlscale.json'), 'utf8')) as ConfigInput;
}

/**
 * Synthesise one environment of a config (cdk-nag off: test/nag.test.ts checks
 * it). Lambda bundling is skipped unless asked for: template tests do not need
 * the code, and esbuild per test would dominate the run.
 */
export function synth(
  input: ConfigInput = exampleConfig(),
  environment = 'production',
  options: { bundle?: boolean } = {},
): { stack: MlscaleStack; template: Template } {
  const context = options.bundle ? CDK_CONTEXT : { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] };
  // No CloudFormation schema check here (about 5 s to load per test process): `cdk synth` in npm test runs it over the whole app.
  const { stacks } = buildApp({ config: parseConfig(input), environment, appProps: { context, builtinCloudFormationValidation: false }, nag: false });
  const stack = stacks[0]!;
  return { stack, template: Template.fromStack(stack) };
}

/** The logical ID of the one resource of `type` whose ID starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}
