import { DEFAULTS } from '../../../lambdas/core/config/defaults';
import type { Command } from 'commander';
import { isActive, PAUSE_HOLDER, type Hold } from '../../../lambdas/core/holds';
import { emergencyCeiling } from '../../../lambdas/core/config/document';
import { holdDuration, wholeNumber } from '../args';
import { holdStore, loadScope, managedTarget, scopeArgs, scopeOptions, type Managed, type Scope, type ScopeOptions } from '../context';
import { sets } from '../holds-view';
import { err, isDocument, isoSeconds, out, outputOption, printDocument, type OutputFormat } from '../output';
import { changeLines, reconcileNow } from '../reconcile-pass';
import { argumentOf, qualified } from '../resource';
import { planScale, SCALE_BY } from '../../../lambdas/core/manual-scale';
import { readTargetState } from '../target-state';

interface ScaleOptions extends ScopeOptions {
  readonly replicas: string;
  readonly raiseMax?: boolean;
  readonly min?: string;
  readonly for: string;
  readonly output: OutputFormat;
}

/** `mlscale release engine manual`, with the flags that select the same environment. */
export const releaseCommand = (scope: Scope, m: Managed, holder: string) => `mlscale release ${argumentOf(m.ref)} ${holder}${scopeArgs(scope)}`;
export const resumeCommand = (scope: Scope, m: Managed) => `mlscale resume ${argumentOf(m.ref)}${scopeArgs(scope)}`;

/** `hold manual: floor 6 until 2026-12-02T11:00:00Z; 'mlscale release engine manual' ends it sooner`. */
export function holdLine(scope: Scope, m: Managed, h: Hold): string {
  const ender = h.holder === PAUSE_HOLDER ? resumeCommand(scope, m) : releaseCommand(scope, m, h.holder);
  return `hold ${h.holder}: ${sets(h)} until ${isoSeconds(h.expiresAt)}; '${ender}' ends it sooner`;
}

async function scale(first: string, second: string | undefined, opts: ScaleOptions): Promise<void> {
  // Every argument is checked before the first AWS call.
  const replicas = wholeNumber(opts.replicas, '--replicas');
  const min = opts.min !== undefined ? wholeNumber(opts.min, '--min') : undefined;
  const forSeconds = holdDuration(opts.for);
  const scope = loadScope(opts);
  const m = managedTarget(scope, first, second, opts.namespace);
  const now = new Date();
  const plan = planScale(m.spec, { replicas, ...(min !== undefined ? { min } : {}), raiseMax: Boolean(opts.raiseMax), forSeconds, user: process.env.USER || undefined, now });

  const before = await readTargetState(m);
  const store = holdStore(scope);
  await store.put(plan.hold);
  const released: string[] = [];
  for (const holder of plan.release) if (await store.release(m.spec.name, holder)) released.push(holder);
  const o = await reconcileNow(m.spec, store, now, `hold ${plan.hold.holder} is written`, { desired: plan.desired, by: SCALE_BY });

  const warnings = [...plan.warnings];
  if (o.desired > plan.desired && !o.paused) warnings.push(`scheduled ${o.desired} replicas, not ${plan.desired}: min capacity is ${o.why.min}`);
  for (const w of warnings) err(`Warning: ${w}`);
  const stillPaused = plan.hold.holder !== PAUSE_HOLDER && o.paused;
  const pause = stillPaused ? (await store.of(m.spec.name)).find((h) => h.holder === PAUSE_HOLDER && isActive(h, now.getTime())) : undefined;

  if (isDocument(opts.output)) {
    printDocument(opts.output, {
      kind: m.ref.kind,
      name: m.ref.name,
      namespace: m.namespace,
      target: m.spec.name,
      from: before.desired,
      to: o.desired,
      requested: replicas,
      hold: { holder: plan.hold.holder, floor: plan.hold.floor ?? null, ceiling: plan.hold.ceiling ?? null, expiresAt: isoSeconds(plan.hold.expiresAt), reason: plan.hold.reason },
      released,
      minCapacity: { from: before.min, to: o.min },
      maxCapacity: { from: before.max, to: o.max, ceiling: emergencyCeiling(m.spec) },
      paused: o.paused,
      holds: o.holds,
      why: o.why,
      warnings,
    });
    return;
  }
  if (opts.output === 'name') {
    out(qualified(m.ref));
    return;
  }
  out(`${qualified(m.ref)} scaled from ${before.desired} to ${o.desired} replicas in namespace ${m.namespace}`);
  out(holdLine(scope, m, plan.hold));
  for (const holder of released) out(`hold ${holder} released (--replicas 0 replaces it)`);
  for (const line of changeLines(before, o, m.spec.kind)) out(line);
  if (pause) out(`hold pause stays until ${isoSeconds(pause.expiresAt)}: nothing automatic moves desired; '${resumeCommand(scope, m)}' hands it back to the autoscaler`);
}

export function registerScaleCommand(program: Command): void {
  scopeOptions(
    program
      .command('scale')
      .description('set the replicas of a managed ECS service or the nodes of a managed EKS node group (a manual hold with an end)')
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .requiredOption('--replicas <count>', 'desired replicas (0 pauses: every kind of automatic scaling suspended)')
    .option('--min <count>', 'the floor the hold keeps (default: --replicas); the autoscaler may scale between it and max')
    .option('--raise-max', "go above max capacity, up to the target's emergency ceiling")
    .option('--for <duration>', 'how long the hold lasts: 30m, 1h, 4h, 2d … at most 7d', `${DEFAULTS.cli.manualHoldMinutes / 60}h`)
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
A scale is a hold: 'manual' with floor --min (default: --replicas) for --for (default 1h, at
most 7d), then one reconcile pass applies it (min raised to the floor, desired set). When the
hold ends (it expires, or 'mlscale release NAME manual'), the configured limits come back and
the autoscaler takes over; desired is never cut by the end of a hold.
Above max capacity it scales to max with a warning, unless --raise-max (up to the emergency
ceiling). --replicas 0 writes the 'pause' hold instead: every kind of automatic scaling
suspended, desired 0, until --for ends or 'mlscale resume NAME'.

Examples:
  mlscale scale engine --replicas 6
  mlscale scale engine --replicas 6 --min 4 --for 4h
  mlscale scale service/engine --replicas 14 --raise-max
  mlscale scale nodegroup/gpu-workers --replicas 2
  mlscale scale gpu-modules --replicas 0 --for 8h`,
    )
    .action(async (first: string, second: string | undefined, opts: ScaleOptions) => scale(first, second, opts));
}
