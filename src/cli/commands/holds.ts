import type { Command } from 'commander';
import { holderKind, HOLDER_KINDS, type Hold } from '../../../lambdas/core/holds';
import type { TargetSpec } from '../../../lambdas/core/config/document';
import { holdStore, loadScope, managedTarget, scopeOptions, type Scope, type ScopeOptions } from '../context';
import { CliError } from '../errors';
import { expiresCell, holdDocument, holdViews, reasonCell, suspends, type HoldView } from '../holds-view';
import { err, isDocument, isoSeconds, out, outputOption, printDocument, renderTable, type OutputFormat } from '../output';
import { heldSummary, reconcileNow } from '../reconcile-pass';
import { qualified } from '../resource';
import { readTargetState } from '../target-state';

interface HoldsOptions extends ScopeOptions {
  readonly all?: boolean;
  readonly output: OutputFormat;
}

interface Listed {
  readonly target: string;
  readonly view: HoldView;
}

function table(list: readonly Listed[], withTarget: boolean, wide: boolean, nowMs: number): string {
  const headers = [...(withTarget ? ['TARGET'] : []), 'HOLDER', 'FLOOR', 'CEILING', 'SUSPENDS', 'EXPIRES', ...(wide ? ['STARTS', 'CREATED', 'SOURCE'] : []), 'REASON'];
  return renderTable(
    headers,
    list.map(({ target, view }) => {
      const h = view.hold;
      return [
        ...(withTarget ? [target] : []),
        h.holder,
        h.floor ?? '-',
        h.ceiling ?? '-',
        suspends(h),
        expiresCell(h, nowMs),
        ...(wide ? [isoSeconds(h.startsAt ?? h.createdAt), isoSeconds(h.createdAt), view.source] : []),
        reasonCell(view, nowMs),
      ];
    }),
  );
}

async function holds(name: string | undefined, second: string | undefined, opts: HoldsOptions): Promise<void> {
  const scope = loadScope(opts);
  const m = name !== undefined ? managedTarget(scope, name, second, opts.namespace) : undefined;
  const now = Date.now();
  const store = holdStore(scope);
  let list: Listed[];
  if (m) {
    list = holdViews(m.spec, await store.of(m.spec.name), now, opts.all).map((view) => ({ target: m.spec.name, view }));
  } else {
    const stored = await store.all();
    const configured = new Set(scope.doc.targets.map((t) => t.name));
    // Config order first, then holds on targets the config no longer has (they still count until they expire).
    const targets: [string, TargetSpec | undefined][] = [
      ...scope.doc.targets.map((t): [string, TargetSpec] => [t.name, t]),
      ...[...stored.keys()].filter((t) => !configured.has(t)).sort().map((t): [string, undefined] => [t, undefined]),
    ];
    list = targets.flatMap(([target, spec]) => holdViews(spec, stored.get(target) ?? [], now, opts.all).map((view) => ({ target, view })));
  }

  if (isDocument(opts.output)) {
    printDocument(opts.output, list.map(({ view }) => holdDocument(view, now)));
    return;
  }
  if (opts.output === 'name') {
    list.forEach(({ target, view }) => out(`hold.mlscale/${target}/${view.hold.holder}`));
    return;
  }
  if (list.length === 0) {
    err(m ? `No holds on ${qualified(m.ref)}${opts.all ? '' : ' (--all shows expired ones too)'}.` : `No holds in ${scope.environment.name}.`);
    return;
  }
  out(table(list, m === undefined, opts.output === 'wide', now));
}

/** Where a config-derived hold comes from, for the message that says it cannot be released. */
function configSource(scope: Scope, spec: TargetSpec, holder: string): string | undefined {
  const [kind, name] = [holderKind(holder), holder.slice(holder.indexOf(':') + 1)];
  if (kind === 'event' && spec.plannedEvents.some((e) => e.name === name)) return `plannedEvents '${name}' of ${scope.shown}`;
  if (kind === 'peak-hours' && spec.peakHours.some((p) => p.name === name)) return `peakHours '${name}' of ${scope.shown}`;
  return undefined;
}

async function release(first: string, holder: string, opts: HoldsOptions): Promise<void> {
  if (!holderKind(holder)) {
    throw new CliError(`'${holder}' is not a holder (holders: ${HOLDER_KINDS.map((k) => (['emergency', 'event', 'peak-hours', 'rollout'].includes(k) ? `${k}:<name>` : k)).join(', ')})`);
  }
  const scope = loadScope(opts);
  const m = managedTarget(scope, first, undefined, opts.namespace);
  const now = new Date();
  const store = holdStore(scope);
  const stored = await store.of(m.spec.name);
  const held = stored.find((h) => h.holder === holder);
  if (!held) {
    const fromConfig = configSource(scope, m.spec, holder);
    if (fromConfig) {
      throw new CliError(
        `${holder} on ${m.spec.name} comes from the config (${fromConfig}): the reconciler derives it on every pass, so it cannot be released; change the config and deploy`,
      );
    }
    const there = holdViews(m.spec, stored, now.getTime()).map((v) => `${v.hold.holder}${v.source === 'config' ? ' (config)' : ''}`);
    throw new CliError(`${m.spec.name} has no hold '${holder}' (holds: ${there.length ? there.join(', ') : 'none'})`);
  }

  const before = await readTargetState(m);
  await store.release(m.spec.name, holder);
  const o = await reconcileNow(m.spec, store, now, `hold ${holder} is released`);
  if (isDocument(opts.output)) {
    printDocument(opts.output, { target: m.spec.name, released: holder, expired: !stillActive(held, now), minCapacity: o.min, maxCapacity: o.max, replicas: o.desired, holds: o.holds, why: o.why });
    return;
  }
  if (opts.output === 'name') {
    out(`hold.mlscale/${m.spec.name}/${holder}`);
    return;
  }
  out(`${qualified(m.ref)}: hold ${holder} released${stillActive(held, now) ? '' : ' (it had already expired)'}; ${heldSummary(before, o)}`);
}

const stillActive = (h: Hold, now: Date) => h.expiresAt > Math.floor(now.getTime() / 1000);

export function registerHoldsCommands(program: Command): void {
  scopeOptions(
    program
      .command('holds')
      .description('list the holds on a target (or on every target): who holds it, what they ask, until when')
      .argument('[resource]', 'NAME, service/NAME or nodegroup/NAME; none: every target of the environment')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .option('--all', 'show expired holds too (DynamoDB deletes them lazily)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Columns: HOLDER (manual, pause, emergency:<incident>, event:<name>, predictive:<hour>,
peak-hours:<name>, wake, rollout:<execution>), FLOOR and CEILING (what it asks of min and max),
SUSPENDS (in, out, scheduled), EXPIRES (UTC, and the time left). Holds the config's planned
events and peak hours imply (now, or starting within 24h) are listed with '(config)'.

Examples:
  mlscale holds
  mlscale holds engine
  mlscale holds engine -o yaml
  mlscale holds engine -o wide --all`,
    )
    .action(async (first: string | undefined, second: string | undefined, opts: HoldsOptions) => holds(first, second, opts));

  scopeOptions(
    program
      .command('release')
      .description('end one hold on a target now and reconcile')
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME')
      .argument('<holder>', 'the holder: manual, pause, emergency:<incident>, …'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Holds from the config (planned events, peak hours) cannot be released: change the config.
A release never cuts desired: the autoscaler scales in from where it is.

Examples:
  mlscale release engine manual
  mlscale release engine emergency:engine-manual-20261123T1015Z`,
    )
    .action(async (first: string, holder: string, opts: HoldsOptions) => release(first, holder, opts));
}
