import './quiet-sdk';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerGetCommand } from './commands/get';
import { registerPauseCommands } from './commands/pause';
import { registerPlanCommand } from './commands/plan';
import { registerRunbookCommands } from './commands/runbooks';
import { registerScaleCommand } from './commands/scale';
import { registerSimulateCommand } from './commands/simulate';
import { CliError, formatError, oneLine } from './errors';

export { CliError } from './errors';

// `mlscale get services -A | head`: a reader that stops early ends the output, not the process with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

/** The program, fresh for every run (commander keeps parsed state on its commands). */
export function buildProgram(): Command {
  const program = new Command('mlscale')
    .description('operate the scaling of mlscale inference pipelines on AWS (ECS services, EKS GPU node groups, runbooks)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // commander's own errors (unknown option, missing argument, bad choice) follow the CLI's one-line `Error:` form.
      outputError: (s, write) => write(`Error: ${oneLine(s).replace(/^error:\s*/i, '')}\n`),
    })
    .addHelpText(
      'after',
      `
A namespace is an ECS cluster (default 'default'), or the EKS cluster of a node group.
AWS access uses the default credential chain and region; AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_<SERVICE> redirect every call.

Examples:
  mlscale get services -A
  mlscale scale engine --replicas 6 -n pipestream
  mlscale pause nodegroup/gpu-workers -n ml-prod
  mlscale emergency engine --wait
  mlscale plan --rps 500 --p95-ms 50`,
    );
  registerGetCommand(program);
  registerScaleCommand(program);
  registerPauseCommands(program);
  registerRunbookCommands(program);
  registerPlanCommand(program);
  registerSimulateCommand(program);
  return program;
}

/**
 * `process.argv` (node, script, args...) or the user's arguments alone:
 * both are accepted so tests and other tools can call main with either.
 */
export function userArgs(argv: readonly string[]): string[] {
  const first = argv[0] ?? '';
  const base = path.basename(first).toLowerCase();
  if (first === process.execPath || /^(node|nodejs|tsx)(\.exe)?$/.test(base)) return argv.slice(2);
  if (/^mlscale(\.js|\.ts)?$/.test(base) || base === 'main.ts') return argv.slice(1);
  return [...argv];
}

/** Run the CLI; resolves to the exit code. Writes only to process.stdout / process.stderr and never exits the process. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(userArgs(argv), { from: 'user' });
    return 0;
  } catch (err) {
    // Help and version come back as CommanderErrors with exit code 0; real ones were already printed.
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`${formatError(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
