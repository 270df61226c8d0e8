/**
 * `mlscale simulate --tune`: the runbooks say "start conservative, tune on
 * real data". Search the tunable values on the first half of the trace for
 * the fewest task-minutes that keep violation minutes within the SLO budget
 * (1 % by default), then judge the choice on the second half only — never on
 * the data it was fitted on — and recommend it only when it beats the
 * defaults there (`tuningVerdict`: better on one number and no worse on the
 * other, or cheaper within the violation budget, or within a budget the
 * defaults miss). Coordinate descent: one value at a time
 * over a grid, repeated until nothing improves; a best value on the grid's
 * edge is searched beyond it, in the edge's step, while it keeps improving.
 *
 * The trace is held in memory here (each candidate replays the first half).
 */
import { alarmSpecsForPool } from '../../lambdas/core/config/alarm-specs';
import type { SimPool, Tunables } from './sim-config';
import { ForecastCache, runLockstep, simulate, type PolicyResult } from './simulate';
import { sliceTrace, streamOf, type MinuteTrace } from './trace';
import { scalesToZero } from '../../lambdas/core/config/pool-kind';

export const TUNING_GRID: Readonly<Record<keyof Tunables, readonly number[]>> = {
  cpuPercent: [40, 50, 55, 60, 65, 70, 75, 80, 85, 90],
  scaleOutCooldownSeconds: [0, 30, 60, 120, 300],
  scaleInCooldownSeconds: [60, 120, 300, 600, 900],
  leadMinutes: [0, 5, 10, 15, 20, 30],
  headroom: [0, 0.05, 0.1, 0.2, 0.3, 0.5],
  idleMinutes: [2, 3, 5, 10, 15],
  drainSeconds: [60, 90, 120, 180, 300],
  scaleInMinutes: [3, 5, 8, 10, 15],
};

/**
 * How far the search goes beyond a grid edge: within what the config accepts
 * (lambdas/core/config/schema.ts) and what makes sense as a setting (a CPU
 * target of 95 % leaves no room for a burst; a lead time of two hours is a
 * schedule, not a forecast).
 */
export const TUNING_BOUNDS: Readonly<Record<keyof Tunables, readonly [number, number]>> = {
  cpuPercent: [10, 95],
  scaleOutCooldownSeconds: [0, 3_600],
  scaleInCooldownSeconds: [0, 3_600],
  leadMinutes: [0, 120],
  headroom: [0, 2],
  idleMinutes: [1, 60],
  drainSeconds: [30, 3_600],
  scaleInMinutes: [1, 15],
};

/** Which tunables matter for this pool (the others would only add noise to the diff). */
export function relevantTunables(sim: SimPool): (keyof Tunables)[] {
  const keys: (keyof Tunables)[] = ['scaleInCooldownSeconds'];
  // The scale-out cooldown only paces the demand pool's step policy; target tracking counts capacity
  // already added during its cooldown, so the value changes nothing elsewhere.
  if (sim.pool.kind === 'demand') keys.unshift('scaleOutCooldownSeconds');
  // The CPU target is the always-on pool's tracking target; other pools track their queue.
  if (sim.pool.kind === 'always-on') keys.unshift('cpuPercent');
  // How soon CPU scale-in acts (target tracking's 15 minutes, or mlscale's step policy sooner).
  if (sim.pool.kind === 'always-on') keys.push('scaleInMinutes');
  // The drain time sizes the drain floor and emergency raises of pools that scale on lag by draining it.
  if (sim.pool.kind === 'always-on' && sim.pool.trackConsumerLag && sim.pool.lagScaling === 'drain') keys.push('drainSeconds');
  if (sim.predictive.enabled && sim.predictive.mode === 'forecast-and-scale') keys.push('leadMinutes', 'headroom');
  if (scalesToZero(sim.pool)) keys.push('idleMinutes');
  return keys;
}

export interface ConfigChange {
  readonly key: keyof Tunables;
  readonly path: string;
  readonly from: number;
  readonly to: number;
}

