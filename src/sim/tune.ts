/**
 * `mlscale simulate --tune`: the runbooks say "start conservative, tune on
 * real data". Search the tunable values on the first half of the trace for
 * the fewest task-minutes that keep violation minutes within the SLO budget
 * (1 % by default), then judge the choice on the second half only — never on
 * the data it was fitted on. Coordinate descent: one value at a time over a
 * grid, repeated until nothing improves.
 */
import type { SimPool, Tunables } from './sim-config';
import { ForecastCache, simulate, type PolicyResult } from './simulate';
import { sliceTrace, type MinuteTrace } from './trace';

export const TUNING_GRID: Readonly<Record<keyof Tunables, readonly number[]>> = {
  cpuPercent: [40, 50, 55, 60, 65, 70, 75, 80, 85, 90],
  scaleOutCooldownSeconds: [0, 30, 60, 120, 300],
  scaleInCooldownSeconds: [60, 120, 300, 600, 900],
  leadMinutes: [0, 5, 10, 15, 20, 30],
  headroom: [0, 0.05, 0.1, 0.2, 0.3, 0.5],
  idleMinutes: [2, 3, 5, 10, 15],
  drainSeconds: [60, 90, 120, 180, 300],
};

/** Which tunables matter for this pool (the others would only add noise to the diff). */
export function relevantTunables(sim: SimPool): (keyof Tunables)[] {
  const keys: (keyof Tunables)[] = ['scaleInCooldownSeconds'];
  // The scale-out cooldown only paces the demand pool's step policy; target tracking counts capacity
  // already added during its cooldown, so the value changes nothing elsewhere.
  if (sim.pool.kind === 'demand') keys.unshift('scaleOutCooldownSeconds');
  // The CPU target is the always-on pool's tracking target; other pools track their queue.
  if (sim.pool.kind === 'always-on') keys.unshift('cpuPercent');
  // The drain time sizes the drain floor and emergency raises of pools that scale on lag by draining it.
  if (sim.pool.kind === 'always-on' && sim.pool.trackConsumerLag && sim.pool.lagScaling === 'drain') keys.push('drainSeconds');
  if (sim.predictive.enabled && sim.predictive.mode === 'forecast-and-scale') keys.push('leadMinutes', 'headroom');
  if (sim.pool.kind === 'scale-to-zero') keys.push('idleMinutes');
  return keys;
}

export interface ConfigChange {
  readonly path: string;
  readonly from: number;
  readonly to: number;
}

export interface TuneResult {
  readonly tunables: Tunables;
  readonly changes: readonly ConfigChange[];
  readonly fit: PolicyResult;
  readonly heldOut: { readonly minutes: number; readonly mlscale: PolicyResult; readonly oracle: PolicyResult; readonly defaults: PolicyResult; readonly targetTracking: PolicyResult };
  readonly evaluations: number;
  readonly feasible: boolean;
}

/** Lower is better: feasible plans by task-minutes, then infeasible ones by violations. */
function score(r: PolicyResult, maxViolationPercent: number): number {
  return r.violationPercent <= maxViolationPercent ? r.taskMinutes : 1e12 + r.violationMinutes * 1e6 + r.taskMinutes;
}

/** Where each tunable lives in the config file, for the diff the user applies. */
export function configPath(key: keyof Tunables, poolIndex: number): string {
  switch (key) {
    case 'cpuPercent':
      return 'thresholds.cpuPercent';
    case 'leadMinutes':
      return `pools[${poolIndex}].predictive.leadMinutes`;
    case 'headroom':
      return `pools[${poolIndex}].predictive.headroom`;
    default:
      return `pools[${poolIndex}].${key}`;
  }
}

export function tune(trace: MinuteTrace, sim: SimPool, poolIndex: number, options: { maxViolationPercent?: number; forecasts?: ForecastCache } = {}): TuneResult {
  const budget = options.maxViolationPercent ?? 1;
  const forecasts = options.forecasts ?? new ForecastCache();
  const half = Math.floor(trace.rps.length / 2);
  if (half < 60) throw new Error(`the trace is ${trace.rps.length} minutes long; tuning needs at least two hours (one to fit, one to judge)`);
  const fitTrace = sliceTrace(trace, 0, half);
  let evaluations = 0;
  const run = (tunables: Tunables) => {
    evaluations++;
    return simulate(fitTrace, { ...sim, tunables }, 'mlscale', { forecasts, timeline: false }).result;
  };

  let best = sim.tunables;
  let bestResult = run(best);
  for (let pass = 0; pass < 3; pass++) {
    let improved = false;
    for (const key of relevantTunables(sim)) {
      for (const value of TUNING_GRID[key]) {
        if (value === best[key]) continue;
        const candidate = { ...best, [key]: value };
        const result = run(candidate);
        if (score(result, budget) < score(bestResult, budget)) {
          [best, bestResult, improved] = [candidate, result, true];
        }
      }
    }
    if (!improved) break;
  }

  const judge = (tunables: Tunables, policy: 'mlscale' | 'oracle' | 'target-tracking') =>
    simulate(trace, { ...sim, tunables }, policy, { forecasts, timeline: false, measureFrom: half }).result;
  const changes = (Object.keys(best) as (keyof Tunables)[])
    .filter((k) => best[k] !== sim.tunables[k])
    .map((k) => ({ path: configPath(k, poolIndex), from: sim.tunables[k], to: best[k] }));
  return {
    tunables: best,
    changes,
    fit: bestResult,
    heldOut: {
      minutes: trace.rps.length - half,
      mlscale: judge(best, 'mlscale'),
      oracle: judge(best, 'oracle'),
      defaults: judge(sim.tunables, 'mlscale'),
      targetTracking: judge(sim.tunables, 'target-tracking'),
    },
    evaluations,
    feasible: bestResult.violationPercent <= budget,
  };
}
