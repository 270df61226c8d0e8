import type { Command } from 'commander';
import type { HoldStore } from '../../../lambdas/aws/holds-store';
import { holderKind, isActive, type Hold } from '../../../lambdas/core/holds';
import type { TargetSpec } from '../../../lambdas/core/config/document';
import { derivedHolds } from '../../../lambdas/reconcile/run';
import { interval } from '../args';
import { holdStore, HoldsTableMissing, kindOf, loadScope, namespaceFor, resourceOf, scopeOptions, type Scope, type ScopeOptions } from '../context';
import { CliError } from '../errors';
import { listNodegroups, listServices, read, statusOf, type ResourceView } from '../inventory';
import { err, isDocument, out, outputOption, printDocument, renderTable, type OutputFormat } from '../output';
import { checkName, notFound, parseKind, parseResource, qualified, type Kind } from '../resource';
import { watch, type RunContext } from '../watch';

interface GetOptions extends ScopeOptions {
  readonly allNamespaces?: boolean;
  readonly output: OutputFormat;
  readonly watch?: boolean;
  readonly interval: string;
}

/** A listed resource with what mlscale knows of it: the target it is, its active holds. */
export interface Row {
  readonly view: ResourceView;
  readonly spec?: TargetSpec;
  /** Active holders (stored and from the config); undefined when the holds could not be read or it is not managed. */
  readonly holds?: readonly string[];
}

const paused = (r: Row) => Boolean(r.holds?.some((h) => holderKind(h) === 'pause')) || (r.view.kind === 'service' && r.view.suspension.dynamicIn && r.view.suspension.dynamicOut && r.view.suspension.scheduled);
const status = (r: Row) => statusOf({ ...r.view, paused: paused(r) });

/** The JSON shape of one row: everything the wide table shows, plus suspension and the target. */
export function rowDocument(r: Row) {
  const v = r.view;
  return {
    kind: v.kind,
    namespace: v.namespace,
    name: v.name,
    replicas: v.desired,
    ready: v.running,
    pending: v.pending,
    status: status(r),
    paused: paused(r),
    minCapacity: v.limits?.min ?? null,
    maxCapacity: v.limits?.max ?? null,
    suspended: { dynamicScalingIn: v.suspension.dynamicIn, dynamicScalingOut: v.suspension.dynamicOut, scheduledScaling: v.suspension.scheduled },
    managed: r.spec !== undefined,
    target: r.spec?.name ?? null,
    holds: r.holds ?? null,
  };
}

interface Selection {
  /** Kinds to list with the names asked for (none: every resource of the namespace). */
  readonly kinds: readonly { kind: Kind; names: readonly string[]; namespace?: string }[];
  /** `mlscale get` with no type lists both kinds, so NAME says which (`service/engine`). */
  readonly mixed: boolean;
}

function select(scope: Scope, type: string | undefined, names: readonly string[], opts: GetOptions): Selection {
  const ns = (kind: Kind) => (opts.allNamespaces ? undefined : namespaceFor(scope, kind, opts.namespace));
  if (opts.namespace !== undefined) checkName(opts.namespace, 'namespace');
  if (type === undefined) {
    const explicitNs = opts.namespace !== undefined || Boolean(process.env.MLSCALE_NAMESPACE);
    const withNodegroups = opts.allNamespaces || (!explicitNs && scope.environment.eks !== undefined);
    return { kinds: [{ kind: 'service', names: [], namespace: ns('service') }, ...(withNodegroups ? [{ kind: 'nodegroup' as const, names: [], namespace: ns('nodegroup') }] : [])], mixed: true };
  }
  if (type.includes('/')) {
    const refs = [type, ...names].map((r) => parseResource(r));
    if (opts.allNamespaces) throw new CliError('names need a namespace: use -n NAMESPACE instead of -A');
    const kinds = (['service', 'nodegroup'] as const).flatMap((kind) => {
      const of = refs.filter((r) => r.kind === kind).map((r) => r.name);
      return of.length ? [{ kind, names: of, namespace: ns(kind) }] : [];
    });
    return { kinds, mixed: kinds.length > 1 };
  }
  const kind = parseKind(type);
  names.forEach((n) => checkName(n, 'name'));
  if (opts.allNamespaces && names.length > 0) throw new CliError('names need a namespace: use -n NAMESPACE instead of -A');
  return { kinds: [{ kind, names, namespace: ns(kind) }], mixed: false };
}

async function readViews(sel: Selection): Promise<ResourceView[]> {
  const views: ResourceView[] = [];
  for (const { kind, names, namespace } of sel.kinds) {
    if (names.length > 0) {
      for (const name of names) {
        const v = await read(kind, namespace!, name);
        if (!v) throw notFound({ kind, name }, namespace!);
        views.push(v);
      }
    } else {
      const namespaces = namespace === undefined ? undefined : [namespace];
      views.push(...(kind === 'service' ? await listServices(namespaces) : await listNodegroups(namespaces)));
    }
  }
  return views;
}

