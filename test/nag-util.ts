import { AwsSolutionsChecks } from 'cdk-nag';
import type { ConfigInput } from '../lambdas/core/config';
import { parseConfig } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import type { MlscaleStack } from '../lib/mlscale-stack';
import { CDK_CONTEXT } from './util';

/**
 * Every unacknowledged AwsSolutions finding of the app built from `input`, as
 * `rule at path`. `alter` may add to the stacks first (to prove the check is live).
 */
export function nagFindings(input: ConfigInput, alter?: (stacks: MlscaleStack[]) => void): string[] {
  const { app, stacks } = buildApp({ config: parseConfig(input), appProps: { context: CDK_CONTEXT }, nag: false });
  alter?.(stacks);
  app.synth();
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
}
