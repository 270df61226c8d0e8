import { readServiceStates, ecsResourceId } from '../aws/ecs';
import { describeNodegroup, nodegroupState } from '../aws/eks';
import type { HoldStore } from '../aws/holds-store';
import { registerServiceLimits, setServiceDesired, updateNodegroupScaling } from '../aws/limits-writer';
import type { TargetState } from '../aws/target-state';
import { holderKind, isActive, type Hold, type Suspension } from '../core/holds';
import { scheduleHolds } from '../core/schedules';
import { reconcile, type Reconciliation } from '../core/reconcile';
import { configuredLimits, describeTarget, isScaleToZero, type TargetSpec } from '../core/config/document';
import { drainHold } from '../core/drain';
import { idleVerdict, wakeHold, type WorkState } from '../core/work';
import { readSignals, signalOf } from './signals';
import { mapLimit } from '../shared/map-limit';

/**
 * One reconcile pass (the reconciler Lambda's tick, and what every actor
 * runs right after writing a hold): read what the targets look like, their
 * holds and — for scale-to-zero targets — their work; renew or write `wake`
 * holds; decide each target with the pure `reconcile`; apply what differs.
 * The only code that writes capacity (lambdas/aws/limits-writer.ts). A
 * target that cannot be read or changed is reported and skipped; the next
 * pass tries again.
 */

export interface TargetOutcome {
  readonly target: string;
  /** Desired capacity before this pass. */
  readonly from: number;
  /** Tasks (nodes) running when the pass read the target. */
  readonly running: number;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** Any of scale-in, scale-out or scheduled scaling suspended. */
  readonly suspended: boolean;
  readonly suspension: Suspension;
  readonly paused: boolean;
  /** Holders of the active holds. */
  readonly holds: readonly string[];
  /** What this pass changed. */
  readonly changed: { readonly limits: boolean; readonly desired: boolean };
  readonly why: Reconciliation['why'];
  /** Scale-to-zero targets: what their work metrics say. */
  readonly work?: WorkState;
  /** Set when the target could not be read or changed, or its work is unknown at zero. */
  readonly error?: string;
  /** The target could not be read or changed (not merely its work unknown): this pass did nothing for it. */
  readonly failed?: boolean;
}

export interface TickResult {
  readonly targets: TargetOutcome[];
  /** API calls by kind (for the scale benchmark and the logs). */
  readonly calls: { readonly describe: number; readonly getMetricData: number; readonly holds: number; readonly update: number };
}

export interface TickOptions {
  /** A one-shot desired capacity for one target (`mlscale scale`). */
  readonly request?: { readonly target: string; readonly desired: number; readonly by: string };
}

/** Changes in flight at once; ECS and EKS throttle bursts of updates. */
const APPLY_CONCURRENCY = 10;

async function readStates(specs: readonly TargetSpec[]): Promise<{ states: Map<string, TargetState | Error>; calls: number }> {
  const ecs = specs.filter((t): t is Extract<TargetSpec, { kind: 'ecs-service' }> => t.kind === 'ecs-service');
  const eks = specs.filter((t): t is Extract<TargetSpec, { kind: 'eks-nodegroup' }> => t.kind === 'eks-nodegroup');
  const states = new Map<string, TargetState | Error>();
  let calls = 0;
  if (ecs.length > 0) {
    const read = await readServiceStates(ecs.map((t) => ({ cluster: t.cluster, service: t.service, fallback: { min: t.minCapacity, max: t.maxCapacity } })));
    for (const t of ecs) states.set(t.name, read.states.get(ecsResourceId(t.cluster, t.service)) ?? new Error('not read'));
    calls += read.calls;
  }
  await mapLimit(eks, APPLY_CONCURRENCY, async (t) => {
    calls++;
    try {
      states.set(t.name, nodegroupState(await describeNodegroup({ cluster: t.cluster, nodegroup: t.nodegroup })));
    } catch (err) {
      states.set(t.name, err as Error);
    }
  });
  return { states, calls };
}

