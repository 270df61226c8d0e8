import { CliError } from './errors';

/** What the CLI scales: an ECS service (namespace = ECS cluster) or an EKS managed node group (namespace = EKS cluster). */
export type Kind = 'service' | 'nodegroup';

const KINDS: Readonly<Record<string, Kind>> = {
  service: 'service',
  services: 'service',
  svc: 'service',
  nodegroup: 'nodegroup',
  nodegroups: 'nodegroup',
  ng: 'nodegroup',
};

/** The words `get` and the completion script offer for each kind. */
export const KIND_WORDS = Object.keys(KINDS);

/** What ECS (services, clusters) and EKS (clusters, node groups) accept as names: letters, digits, `-` and `_`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;

export function parseKind(word: string): Kind {
  const kind = KINDS[word.toLowerCase()];
  if (!kind) throw new CliError(`Unknown resource type '${word}' (use services or nodegroups)`);
  return kind;
}

export const isKindWord = (word: string) => KINDS[word.toLowerCase()] !== undefined;

export function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new CliError(`Invalid ${what} '${name}': letters, digits, '-' and '_' only`);
  return name;
}

export interface ResourceRef {
  readonly kind: Kind;
  readonly name: string;
  /** The kind was written (`service/x`, `nodegroup x`), not assumed for a bare NAME. */
  readonly explicit: boolean;
}

/** `NAME`, `service/NAME`, `nodegroup/NAME`, or `service NAME` / `nodegroup NAME` as two words. */
export function parseResource(first: string, second?: string): ResourceRef {
  if (second !== undefined) {
    if (first.includes('/')) throw new CliError(`Give either TYPE NAME or TYPE/NAME, got '${first} ${second}'`);
    return { kind: parseKind(first), name: checkName(second, 'name'), explicit: true };
  }
  const slash = first.indexOf('/');
  if (slash < 0) return { kind: 'service', name: checkName(first, 'name'), explicit: false };
  const prefix = first.slice(0, slash);
  const kind = KINDS[prefix.toLowerCase()];
  if (!kind) throw new CliError(`Unknown resource kind '${prefix}' in '${first}' (use service/NAME or nodegroup/NAME)`);
  return { kind, name: checkName(first.slice(slash + 1), 'name'), explicit: true };
}

/** `service.mlscale/engine`, `nodegroup.mlscale/gpu-workers`: how output names a resource. */
export const qualified = (ref: { readonly kind: Kind; readonly name: string }) => `${ref.kind}.mlscale/${ref.name}`;

/** `engine`, `nodegroup/gpu-workers`: how a resource is written back on a command line. */
export const argumentOf = (ref: { readonly kind: Kind; readonly name: string }) => (ref.kind === 'service' ? ref.name : `nodegroup/${ref.name}`);

/** How errors point at the listing that shows what exists. */
export const listHint = (kind: Kind) => `mlscale get ${kind === 'service' ? 'services' : 'nodegroups'} -A`;

export function notFound(ref: { readonly kind: Kind; readonly name: string }, namespace: string): CliError {
  const what = ref.kind === 'service' ? 'Service' : 'Node group';
  return new CliError(`${what} '${ref.name}' not found in namespace '${namespace}' (see: ${listHint(ref.kind)})`);
}