/** A tunable whose best value sat on a grid edge, and the values tried beyond it. */
export interface GridExtension {
  readonly key: keyof Tunables;
  readonly edge: 'lower' | 'upper';
  /** The best value when the search first went past the edge, and the step it went on in. */
  readonly from: number;
  readonly step: number;
  readonly tried: readonly number[];
  /** Why the search stopped: the next value was no better, or the bound was reached. */
  readonly stopped: 'no better' | 'bound';
}

/** An alarm whose threshold a tuned value moves too (thresholds drive both policies and alarms). */
export interface AlarmMove {
  readonly path: string;
  readonly alarm: string;
  readonly from: number;
  readonly to: number;
}

export interface HeldOut {
  readonly minutes: number;
  readonly mlscale: PolicyResult;
  readonly oracle: PolicyResult;
  readonly defaults: PolicyResult;
  readonly targetTracking: PolicyResult;
  readonly targetTrackingCpu?: PolicyResult;
}

export interface TuneResult {
  /** The pool's name (the fragment is keyed by it). */
  readonly pool?: string;
  readonly tunables: Tunables;
  readonly changes: readonly ConfigChange[];
  readonly fit: PolicyResult;
  readonly heldOut: HeldOut;
  readonly evaluations: number;
  readonly feasible: boolean;
  /** The violation budget tuned to (percent of minutes). @default 1 */
  readonly maxViolationPercent?: number;
  readonly extended?: readonly GridExtension[];
  readonly alarmMoves?: readonly AlarmMove[];
}

/**
 * Lower is better: feasible plans by task-minutes, then infeasible ones by
 * violations. Feasible: within the violation budget, and flapping in no more
 * hours than the defaults do (a setting that makes the autoscaler oscillate
 * would page the operators through the flapping alarm, whatever it saves).
 */