/** What changes on the target, applied in an order the services accept. */
async function apply(spec: TargetSpec, state: TargetState, r: Reconciliation): Promise<number> {
  let calls = 0;
  if (spec.kind === 'ecs-service') {
    const ref = { cluster: spec.cluster, service: spec.service };
    // Limits first: desired is then within them whichever way it moves.
    if (r.changes.limits) {
      calls++;
      await registerServiceLimits(ref, { min: r.min, max: r.max, suspension: r.suspension });
    }
    if (r.changes.desired) {
      calls++;
      await setServiceDesired(ref, r.desired);
    }
  } else if (r.changes.limits || r.changes.desired) {
    calls++;
    // EKS checks min <= desired <= max on the result and rejects an update that changes nothing.
    await updateNodegroupScaling(
      { cluster: spec.cluster, nodegroup: spec.nodegroup },
      { minSize: r.min, maxSize: r.max, desiredSize: r.changes.desired ? r.desired : Math.min(Math.max(state.desired, r.min), r.max) },
    );
  }
  return calls;
}

/** Holds that decide the same thing: the same holders with the same values and ends. */
const signature = (holds: readonly Hold[], now: number) =>
  holds
    .filter((h) => isActive(h, now))
    .map((h) => `${h.holder}|${h.floor}|${h.ceiling}|${h.suspendScaleIn}|${h.suspendScaleOut}|${h.suspendScheduled}|${h.expiresAt}`)
    .sort()
    .join(';');

