import { DEFAULTS } from '../../../lambdas/core/config/defaults';
import type { Command } from 'commander';
import { epochSeconds, MANUAL_HOLDER, PAUSE_HOLDER, type Hold } from '../../../lambdas/core/holds';
import { holdDuration } from '../args';
import { holdStore, loadScope, managedTarget, scopeOptions, type ScopeOptions } from '../context';
import { remaining } from '../holds-view';
import { isDocument, isoSeconds, out, outputOption, printDocument, type OutputFormat } from '../output';
import { changeLines, heldSummary, reconcileNow } from '../reconcile-pass';
import { qualified } from '../resource';
import { readTargetState } from '../target-state';
import { holdLine } from './scale';

interface PauseOptions extends ScopeOptions {
  readonly for?: string;
  readonly output: OutputFormat;
}

/** The default length of `mlscale pause`: a working session, not a forgotten week. */
export const DEFAULT_PAUSE = `${DEFAULTS.cli.pauseHoldMinutes / 60}h`;

async function pause(first: string, second: string | undefined, opts: PauseOptions): Promise<void> {
  const forSeconds = holdDuration(opts.for ?? DEFAULT_PAUSE);
  const scope = loadScope(opts);
  const m = managedTarget(scope, first, second, opts.namespace);
  const now = new Date();
  const createdAt = epochSeconds(now.getTime());
  const user = process.env.USER;
  const hold: Hold = {
    target: m.spec.name,
    holder: PAUSE_HOLDER,
    suspendScaleIn: true,
    suspendScaleOut: true,
    suspendScheduled: true,
    reason: `mlscale pause${user ? ` by ${user}` : ''}`,
    createdAt,
    expiresAt: createdAt + forSeconds,
  };

  const before = await readTargetState(m);
  const store = holdStore(scope);
  await store.put(hold);
  const o = await reconcileNow(m.spec, store, now, 'hold pause is written');

  if (isDocument(opts.output)) {
    printDocument(opts.output, {
      kind: m.ref.kind,
      name: m.ref.name,
      namespace: m.namespace,
      target: m.spec.name,
      paused: true,
      replicas: o.desired,
      expiresAt: isoSeconds(hold.expiresAt),
      minCapacity: o.min,
      maxCapacity: o.max,
      holds: o.holds,
      why: o.why,
    });
    return;
  }
  if (opts.output === 'name') {
    out(qualified(m.ref));
    return;
  }
  out(`${qualified(m.ref)} paused in namespace ${m.namespace}: ${o.desired} replicas kept for ${remaining(hold.expiresAt, now.getTime())}; nothing automatic moves them`);
  out(holdLine(scope, m, hold));
  for (const line of changeLines(before, o, m.spec.kind)) out(line);
}

async function resume(first: string, second: string | undefined, opts: PauseOptions): Promise<void> {
  const scope = loadScope(opts);
  const m = managedTarget(scope, first, second, opts.namespace);
  const now = new Date();

  const before = await readTargetState(m);
  const store = holdStore(scope);
  const released: string[] = [];
  for (const holder of [PAUSE_HOLDER, MANUAL_HOLDER]) if (await store.release(m.spec.name, holder)) released.push(holder);
  const o = await reconcileNow(m.spec, store, now, released.length ? `hold ${released.join(' and ')} released` : 'nothing to release');

  if (isDocument(opts.output)) {
    printDocument(opts.output, {
      kind: m.ref.kind,
      name: m.ref.name,
      namespace: m.namespace,
      target: m.spec.name,
      released,
      replicas: o.desired,
      minCapacity: o.min,
      maxCapacity: o.max,
      paused: o.paused,
      holds: o.holds,
      why: o.why,
    });
    return;
  }
  if (opts.output === 'name') {
    out(qualified(m.ref));
    return;
  }
  const verb = released.length ? 'resumed' : 'was not paused or scaled by hand (no pause or manual hold)';
  out(`${qualified(m.ref)} ${verb}: ${heldSummary(before, o)}`);
  if (released.length) out(`released: ${released.join(', ')}`);
  for (const line of changeLines(before, o, m.spec.kind)) out(line);
}

export function registerPauseCommands(program: Command): void {
  scopeOptions(
    program
      .command('pause')
      .description('hold a managed target where it is: every kind of automatic scaling suspended until --for ends or resume')
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .option('--for <duration>', `how long the pause lasts: 30m, 4h, 1d … at most 7d (default: ${DEFAULT_PAUSE})`)
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Writes the 'pause' hold (scale-in, scale-out and scheduled scaling suspended; nothing automatic
moves desired) and reconciles. It ends by itself after --for (default ${DEFAULT_PAUSE}, at most 7d).

Examples:
  mlscale pause engine
  mlscale pause nodegroup/gpu-workers --for 30m`,
    )
    .action(async (first: string, second: string | undefined, opts: PauseOptions) => pause(first, second, opts));

  scopeOptions(
    program
      .command('resume')
      .description("hand a target back to its autoscaler: release this CLI's pause and manual holds and reconcile")
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Releases the 'pause' and 'manual' holds (other holders' holds stay: see 'mlscale holds NAME')
and reconciles: the limits go back to the config and the other holds, desired is raised to
min if it is below it and otherwise left to the autoscaler.

Examples:
  mlscale resume engine
  mlscale resume nodegroup/gpu-workers`,
    )
    .action(async (first: string, second: string | undefined, opts: PauseOptions) => resume(first, second, opts));
}
