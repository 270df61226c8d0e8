import { ForecastCache, POLICIES, simulate, type PolicyName, type PolicyResult, type Timeline } from './simulate';
import type { SimPool } from './sim-config';
import { maxOf, type MinuteTrace } from './trace';

/** One policy's result with its ratios to the oracle (the lower bound on cost with no SLO miss). */
export type PolicyReport = PolicyResult & { readonly vsOracle: { readonly taskMinutes: number; readonly costUsd: number } };

export interface Comparison {
  readonly minutes: number;
  readonly pool: { name: string; kind: string; minCapacity: number; maxCapacity: number; capacityPerTask: number; startupSeconds: number };
  readonly trace: { name: string; start: string; shape: string; intervalSeconds: number; peakRps: number; meanRps: number };
  readonly policies: Record<PolicyName, PolicyReport>;
  readonly timelines: Record<PolicyName, Timeline>;
  /** The load replayed, req/s per minute (for charts). */
  readonly loadRps: readonly number[];
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : a > 0 ? Infinity : 1);

/** Replay the trace under every policy (or the ones asked for; the oracle always runs, for the ratios). */
export function compare(trace: MinuteTrace, sim: SimPool, policies: readonly PolicyName[] = POLICIES, forecasts = new ForecastCache()): Comparison {
  const wanted = new Set<PolicyName>([...policies, 'oracle']);
  const runs = Object.fromEntries([...wanted].map((p) => [p, simulate(trace, sim, p, { forecasts })])) as Record<PolicyName, ReturnType<typeof simulate>>;
  const oracle = runs.oracle.result;
  const report = (r: PolicyResult): PolicyReport => ({
    ...r,
    vsOracle: { taskMinutes: ratio(r.taskMinutes, oracle.taskMinutes), costUsd: ratio(r.costUsd, oracle.costUsd) },
  });
  const reports = Object.fromEntries(Object.entries(runs).map(([p, r]) => [p, report(r.result)])) as Record<PolicyName, PolicyReport>;
  const timelines = Object.fromEntries(Object.entries(runs).map(([p, r]) => [p, r.timeline])) as Record<PolicyName, Timeline>;
  const { pool } = sim;
  const n = trace.rps.length;
  return {
    minutes: n,
    pool: { name: pool.name, kind: pool.kind, minCapacity: pool.minCapacity, maxCapacity: pool.maxCapacity, capacityPerTask: pool.capacityPerTask, startupSeconds: pool.startupSeconds },
    trace: {
      name: trace.name,
      start: new Date(trace.start).toISOString(),
      shape: trace.shape,
      intervalSeconds: trace.intervalSeconds,
      peakRps: Math.round(Math.max(0, maxOf(trace.rps)) * 100) / 100,
      meanRps: Math.round((trace.rps.reduce((a, b) => a + b, 0) / Math.max(1, n)) * 100) / 100,
    },
    policies: reports,
    timelines,
    loadRps: trace.rps,
  };
}

/** The summary table `mlscale simulate` prints. */
export function comparisonTable(c: Comparison, policies: readonly PolicyName[]): string {
  const header = ['POLICY', 'TASK-MIN', 'x ORACLE', 'COST $', 'VIOLATION-MIN', 'VIOLATION %', 'PEAK BACKLOG', 'SCALE ACTIONS', 'COLD STARTS', 'EMERGENCIES'];
  const rows = policies.map((p) => {
    const r = c.policies[p];
    return [p, String(r.taskMinutes), r.vsOracle.taskMinutes.toFixed(2), r.costUsd.toFixed(2), String(r.violationMinutes), r.violationPercent.toFixed(2), String(r.peakBacklog), String(r.scaleActions), String(r.coldStarts), String(r.emergencies)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
