import { replicasFor } from '../../../lambdas/core/capacity';
import type { Profile } from './plan-table';

export interface PlanInput {
  /** Peak requests per second to serve. */
  readonly rps: number;
  /** Fraction of a replica's capacity to plan for (headroom for bursts and scale-out lag). */
  readonly targetUtilization: number;
  /** Required p95 latency, ms. */
  readonly p95Ms?: number;
  /** Most to spend, USD per hour. */
  readonly budgetUsdPerHour?: number;
  /** Fewest replicas to run (availability). */
  readonly minReplicas: number;
}

export interface PlanOption {
  readonly profile: Profile;
  /** workers × req/s per worker: what one replica sustains flat out. */
  readonly rpsPerReplica: number;
  /** rpsPerReplica × target utilisation: what the plan loads one replica with. */
  readonly plannedRpsPerReplica: number;
  readonly replicas: number;
  readonly usdPerHour: number;
  /** Cost of one million requests at the planned load. */
  readonly usdPerMillionRequests: number;
  /** Share of the fleet's capacity the load uses. */
  readonly utilization: number;
  readonly meetsLatency: boolean;
  readonly withinBudget: boolean;
}

export interface CapacityPlan {
  readonly input: PlanInput;
  /** Every profile, cheapest per hour first. */
  readonly options: readonly PlanOption[];
  /** The cheapest option that meets the latency and the budget; undefined when none does. */
  readonly recommended?: PlanOption;
  readonly reason: string;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const money = (n: number) => `$${n.toFixed(2)}`;

/**
 * MLServer-style arithmetic: a replica runs `workers` model workers, each
 * serving `rpsPerWorker`; plan each at the target utilisation, so
 * replicas = ceil(rps / (workers × rpsPerWorker × utilisation)), at least
 * `minReplicas`. Then cost = replicas × price, and the recommendation is the
 * cheapest that meets the latency and the budget (cost per request at a given
 * load orders the same as cost per hour).
 */
export function planCapacity(profiles: readonly Profile[], input: PlanInput): CapacityPlan {
  const options = profiles
    .map((profile): PlanOption => {
      const rpsPerReplica = profile.workers * profile.rpsPerWorker;
      const plannedRpsPerReplica = rpsPerReplica * input.targetUtilization;
      const replicas = Math.max(input.minReplicas, replicasFor(input.rps, plannedRpsPerReplica));
      const usdPerHour = replicas * profile.usdPerHour;
      return {
        profile,
        rpsPerReplica,
        plannedRpsPerReplica,
        replicas,
        usdPerHour: round(usdPerHour, 4),
        usdPerMillionRequests: round((usdPerHour / (input.rps * 3600)) * 1e6, 4),
        utilization: round(input.rps / (replicas * rpsPerReplica), 3),
        meetsLatency: input.p95Ms === undefined || profile.p95Ms <= input.p95Ms,
        withinBudget: input.budgetUsdPerHour === undefined || usdPerHour <= input.budgetUsdPerHour,
      };
    })
    .sort((a, b) => a.usdPerHour - b.usdPerHour || a.profile.p95Ms - b.profile.p95Ms);
  const recommended = options.find((o) => o.meetsLatency && o.withinBudget);
  return { input, options, ...(recommended ? { recommended } : {}), reason: reasonFor(options, input, recommended) };
}

function reasonFor(options: readonly PlanOption[], input: PlanInput, recommended: PlanOption | undefined): string {
  const needs = [input.p95Ms !== undefined ? `p95 <= ${input.p95Ms} ms` : '', input.budgetUsdPerHour !== undefined ? `within ${money(input.budgetUsdPerHour)}/h` : '']
    .filter(Boolean)
    .join(' and ');
  if (recommended) return `cheapest profile${needs ? ` that meets ${needs}` : ''}`;
  const fast = options.find((o) => o.meetsLatency);
  if (!fast) return `no profile meets p95 <= ${input.p95Ms} ms (fastest: ${[...options].sort((a, b) => a.profile.p95Ms - b.profile.p95Ms)[0]?.profile.name})`;
  return `no profile meets ${needs}; the cheapest that meets the latency is ${fast.profile.name} x ${fast.replicas} at ${money(fast.usdPerHour)}/h`;
}