function score(r: PolicyResult, maxViolationPercent: number, maxFlappingHours: number): number {
  const flapping = Math.max(0, r.flappingHours - maxFlappingHours);
  return r.violationPercent <= maxViolationPercent && flapping === 0 ? r.taskMinutes : 1e12 + flapping * 1e9 + r.violationMinutes * 1e6 + r.taskMinutes;
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

/** Grid arithmetic without float dust (0.5 + 0.2 = 0.7, not 0.7000000000000001). */
const tidy = (x: number) => Math.round(x * 1e6) / 1e6;

export interface TuneOptions {
  readonly maxViolationPercent?: number;
  readonly forecasts?: ForecastCache;
  /** Grids to search instead of TUNING_GRID, per tunable. */
  readonly grid?: Partial<Record<keyof Tunables, readonly number[]>>;
  /** Called after each run with the runs so far. */
  readonly onRun?: (evaluations: number) => void;
}

export function tune(trace: MinuteTrace, sim: SimPool, poolIndex: number, options: TuneOptions = {}): TuneResult {
  const budget = options.maxViolationPercent ?? 1;
  const forecasts = options.forecasts ?? new ForecastCache();
  const half = Math.floor(trace.rps.length / 2);
  if (half < 60) throw new Error(`the trace is ${trace.rps.length} minutes long; tuning needs at least two hours (one to fit, one to judge)`);
  const fitTrace = sliceTrace(trace, 0, half);
  let evaluations = 0;
  const run = (tunables: Tunables) => {
    evaluations++;
    const r = simulate(fitTrace, { ...sim, tunables }, 'mlscale', { forecasts, timeline: false }).result;
    options.onRun?.(evaluations);
    return r;
  };

  let best = sim.tunables;
  let bestResult = run(best);
  const flapsAllowed = bestResult.flappingHours;
  const better = (r: PolicyResult) => score(r, budget, flapsAllowed) < score(bestResult, budget, flapsAllowed);
  const extensions = new Map<keyof Tunables, GridExtension>();
  for (let pass = 0; pass < 3; pass++) {
    let improved = false;
    for (const key of relevantTunables(sim)) {
      const grid = options.grid?.[key] ?? TUNING_GRID[key];
      for (const value of grid) {
        if (value === best[key]) continue;
        const candidate = { ...best, [key]: value };
        const result = run(candidate);
        if (better(result)) [best, bestResult, improved] = [candidate, result, true];
      }
      // The best value on (or past) an edge of the grid: go on outward in the edge's step while it keeps improving.
      if (grid.length < 2) continue;
      const lo = Math.min(...grid);
      const hi = Math.max(...grid);
      const sorted = [...grid].sort((a, b) => a - b);
      const edge = best[key] >= hi ? 'upper' : best[key] <= lo ? 'lower' : undefined;
      if (!edge) continue;
      const step = edge === 'upper' ? sorted[sorted.length - 1]! - sorted[sorted.length - 2]! : sorted[1]! - sorted[0]!;
      const [min, max] = TUNING_BOUNDS[key];
      const startedAt = extensions.get(key)?.from ?? best[key];
      const tried: number[] = [...(extensions.get(key)?.tried ?? [])];
      let stopped: GridExtension['stopped'] = 'no better';
      for (;;) {
        const value = tidy(best[key] + (edge === 'upper' ? step : -step));
        if (value < min || value > max) {
          stopped = 'bound';
          break;
        }
        const candidate = { ...best, [key]: value };
        const result = run(candidate);
        tried.push(value);
        if (!better(result)) break;
        [best, bestResult, improved] = [candidate, result, true];
      }
      extensions.set(key, { key, edge, from: startedAt, step, tried: [...new Set(tried)], stopped });
    }
    if (!improved) break;
  }

  // The judgement: the whole trace (state and forecast history at the midpoint are real), only the second half counted;
  // the candidates and the baselines side by side in one pass.
  const tuned = { ...sim, tunables: best };
  const judged = runLockstep(
    streamOf(trace),
    [
      { policy: 'mlscale', sim: tuned },
      { policy: 'oracle', sim: tuned },
      { policy: 'mlscale', sim },
      { policy: 'target-tracking', sim },
      { policy: 'target-tracking-cpu', sim },
    ],
    { forecasts, measureFrom: half },
  ).runs.map((r) => r.result);
  const changes = (Object.keys(best) as (keyof Tunables)[])
    .filter((k) => best[k] !== sim.tunables[k])
    .map((k) => ({ key: k, path: configPath(k, poolIndex), from: sim.tunables[k], to: best[k] }));
  return {
    pool: sim.pool.name,
    tunables: best,
    changes,
    fit: bestResult,
    heldOut: {
      minutes: trace.rps.length - half,
      mlscale: judged[0]!,
      oracle: judged[1]!,
      defaults: judged[2]!,
      targetTracking: judged[3]!,
      targetTrackingCpu: judged[4]!,
    },
    evaluations,
    feasible: bestResult.violationPercent <= budget && bestResult.flappingHours <= flapsAllowed,
    maxViolationPercent: budget,
    extended: [...extensions.values()].filter((e) => e.tried.length > 0 || e.stopped === 'bound'),
    alarmMoves: alarmMoves(sim, changes),
  };
}

/** The alarms a changed threshold moves with it (cpuPercent is the CPU target and the cpu alarm's threshold). */
export function alarmMoves(sim: SimPool, changes: readonly ConfigChange[]): AlarmMove[] {
  const moves: AlarmMove[] = [];
  for (const c of changes) {
    if (!c.path.startsWith('thresholds.')) continue;
    const field = c.path.slice('thresholds.'.length) as keyof SimPool['thresholds'];
    const before = alarmSpecsForPool(sim.pool, sim.thresholds, 'sim');
    const after = alarmSpecsForPool(sim.pool, { ...sim.thresholds, [field]: c.to }, 'sim');
    for (const a of after) {
      const was = before.find((b) => b.kind === a.kind);
      if (was && was.threshold !== a.threshold) moves.push({ path: c.path, alarm: a.kind, from: was.threshold, to: a.threshold });
    }
  }
  return moves;
}

export interface TuningVerdict {
  readonly recommend: boolean;
  readonly reason: string;
  /** What to merge into the config: `{ pools: { <name>: {...} }, thresholds: {...} }` (recommendations only). */
  readonly fragment?: Record<string, unknown>;
  /** Where the fragment goes, and what else it moves. */
  readonly apply?: string;
  readonly heldOut: string;
}

const fixed2 = (x: number) => x.toFixed(2);
const int = (x: number) => x.toLocaleString('en-US');

/** The changes as a fragment of the config: per pool by name, thresholds (global) apart. */
export function configFragment(pool: string, changes: readonly ConfigChange[]): Record<string, unknown> {
  const poolPart: Record<string, unknown> = {};
  const thresholds: Record<string, number> = {};
  for (const c of changes) {
    if (c.path.startsWith('thresholds.')) thresholds[c.path.slice('thresholds.'.length)] = c.to;
    else if (c.key === 'leadMinutes' || c.key === 'headroom') poolPart.predictive = { ...((poolPart.predictive as object | undefined) ?? {}), [c.key]: c.to };
    else poolPart[c.key] = c.to;
  }
  return {
    ...(Object.keys(poolPart).length ? { pools: { [pool]: poolPart } } : {}),
    ...(Object.keys(thresholds).length ? { thresholds } : {}),
  };
}

/**
 * Below this saving, a change bought with any violation minute is not worth making (noise, not a gain).
 */
export const MIN_WORTHWHILE_SAVING = 0.02;

/**
 * Recommend the tuned values only when, on the held-out half, they beat the
 * defaults:
 * - fewer task-minutes with violation minutes no worse, or fewer violation
 *   minutes with task-minutes no more (better on one number, no worse on the
 *   other);
 * - or, with both within the violation budget (the SLO the operator set),
 *   at least 2 % fewer task-minutes: inside the budget a violation minute is
 *   not a breach, and the cost is the number left to win (a strict "not one
 *   more minute" rule turned down 20 % savings for one minute in 100 days);
 * - or the tuned values meet the budget on the held-out half and the
 *   defaults do not: meeting the SLO comes before the cost.
 * Never when the tuned values flap in more hours than the defaults (the
 * flapping alarm would page). Anything else — or no change at all — keeps
 * the defaults, with the numbers that say why.
 */
export function tuningVerdict(t: TuneResult): TuningVerdict {
  const h = t.heldOut;
  const [tuned, defaults] = [h.mlscale, h.defaults];
  const ratio = (a: number) => fixed2(a / Math.max(1, h.oracle.taskMinutes));
  const heldOut =
    `Held-out half (${int(h.minutes)} minutes): mlscale tuned ${int(tuned.taskMinutes)} task-minutes (${ratio(tuned.taskMinutes)} × oracle), ${fixed2(tuned.violationPercent)} % violation minutes; ` +
    `with the defaults ${int(defaults.taskMinutes)} task-minutes (${ratio(defaults.taskMinutes)} × oracle), ${fixed2(defaults.violationPercent)} %.`;
  const infeasible = t.feasible ? '' : ' No setting met the violation budget (without flapping more than the defaults) on the first half; the one with the fewest violation minutes was tried.';
  if (t.changes.length === 0) {
    return { recommend: false, reason: `Keep the defaults: they were already the best setting on the first half; there is nothing to change.${infeasible}`, heldOut };
  }
  const fewerTasks = tuned.taskMinutes < defaults.taskMinutes;
  const fewerViolations = tuned.violationMinutes < defaults.violationMinutes;
  const noMoreTasks = tuned.taskMinutes <= defaults.taskMinutes;
  const noMoreViolations = tuned.violationMinutes <= defaults.violationMinutes;
  const tried = t.changes.map((c) => `${c.path} ${c.from} → ${c.to}`).join(', ');
  const numbers =
    `${int(tuned.taskMinutes)} task-minutes and ${fixed2(tuned.violationPercent)} % violation minutes (${int(tuned.violationMinutes)}) ` +
    `against ${int(defaults.taskMinutes)} and ${fixed2(defaults.violationPercent)} % (${int(defaults.violationMinutes)}) with the defaults`;
  const budget = t.maxViolationPercent ?? 1;
  const saving = (defaults.taskMinutes - tuned.taskMinutes) / Math.max(1, defaults.taskMinutes);
  const bothWithinBudget = tuned.violationPercent <= budget && defaults.violationPercent <= budget;
  const savesWithinBudget = bothWithinBudget && saving >= MIN_WORTHWHILE_SAVING;
  const meetsBudgetDefaultsMiss = tuned.violationPercent <= budget && defaults.violationPercent > budget;
  const dominates = (fewerTasks && noMoreViolations) || (fewerViolations && noMoreTasks);
  if (tuned.flappingHours > defaults.flappingHours) {
    return {
      recommend: false,
      reason: `Keep the defaults: on the held-out half the tuned values (${tried}) used ${numbers}, but desired capacity flapped in ${int(tuned.flappingHours)} hours against ${int(defaults.flappingHours)} with the defaults (the flapping alarm would page).${infeasible}`,
      heldOut,
    };
  }
  if (!(dominates || savesWithinBudget || meetsBudgetDefaultsMiss)) {
    const why = fewerTasks
      ? `fewer task-minutes, but it raised violation minutes from ${int(defaults.violationMinutes)} (${fixed2(defaults.violationPercent)} %) to ${int(tuned.violationMinutes)} (${fixed2(tuned.violationPercent)} %)` +
        (tuned.violationPercent > budget ? `, above the ${budget} % budget` : `, for a saving (${(100 * saving).toFixed(1)} %) under ${100 * MIN_WORTHWHILE_SAVING} %`)
      : fewerViolations
        ? 'fewer violation minutes, but more task-minutes'
        : 'no saving and no fewer violation minutes';
    return { recommend: false, reason: `Keep the defaults: on the held-out half the tuned values (${tried}) used ${numbers}: ${why}.${infeasible}`, heldOut };
  }
  const saved = (100 * saving).toFixed(1);
  const gain = dominates
    ? fewerTasks
      ? `${saved} % fewer task-minutes with violation minutes no worse`
      : `fewer violation minutes (${int(tuned.violationMinutes)} against ${int(defaults.violationMinutes)}) at no more task-minutes`
    : savesWithinBudget
      ? `${saved} % fewer task-minutes, with violation minutes within the ${budget} % budget (${int(tuned.violationMinutes)} against ${int(defaults.violationMinutes)})`
      : `within the ${budget} % violation budget, which the defaults miss (${fixed2(tuned.violationPercent)} % against ${fixed2(defaults.violationPercent)} %), at ${int(tuned.taskMinutes - defaults.taskMinutes)} more task-minutes`;
  const pool = t.pool ?? 'POOL';
  const global = t.changes.some((c) => c.path.startsWith('thresholds.'));
  const moves = (t.alarmMoves ?? []).map((m) => `${m.path} also moves the ${m.alarm} alarm from ${m.from} to ${m.to}${m.path === 'thresholds.cpuPercent' ? ' %' : ''}`);
  const apply = [
    `Merge into the config: "pools" into the pool named ${pool}${global ? '; "thresholds" at the top level (or an environment\'s thresholds): thresholds are global, every pool of the environment uses them' : ''}.`,
    ...moves.map((m) => `${m}.`),
  ].join(' ');
  return {
    recommend: true,
    reason: `Recommended: on the held-out half the tuned values used ${numbers}: ${gain}.${infeasible}`,
    fragment: configFragment(pool, t.changes),
    apply,
    heldOut,
  };
}
