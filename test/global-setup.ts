import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig, type ConfigInput } from '../lambdas/core/config';
import { renderTargetsDocument } from '../lambdas/core/config/render';
import { buildApp } from '../lib/app';
import { designConfig } from './fixtures/design-config';
import { SYNTHESIZED, TEMPLATE_DIR, type ConfigName } from './templates';
import { CDK_CONTEXT, exampleConfig, ROOT } from './util';
import { readFileSync } from 'node:fs';

const CONFIGS: Record<ConfigName, () => ConfigInput> = {
  default: exampleConfig,
  eks: () => JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput,
  design: designConfig,
};

/**
 * Synthesize each config once and write what tests read. No bundling and no
 * cdk-nag (their own suites check those), and no CloudFormation schema check:
 * it takes ~5 s to load before any test can start, and `npm run synth` runs it
 * over the same templates.
 */
export default function setup(): void {
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  for (const [name, environments] of Object.entries(SYNTHESIZED) as [ConfigName, readonly string[]][]) {
    const parsed = parseConfig(CONFIGS[name]());
    const { stacks } = buildApp({ config: parsed, appProps: { context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false }, nag: false });
    for (const stack of stacks) {
      const env = stack.envConfig;
      if (!environments.includes(env.name)) continue;
      const template = Template.fromStack(stack).toJSON();
      writeFileSync(path.join(TEMPLATE_DIR, `${name}-${env.name}.json`), JSON.stringify({ template, doc: renderTargetsDocument(env) }));
    }
  }
}
