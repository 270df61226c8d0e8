import type { Command } from 'commander';
import { CliError } from '../errors';
import { listNodegroups, listServices, read, type ResourceView } from '../inventory';
import { err, out, outputOption, printJson, renderTable, type OutputFormat } from '../output';
import { checkName, DEFAULT_NAMESPACE, notFound, parseKind } from '../resource';

interface GetOptions {
  readonly namespace: string;
  readonly allNamespaces?: boolean;
  readonly output: OutputFormat;
}

/** The JSON shape of one row: everything the table shows, plus limits and suspension. */
export function viewJson(v: ResourceView) {
  return {
    kind: v.kind,
    namespace: v.namespace,
    name: v.name,
    replicas: v.desired,
    ready: v.running,
    pending: v.pending,
    status: v.status,
    paused: v.paused,
    minCapacity: v.limits?.min ?? null,
    maxCapacity: v.limits?.max ?? null,
    suspended: { dynamicScalingIn: v.suspension.dynamicIn, dynamicScalingOut: v.suspension.dynamicOut, scheduledScaling: v.suspension.scheduled },
  };
}

export function registerGetCommand(program: Command): void {
  program
    .command('get')
    .description('list ECS services or EKS node groups with their replicas and scaling status')
    .argument('<type>', 'services (svc) or nodegroups (ng)')
    .argument('[names...]', 'only these names')
    .option('-n, --namespace <namespace>', 'ECS cluster (services) or EKS cluster (node groups)', DEFAULT_NAMESPACE)
    .option('-A, --all-namespaces', 'list across every cluster of the account and region')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Columns: READY is running/desired; STATUS is Running, Scaling (running differs from desired),
Paused (automatic scaling suspended by 'mlscale pause' or '--replicas 0') or Stopped (0 wanted).

Examples:
  mlscale get services -n pipestream
  mlscale get services -A -o json
  mlscale get nodegroups -n ml-prod`,
    )
    .action(async (type: string, names: string[], opts: GetOptions) => {
      const kind = parseKind(type);
      const namespace = checkName(opts.namespace, 'namespace');
      names.forEach((n) => checkName(n, 'name'));
      if (opts.allNamespaces && names.length > 0) throw new CliError('names need a namespace: use -n NAMESPACE instead of -A');

      let views: ResourceView[];
      if (names.length > 0) {
        views = [];
        for (const name of names) {
          const v = await read(kind, namespace, name);
          if (!v) throw notFound({ kind, name }, namespace);
          views.push(v);
        }
      } else {
        const namespaces = opts.allNamespaces ? undefined : [namespace];
        views = kind === 'service' ? await listServices(namespaces) : await listNodegroups(namespaces);
      }

      if (opts.output === 'json') {
        printJson(views.map(viewJson));
        return;
      }
      if (views.length === 0) {
        err(opts.allNamespaces ? 'No resources found.' : `No resources found in ${namespace} namespace.`);
        return;
      }
      out(
        renderTable(
          ['NAMESPACE', 'NAME', 'REPLICAS', 'READY', 'STATUS'],
          views.map((v) => [v.namespace, v.name, v.desired, `${v.running}/${v.desired}`, v.status]),
        ),
      );
    });
}
