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

/** The first line of a message, trimmed: every error the CLI prints is one line. */
export const oneLine = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');

export function formatError(err: unknown): string {
  if (err instanceof Error) {
    const message = oneLine(err.message) || err.name;
    // An AWS error's name says what went wrong (ValidationException, ThrottlingException, ...).
    const aws = '$metadata' in err && err.name !== 'Error' && !message.includes(err.name);
    return `Error: ${aws ? `${err.name}: ` : ''}${message}`;
  }
  return `Error: ${oneLine(String(err))}`;
}
