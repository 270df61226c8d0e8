import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The context (feature flags) cdk.json gives the app under the CDK CLI.
 * Anything that builds the app outside the CLI (npm start, tests, benchmarks)
 * passes it too, so it synthesises exactly what `cdk synth` does.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(__dirname, '..', 'cdk.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}