/** One pass over `specs`. */
export async function reconcileTargets(specs: readonly TargetSpec[], store: HoldStore, now: Date, options: TickOptions = {}): Promise<TickResult> {
  if (specs.length === 0) return { targets: [], calls: { describe: 0, getMetricData: 0, holds: 0, update: 0 } };
  const nowMs = now.getTime();
  let holdCalls = 1;
  const [read, work, allHolds] = await Promise.all([
    readStates(specs),
    readSignals(specs, now),
    specs.length === 1 ? store.of(specs[0]!.name).then((h) => new Map([[specs[0]!.name, h]])) : store.all(),
  ]);

  let updates = 0;
  /** What a target's first decision needs for the re-check. */
  interface Pass {
    readonly spec: TargetSpec;
    readonly holds: readonly Hold[];
    readonly applied: TargetState;
    readonly decide: (holds: readonly Hold[], observed: TargetState) => Reconciliation;
  }
  const passes = new Map<string, Pass>();
  const outcome = (base: { target: string; work?: WorkState }, from: number, running: number, r: Reconciliation, error?: string): TargetOutcome => ({
    ...base,
    from,
    running,
    desired: r.desired,
    min: r.min,
    max: r.max,
    suspended: r.suspension.dynamicIn || r.suspension.dynamicOut || r.suspension.scheduled,
    suspension: r.suspension,
    paused: r.paused,
    holds: r.holds,
    changed: r.changes,
    why: r.why,
    ...(error ? { error } : {}),
  });
  const failure = (base: { target: string; work?: WorkState }, spec: TargetSpec, state: TargetState, err: unknown): TargetOutcome => ({
    ...base,
    ...unchanged(state.desired, state),
    why: noWhy,
    error: `${describeTarget(spec)}: ${(err as Error).name}: ${(err as Error).message}`,
    failed: true,
  });

  const targets = await mapLimit(specs, APPLY_CONCURRENCY, async (spec): Promise<TargetOutcome> => {
    const state = read.states.get(spec.name);
    const w = work.work.get(spec.name);
    const stored = allHolds.get(spec.name) ?? [];
    let holds = [...stored, ...derivedHolds(spec, stored, nowMs)];
    const base = { target: spec.name, ...(w ? { work: w } : {}) };
    if (!state || state instanceof Error) {
      const message = state ? `${state.name}: ${state.message}` : 'not read';
      return { ...base, ...unchanged(0), why: noWhy, error: `${describeTarget(spec)} could not be read: ${message}`, failed: true };
    }
    let error: string | undefined;
    try {
      if (w && isScaleToZero(spec)) {
        const existing = holds.find((h) => h.holder === 'wake');
        const wake = wakeHold(spec, w, state.desired, existing, nowMs);
        if (wake) {
          holdCalls++;
          await store.put(wake);
          holds = [...holds.filter((h) => h.holder !== 'wake'), wake];
        } else if (existing && idleVerdict(spec, w).idle) {
          // Idle now: the wake hold's work is done, so it goes at once rather than when it would lapse.
          holdCalls++;
          await store.release(spec.name, 'wake');
          holds = holds.filter((h) => h.holder !== 'wake');
        }
        if (w.state === 'unknown' && state.desired === 0) error = `work unknown at zero: ${w.reason}`;
      }
      if (spec.drain) {
        const drain = drainHold(spec.name, spec.drain, signalOf(work, spec.name, state.running), state.desired, spec.maxCapacity, nowMs);
        if (drain) {
          holdCalls++;
          await store.put(drain);
          holds = [...holds.filter((h) => h.holder !== 'drain'), drain];
        }
      }
      const decide = (current: readonly Hold[], observed: TargetState) =>
        reconcile({
          configured: configuredLimits(spec),
          holds: current,
          observed: { ...observed, suspendable: spec.kind === 'ecs-service' },
          now: nowMs,
          ...(w ? { idle: idleVerdict(spec, w) } : {}),
          ...(options.request?.target === spec.name ? { request: options.request } : {}),
        });
      const r = decide(holds, state);
      if (r.changes.limits || r.changes.desired) {
        updates += await apply(spec, state, r);
        passes.set(spec.name, { spec, holds, decide, applied: { ...state, min: r.min, max: r.max, suspension: r.suspension, desired: r.desired, registered: true } });
      }
      return outcome(base, state.desired, state.running, r, error);
    } catch (err) {
      return failure(base, spec, state, err);
    }
  });

  // Another actor may have written or released a hold while this pass applied an older view:
  // read the holds once more (one read for all changed targets) and correct the targets it concerns.
  if (passes.size > 0) {
    holdCalls++;
    const fresh = passes.size === 1 ? new Map([[[...passes.keys()][0]!, await store.of([...passes.keys()][0]!)]]) : await store.all();
    await mapLimit(
      targets.map((t, i) => [t, i] as const).filter(([t]) => passes.has(t.target)),
      APPLY_CONCURRENCY,
      async ([first, i]) => {
        const p = passes.get(first.target)!;
        const freshStored = fresh.get(first.target) ?? [];
        const holds = [...freshStored, ...derivedHolds(p.spec, freshStored, nowMs)];
        if (signature(holds, nowMs) === signature(p.holds, nowMs)) return;
        try {
          const again = p.decide(holds, p.applied);
          if (again.changes.limits || again.changes.desired) updates += await apply(p.spec, p.applied, again);
          const merged = { ...again, changes: { limits: first.changed.limits || again.changes.limits, desired: first.changed.desired || again.changes.desired } };
          targets[i] = outcome({ target: first.target, ...(first.work ? { work: first.work } : {}) }, first.from, first.running, merged, first.error);
        } catch (err) {
          targets[i] = failure({ target: first.target, ...(first.work ? { work: first.work } : {}) }, p.spec, p.applied, err);
        }
      },
    );
  }
  return { targets, calls: { describe: read.calls, getMetricData: work.calls, holds: holdCalls, update: updates } };
}


/**
 * The holds the config's schedules imply now (planned events, peak hours). A
 * multiplier event multiplies what the target would have without it: the
 * configured minimum or the forecast's floor.
 */
export function derivedHolds(spec: TargetSpec, stored: readonly Hold[], now: number): Hold[] {
  if (spec.plannedEvents.length === 0 && spec.peakHours.length === 0) return [];
  const forecast = Math.max(0, ...stored.filter((h) => holderKind(h.holder) === 'predictive' && isActive(h, now)).map((h) => h.floor ?? 0));
  return scheduleHolds(spec, now, Math.max(spec.minCapacity, forecast));
}

const noWhy = { min: 'not reconciled', max: 'not reconciled', suspension: 'not reconciled', desired: 'not reconciled' };

function unchanged(desired: number, state?: TargetState) {
  const suspension = state?.suspension ?? { dynamicIn: false, dynamicOut: false, scheduled: false };
  return {
    from: desired,
    running: state?.running ?? 0,
    desired,
    min: state?.min ?? 0,
    max: state?.max ?? 0,
    suspended: suspension.dynamicIn || suspension.dynamicOut || suspension.scheduled,
    suspension,
    paused: false,
    holds: [],
    changed: { limits: false, desired: false },
  };
}
