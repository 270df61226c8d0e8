import type { Command } from 'commander';
import { alarmStates, type AlarmStates } from '../../../lambdas/aws/alarms';
import { AwsCallError } from '../../../lambdas/aws/send';
import type { TargetState } from '../../../lambdas/aws/target-state';
import { WAKE_HOLDER, type Suspension } from '../../../lambdas/core/holds';
import { reconcile, type Reconciliation } from '../../../lambdas/core/reconcile';
import { configuredLimits, emergencyCeiling, isScaleToZero, type TargetSpec } from '../../../lambdas/core/config/document';
import { idleVerdict, wakeHold, type WorkState } from '../../../lambdas/core/work';
import { explainAwsError } from '../aws-errors';
import { holdStore, loadScope, managedTarget, scopeOptions, type Managed, type Scope, type ScopeOptions } from '../context';
import { holdDocument, holdViews, remaining, sets, type HoldView } from '../holds-view';
import { isDocument, isoSeconds, out, outputOption, printDocument, type OutputFormat } from '../output';
import { qualified } from '../resource';
import { readTargetState } from '../target-state';
import { readWork } from '../work';

interface DescribeOptions extends ScopeOptions {
  readonly output: OutputFormat;
}

interface Described {
  readonly m: Managed;
  readonly scope: Scope;
  readonly now: number;
  readonly state: TargetState;
  readonly holds: readonly HoldView[];
  readonly work?: WorkState;
  /** The wake hold the next pass would write (work pending on a scale-to-zero target). */
  readonly wake?: HoldView;
  readonly alarms?: AlarmStates | { readonly error: string };
  readonly r: Reconciliation;
  /** What the next reconcile pass would change, in words; empty when the target is in line. */
  readonly changes: readonly string[];
}

const suspensionText = (s: Suspension) => {
  const parts = [s.dynamicIn ? 'scale-in' : '', s.dynamicOut ? 'scale-out' : '', s.scheduled ? 'scheduled' : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none';
};
const suspensionDoc = (s: Suspension) => ({ scaleIn: s.dynamicIn, scaleOut: s.dynamicOut, scheduled: s.scheduled });

/** What the pass would write, compared field by field (node groups have no suspension switches to compare). */
function changesOf(spec: TargetSpec, state: TargetState, r: Reconciliation): string[] {
  const changes: string[] = [];
  if (spec.kind === 'ecs-service' && !state.registered) changes.push(`register the scalable target (min ${r.min}, max ${r.max})`);
  else {
    if (state.min !== r.min) changes.push(`min ${state.min} -> ${r.min}`);
    if (state.max !== r.max) changes.push(`max ${state.max} -> ${r.max}`);
  }
  if (spec.kind === 'ecs-service' && suspensionText(state.suspension) !== suspensionText(r.suspension)) {
    changes.push(`suspension ${suspensionText(state.suspension)} -> ${suspensionText(r.suspension)}`);
  }
  if (state.desired !== r.desired) changes.push(`desired ${state.desired} -> ${r.desired}`);
  return changes;
}

async function readAlarms(names: readonly string[]): Promise<Described['alarms']> {
  if (names.length === 0) return undefined;
  try {
    return await alarmStates(names);
  } catch (e) {
    // describe reads the alarms for the operator's information: their absence must not hide the rest.
    if (e instanceof AwsCallError) return { error: await explainAwsError(e) };
    throw e;
  }
}

async function gather(scope: Scope, m: Managed): Promise<Described> {
  const nowDate = new Date();
  const now = nowDate.getTime();
  const store = holdStore(scope);
  const [state, stored, work, alarms] = await Promise.all([readTargetState(m), store.of(m.spec.name), readWork(m.spec, nowDate), readAlarms(m.spec.alarms)]);
  const views = holdViews(m.spec, stored, now);
  const existingWake = stored.find((h) => h.holder === WAKE_HOLDER);
  const wakeNext = work ? wakeHold(m.spec, work, state.desired, existingWake, now) : undefined;
  const active = views.filter((v) => v.state === 'active').map((v) => v.hold);
  const inForce = wakeNext ? [...active.filter((h) => h.holder !== WAKE_HOLDER), wakeNext] : active;
  // The pure decision on what was read: describe predicts the next pass, it never runs one.
  const r = reconcile({
    configured: configuredLimits(m.spec),
    holds: inForce,
    observed: state,
    now,
    ...(work && isScaleToZero(m.spec) ? { idle: idleVerdict(m.spec, work) } : {}),
  });
  return {
    m,
    scope,
    now,
    state,
    holds: views,
    ...(work ? { work } : {}),
    ...(wakeNext ? { wake: { hold: wakeNext, source: 'table' as const, state: 'active' as const } } : {}),
    ...(alarms ? { alarms } : {}),
    r,
    changes: changesOf(m.spec, state, r),
  };
}

function document(d: Described) {
  const { m, scope, state, r, now } = d;
  return {
    name: m.ref.name,
    kind: m.ref.kind,
    namespace: m.namespace,
    target: m.spec.name,
    environment: scope.environment.name,
    config: scope.shown,
    holdsTable: scope.doc.holdsTable ?? null,
    pool: m.spec.pool,
    configured: { min: m.spec.minCapacity, max: m.spec.maxCapacity, ceiling: emergencyCeiling(m.spec), scaleToZero: configuredLimits(m.spec).scaleToZero },
    observed: {
      desired: state.desired,
      running: state.running,
      pending: state.pending,
      min: state.min,
      max: state.max,
      registered: state.registered,
      suspension: suspensionDoc(state.suspension),
      status: state.status,
    },
    holds: d.holds.map((v) => holdDocument(v, now)),
    work: d.work ? { state: d.work.state, reason: d.work.reason } : null,
    wouldWrite: d.wake ? holdDocument(d.wake, now) : null,
    alarms: d.alarms === undefined ? null : 'error' in d.alarms ? { error: d.alarms.error } : { states: d.alarms.states, missing: d.alarms.missing, inAlarm: d.alarms.inAlarm },
    reconciled: { min: r.min, max: r.max, suspension: suspensionDoc(r.suspension), desired: r.desired, paused: r.paused, holds: r.holds, why: r.why },
    inLine: d.changes.length === 0,
    nextPass: d.changes,
  };
}

/** Aligned columns without a header (the sections of describe). */
function columns(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => (indent + r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('   ')).trimEnd());
}

