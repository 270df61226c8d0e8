import { AwsCallError } from '../../lambdas/aws/send';
import { explainAwsError } from './aws-errors';

/** An error the CLI reports as one line, `Error: <message>`, with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Every line of a message, trimmed and joined: every error the CLI prints is one line. */
export const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');

/**
 * The one place an error becomes the line the operator reads. AWS failures
 * (AwsCallError from lambdas/aws/send.ts, whatever adapter made the call) are
 * explained here and nowhere else, so none is reported twice or half.
 */
export async function formatError(err: unknown): Promise<string> {
  if (err instanceof AwsCallError) return `Error: ${oneLine(await explainAwsError(err))}`;
  if (err instanceof Error) return `Error: ${oneLine(err.message) || err.name}`;
  return `Error: ${oneLine(String(err))}`;
}
