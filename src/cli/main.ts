import './sdk-defaults';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCompletionCommands } from './commands/completion';
import { registerDescribeCommand } from './commands/describe';
import { registerGetCommand } from './commands/get';
import { registerHoldsCommands } from './commands/holds';
import { registerPauseCommands } from './commands/pause';
import { registerPlanCommand } from './commands/plan';
import { registerRightsizeCommand } from './commands/rightsize';
import { registerRunbookCommands } from './commands/runbooks';
import { registerScaleCommand } from './commands/scale';
import { registerSimulateCommand } from './commands/simulate';
import { CliError, formatError, oneLine } from './errors';
import type { RunContext } from './watch';

export { CliError } from './errors';
export type { RunContext } from './watch';

// `mlscale get services -A | head`: a reader that stops early ends the output, not the process with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

/** package.json's version: what `mlscale --version` prints. */
export const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The program, fresh for every run (commander keeps parsed state on its commands). */
export function buildProgram(ctx: RunContext = {}): Command {
  const program = new Command('mlscale')
    .description('operate the scaling of mlscale inference pipelines on AWS: ECS services and EKS GPU node groups, held by holds with an end')
    .version(VERSION, '-V, --version', "print mlscale's version")
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
Targets are the services and node groups of the config's environment (--config, default
config/mlscale.json; --env, default production). A namespace is an ECS cluster, or the EKS
cluster of a node group: -n, else $MLSCALE_NAMESPACE, else the environment's cluster.
Every change is a hold with an end (scale: 'manual', 1h by default; pause: 4h), applied by one
reconcile pass; 'mlscale holds' lists them. AWS access uses the default credential chain and
region; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> redirect every call.

Examples:
  mlscale get services -o wide
  mlscale scale engine --replicas 6
  mlscale holds engine
  mlscale describe engine
  mlscale resume engine
  mlscale emergency engine --wait
  mlscale plan --rps 500 --p95-ms 50
  mlscale rightsize engine`,
    );
  registerGetCommand(program, ctx);
  registerDescribeCommand(program);
  registerScaleCommand(program);
  registerPauseCommands(program);
  registerHoldsCommands(program);
  registerRunbookCommands(program);
  registerPlanCommand(program);
  registerRightsizeCommand(program);
  registerSimulateCommand(program);
  registerCompletionCommands(program);
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

/**
 * Run the CLI; resolves to the exit code. Writes only to process.stdout /
 * process.stderr and never exits the process. `ctx.signal` ends a
 * `get --watch` (without it, Ctrl-C does).
 */
export async function main(argv: readonly string[], ctx: RunContext = {}): Promise<number> {
  const program = buildProgram(ctx);
  const args = userArgs(argv);
  try {
    // No arguments: the help, as a request for it (stdout, exit 0).
    if (args.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    // Help and version come back as CommanderErrors with exit code 0; real ones were already printed.
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`${await formatError(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