function holdRows(views: readonly HoldView[], now: number): string[] {
  return columns(
    views.map((v) => {
      const h = v.hold;
      const start = h.startsAt ?? h.createdAt;
      const when =
        v.state === 'upcoming'
          ? `from ${isoSeconds(start)} (in ${remaining(start, now)}) until ${isoSeconds(h.expiresAt)}`
          : `until ${isoSeconds(h.expiresAt)} (${remaining(h.expiresAt, now)} left)`;
      return [h.holder, sets(h), when, `${v.source === 'config' ? '(config) ' : ''}${h.reason}`];
    }),
  );
}

function text(d: Described): string[] {
  const { m, scope, state, r, now } = d;
  const what = m.spec.kind === 'ecs-service' ? `service (ECS service ${m.spec.service})` : `nodegroup (EKS managed node group ${m.spec.nodegroup})`;
  const label = (l: string, v: string) => `${`${l}:`.padEnd(14)}${v}`;
  const sub = (l: string, v: string) => `  ${`${l}:`.padEnd(12)}${v}`;
  const lines = [
    label('Name', m.ref.name),
    label('Kind', what),
    label('Namespace', m.namespace),
    label('Environment', `${scope.environment.name} (${scope.shown}; holds table ${scope.doc.holdsTable})`),
    label('Pool', m.spec.pool),
    label('Configured', `min ${m.spec.minCapacity}, max ${m.spec.maxCapacity}, emergency ceiling ${emergencyCeiling(m.spec)}`),
    'Observed:',
    sub('Desired', `${state.desired} (running ${state.running}, pending ${state.pending})`),
    sub('Limits', state.registered ? `min ${state.min}, max ${state.max}` : 'no scalable target registered (nothing autoscales it yet)'),
    sub('Suspension', m.spec.kind === 'ecs-service' ? suspensionText(state.suspension) : '- (node groups have no autoscaler switches)'),
    sub('Status', state.status),
  ];
  const active = d.holds.filter((v) => v.state === 'active');
  const upcoming = d.holds.filter((v) => v.state === 'upcoming');
  lines.push('Holds:', ...(active.length ? holdRows(active, now) : ['  <none>']));
  if (upcoming.length) lines.push('Upcoming (24h):', ...holdRows(upcoming, now));
  if (d.work) lines.push(label('Work', `${d.work.state}: ${d.work.reason}`));
  if (d.wake) lines.push(label('Would write', `hold wake: ${sets(d.wake.hold)} (${d.wake.hold.reason})`));
  if (d.alarms) {
    if ('error' in d.alarms) lines.push(label('Alarms', `not read: ${d.alarms.error}`));
    else {
      const states = d.alarms.states;
      lines.push('Alarms:', ...columns([...Object.entries(states), ...d.alarms.missing.map((n) => [n, 'not found'])]));
    }
  }
  lines.push(
    'Reconciled:',
    sub('Min', r.why.min),
    sub('Max', r.why.max),
    sub('Suspension', m.spec.kind === 'ecs-service' ? r.why.suspension : `- (${r.paused ? 'paused: the reconciler leaves desired alone' : 'none'})`),
    sub('Desired', r.why.desired),
    label('In line', d.changes.length ? `no: the next reconcile pass would change ${d.changes.join(', ')}` : 'yes: the next reconcile pass changes nothing'),
  );
  return lines;
}

async function describe(first: string, second: string | undefined, opts: DescribeOptions): Promise<void> {
  const scope = loadScope(opts);
  const m = managedTarget(scope, first, second, opts.namespace);
  const d = await gather(scope, m);
  if (isDocument(opts.output)) printDocument(opts.output, document(d));
  else if (opts.output === 'name') out(qualified(m.ref));
  else text(d).forEach((l) => out(l));
}

export function registerDescribeCommand(program: Command): void {
  scopeOptions(
    program
      .command('describe')
      .description('explain a managed target: config, what AWS has, its holds, and what the reconciler makes of them (reads only)')
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
      .argument('[name]', 'the name, when TYPE is given as its own word'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Reads the target, its holds (the table and the config's planned windows), its work (scale-to-zero)
and its alarms, then runs the reconciler's pure decision on them: each value with the hold or the
config that sets it, and what the next reconcile pass would change. It writes nothing.

Examples:
  mlscale describe engine
  mlscale describe nodegroup/gpu-workers -o yaml`,
    )
    .action(async (first: string, second: string | undefined, opts: DescribeOptions) => describe(first, second, opts));
}
