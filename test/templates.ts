/**
 * One synth per config per test run: vitest's global setup
 * (test/global-setup.ts) synthesizes every config the suites need once and
 * writes each environment's template and targets document here; tests read
 * them instead of synthesizing again. (Tests that need the construct tree
 * itself still call `synth` in test/util.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { parseTargetsDocument, type TargetsDocument } from '../lambdas/core/config/document';

export const TEMPLATE_DIR = path.join(__dirname, '..', 'node_modules', '.cache', 'mlscale-test-templates');

/** The configs the global setup synthesizes: name -> environments. */
export const SYNTHESIZED = { default: ['production', 'staging'], eks: ['production'], design: ['production'] } as const;
export type ConfigName = keyof typeof SYNTHESIZED;

const cache = new Map<string, { template: Template; doc: TargetsDocument }>();

/** The template and targets document of one environment of one of the configs above. */
export function deployed(config: ConfigName, environment = 'production'): { template: Template; doc: TargetsDocument } {
  const key = `${config}-${environment}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const file = path.join(TEMPLATE_DIR, `${key}.json`);
  if (!existsSync(file)) throw new Error(`no synthesized template ${file}: is test/global-setup.ts in vitest.config.mts globalSetup, and ${key} in SYNTHESIZED?`);
  const { template, doc } = JSON.parse(readFileSync(file, 'utf8')) as { template: object; doc: unknown };
  const entry = { template: Template.fromJSON(template as Record<string, unknown>), doc: parseTargetsDocument(doc, `${key} targets document`) };
  cache.set(key, entry);
  return entry;
}