/** Active holders per managed target; undefined (with a warning, once) when the holds table is not there. */
async function activeHolds(store: HoldStore, specs: readonly TargetSpec[], now: number, warn: (s: string) => void): Promise<Map<string, string[]> | undefined> {
  if (specs.length === 0) return new Map();
  let stored: Map<string, Hold[]>;
  try {
    stored = specs.length === 1 ? new Map([[specs[0]!.name, await store.of(specs[0]!.name)]]) : await store.all();
  } catch (e) {
    if (!(e instanceof HoldsTableMissing)) throw e;
    warn(`Warning: ${e.message}; holds not shown`);
    return undefined;
  }
  return new Map(
    specs.map((spec) => {
      const mine = stored.get(spec.name) ?? [];
      const holders = [...mine.filter((h) => isActive(h, now)), ...derivedHolds(spec, mine, now)].map((h) => h.holder);
      return [spec.name, [...new Set(holders)].sort()];
    }),
  );
}

async function rows(scope: Scope, sel: Selection, warn: (s: string) => void): Promise<Row[]> {
  const views = await readViews(sel);
  const specOf = (v: ResourceView) => scope.doc.targets.find((t) => kindOf(t) === v.kind && t.cluster === v.namespace && resourceOf(t) === v.name);
  const specs = [...new Set(views.map(specOf).filter((s): s is TargetSpec => s !== undefined))];
  const holds = await activeHolds(holdStore(scope), specs, Date.now(), warn);
  return views.map((view) => {
    const spec = specOf(view);
    const held = spec && holds?.get(spec.name);
    return { view, ...(spec ? { spec } : {}), ...(held ? { holds: held } : {}) };
  });
}

function render(format: OutputFormat, list: readonly Row[], sel: Selection, opts: GetOptions, watching: boolean): void {
  if (isDocument(format)) {
    const doc = list.map(rowDocument);
    if (watching && format === 'json') out(JSON.stringify(doc));
    else {
      if (watching && format === 'yaml') out('---');
      printDocument(format, doc);
    }
    return;
  }
  const name = (r: Row) => (sel.mixed ? `${r.view.kind}/${r.view.name}` : r.view.name);
  if (format === 'name') {
    list.forEach((r) => out(qualified(r.view)));
    return;
  }
  if (list.length === 0) {
    const namespaces = [...new Set(sel.kinds.map((k) => k.namespace))];
    err(opts.allNamespaces || namespaces.length !== 1 ? 'No resources found.' : `No resources found in ${namespaces[0]} namespace.`);
    return;
  }
  const wide = format === 'wide';
  const headers = ['NAMESPACE', 'NAME', 'REPLICAS', 'READY', 'STATUS', ...(wide ? ['MIN', 'MAX', 'HOLDS'] : [])];
  const cells = list.map((r) => {
    const v = r.view;
    const base = [v.namespace, name(r), v.desired, `${v.running}/${v.desired}`, status(r)];
    if (!wide) return base;
    return [...base, v.limits?.min ?? '-', v.limits?.max ?? '-', r.holds?.length ? r.holds.join(',') : '-'];
  });
  out(renderTable(headers, cells));
}

export function registerGetCommand(program: Command, ctx: RunContext): void {
  scopeOptions(
    program
      .command('get')
      .description('list ECS services or EKS node groups with their replicas, scaling status and (-o wide) limits and holds')
      .argument('[type]', 'services (svc) or nodegroups (ng), or TYPE/NAME; none: both kinds')
      .argument('[names...]', 'only these names'),
  )
    .option('-A, --all-namespaces', 'list across every cluster of the account and region')
    .option('-w, --watch', 'print again every --interval until Ctrl-C')
    .option('--interval <duration>', 'time between --watch frames (at least 1s)', '2s')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Columns: READY is running/desired; STATUS is Running, Scaling (running differs from desired),
Paused (a pause hold, or every kind of automatic scaling suspended) or Stopped (0 wanted).
-o wide adds MIN and MAX (as Application Auto Scaling or EKS has them) and HOLDS (the active
holders of a managed target, '-' for none or for a resource mlscale does not manage).
--watch prints the table again every --interval (json: one document per line) until Ctrl-C.

Examples:
  mlscale get services
  mlscale get services -A -o json
  mlscale get nodegroups -n ml-prod
  mlscale get svc engine -o wide --watch`,
    )
    .action(async (type: string | undefined, names: string[], opts: GetOptions) => {
      const intervalMs = interval(opts.interval);
      const scope = loadScope(opts);
      const sel = select(scope, type, names, opts);
      if (!opts.watch) {
        render(opts.output, await rows(scope, sel, err), sel, opts, false);
        return;
      }
      let warned = false;
      const warnOnce = (line: string) => {
        if (!warned) err(line);
        warned = true;
      };
      await watch(intervalMs, ctx, async (n) => {
        const list = await rows(scope, sel, warnOnce);
        if (n > 0 && !isDocument(opts.output)) out();
        render(opts.output, list, sel, opts, true);
      });
    });
}
