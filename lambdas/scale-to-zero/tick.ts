import { decideScaleToZero, lookbackMinutes, type Observation } from '../core/scale-to-zero';
import { describeTarget, type TargetSpec } from '../core/targets';
import { type EcsSpec, readEcsStates } from '../aws/ecs-service-target';
import { describeNodegroup, nodegroupState } from '../aws/eks-nodegroup-target';
import { readMetrics } from '../aws/metric-reader';
import { scalableTarget, type TargetState } from '../aws/scalable-target';
import { mapLimit } from '../shared/map-limit';

export interface TargetDecision {
  readonly target: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  /** Set when the target could not be read or changed; the others went on. */
  readonly error?: string;
}

export interface TickResult {
  readonly decisions: TargetDecision[];
  /** API calls this tick made, by kind (for the scale benchmark and the logs). */
  readonly calls: { readonly describe: number; readonly getMetricData: number; readonly update: number };
}

/**
 * The floor of a scale-to-zero target. On ECS the Lambda raises the scalable
 * target's min to `scaleFromZeroTo` while there is work and lowers it to the
 * configured minimum when idle; a registered min above that is an operator's
 * (or a runbook's) and is never undercut. A node group's minSize is always its floor.
 */
export function scaleToZeroFloors(t: TargetSpec, state: TargetState): { floor: number; active: number } {
  const active = Math.min(state.max, Math.max(t.scaleFromZeroTo, t.minCapacity, 1));
  if (t.kind === 'eks-nodegroup') return { floor: state.min, active };
  return { floor: state.min > active ? state.min : t.minCapacity, active };
}

/** Changes in flight at once; ECS and EKS throttle bursts of updates. */
const APPLY_CONCURRENCY = 10;

const isScaleToZero = (t: TargetSpec): boolean => t.pool === 'scale-to-zero' && t.work !== undefined;

async function readStates(targets: readonly TargetSpec[]): Promise<{ states: Map<string, TargetState | Error>; calls: number }> {
  const ecs = targets.filter((t): t is EcsSpec => t.kind === 'ecs-service');
  const eks = targets.filter((t) => t.kind === 'eks-nodegroup');
  const ecsRead = ecs.length > 0 ? await readEcsStates(ecs) : { states: new Map<string, TargetState | Error>(), calls: 0 };
  const states = ecsRead.states;
  await mapLimit(eks, APPLY_CONCURRENCY, async (t) => {
    try {
      states.set(t.name, nodegroupState(await describeNodegroup(t.cluster, (t as Extract<TargetSpec, { kind: 'eks-nodegroup' }>).nodegroup)));
    } catch (err) {
      states.set(t.name, err as Error);
    }
  });
  return { states, calls: ecsRead.calls + eks.length };
}

/**
 * One pass over every scale-to-zero target: read capacities and work metrics
 * in batches, decide each target with the pure decision, apply the changes.
 * A target that cannot be read or changed is reported and skipped; it never
 * stops the others.
 */
export async function runScaleToZero(all: readonly TargetSpec[], now: Date): Promise<TickResult> {
  const targets = all.filter(isScaleToZero);
  if (targets.length === 0) return { decisions: [], calls: { describe: 0, getMetricData: 0, update: 0 } };

  const lookback = Math.max(...targets.map((t) => lookbackMinutes(t)));
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  const window = { start: new Date(end.getTime() - lookback * 60_000), end, periodSeconds: 60 };
  const reads = targets.flatMap((t) => [
    { key: `${t.name}#work`, metric: t.work! },
    ...(t.inFlight ? [{ key: `${t.name}#inFlight`, metric: t.inFlight }] : []),
  ]);
  const [{ states, calls: describeCalls }, { observations, calls: metricCalls }] = await Promise.all([readStates(targets), readMetrics(reads, window)]);

  let updates = 0;
  const decisions = await mapLimit(targets, APPLY_CONCURRENCY, async (t): Promise<TargetDecision> => {
    const state = states.get(t.name);
    if (!state || state instanceof Error) {
      return { target: t.name, from: 0, to: 0, reason: `${describeTarget(t)} could not be read; no change`, error: state?.message ?? 'no state' };
    }
    const inFlight = t.inFlight ? observations.get(`${t.name}#inFlight`) : undefined;
    const floors = scaleToZeroFloors(t, state);
    const decision = decideScaleToZero({
      policy: {
        minCapacity: floors.floor,
        maxCapacity: state.max,
        idleMinutes: t.idleMinutes,
        scaleFromZeroTo: t.scaleFromZeroTo,
        missingDataIsIdle: t.missingDataIsIdle,
      },
      desired: state.desired,
      work: observations.get(`${t.name}#work`) ?? ({ points: [], error: 'not read' } satisfies Observation),
      ...(inFlight ? { inFlight } : {}),
      paused: state.paused,
      now: now.getTime(),
    });
    if (decision.to === decision.from) return { target: t.name, ...decision };
    try {
      updates++;
      const adapter = scalableTarget(t);
      if (t.kind === 'ecs-service' && state.registered) {
        // The Lambda owns the floor: min follows it, so target tracking works above it and never against it.
        const min = decision.to > decision.from ? Math.max(floors.floor, decision.to) : floors.floor;
        await adapter.setLimits({ min, max: state.max, desired: decision.to });
      } else {
        await adapter.setDesired(decision.to);
      }
      return { target: t.name, ...decision };
    } catch (err) {
      return { target: t.name, from: decision.from, to: decision.from, reason: `wanted ${decision.to}: ${decision.reason}`, error: (err as Error).message };
    }
  });
  return { decisions, calls: { describe: describeCalls, getMetricData: metricCalls, update: updates } };
}
