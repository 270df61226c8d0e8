import { bucketMinutes } from './report/downsample';
import { DEFAULT_MAX_POINTS } from './report/render';
import { ForecastCache, POLICIES, runLockstep, type BufferSizes, type ForecastStats, type PolicyName, type PolicyResult, type Timeline } from './simulate';
import type { SimPool } from './sim-config';
import { streamOf, type MinuteTrace, type TraceRescale, type TraceStream } from './trace';

/** One policy's result with its ratios to the oracle (the lower bound on cost with no SLO miss). */
export type PolicyReport = PolicyResult & { readonly vsOracle: { readonly taskMinutes: number; readonly costUsd: number } };

export interface Comparison {
  readonly minutes: number;
  readonly pool: { name: string; kind: string; minCapacity: number; maxCapacity: number; capacityPerTask: number; startupSeconds: number };
  readonly trace: {
    name: string;
    start: string;
    shape: string;
    intervalSeconds: number;
    peakRps: number;
    meanRps: number;
    /** Source intervals missing, filled (held or interpolated). */
    gapsFilled: number;
    gapMinutes: number;
    largestGapMinutes: number;
    /** Coarse rows joined linearly. */
    interpolated: boolean;
    rescale?: TraceRescale;
  };
  readonly policies: Record<PolicyName, PolicyReport>;
  /** Per policy: per minute (`timeline: 'minute'`), bucketed for the report (`'chart'`), or empty arrays (`'none'`). */
  readonly timelines: Record<PolicyName, Timeline>;
  /** The load replayed, req/s, at the timelines' resolution (empty with `'none'`). */
  readonly loadRps: ArrayLike<number>;
  /** Minutes per point of `timelines` and `loadRps`. */
  readonly bucketMinutes: number;
  /** The predictive Lambda's runs under mlscale, and why it did not act on the forecast (absent without mlscale). */
  readonly forecast?: ForecastStats;
  readonly buffers: BufferSizes;
}

export interface CompareOptions {
  /** Series to keep: per minute (default; tests and small traces), bucketed to the HTML report's resolution, or none. */
  readonly timeline?: 'minute' | 'chart' | 'none';
  readonly onProgress?: (done: number, total: number) => void;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : a > 0 ? Infinity : 1);

/**
 * Replay the trace under every policy (or the ones asked for; the oracle always runs, for the ratios), in
 * lockstep over one pass of the trace.
 */
export function compare(
  trace: MinuteTrace | TraceStream,
  sim: SimPool,
  policies: readonly PolicyName[] = POLICIES,
  forecasts = new ForecastCache(),
  options: CompareOptions = {},
): Comparison {
  const source = 'rps' in trace ? streamOf(trace) : trace;
  const wanted = [...new Set<PolicyName>([...policies, 'oracle'])];
  const mode = options.timeline ?? 'minute';
  const bucket = mode === 'chart' ? bucketMinutes(source.minutes, DEFAULT_MAX_POINTS) : 1;
  const run = runLockstep(
    source,
    wanted.map((policy) => ({ policy, sim })),
    { forecasts, timeline: mode === 'none' ? false : { bucketMinutes: bucket }, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  const byPolicy = new Map(wanted.map((p, i) => [p, run.runs[i]!]));
  const oracle = byPolicy.get('oracle')!.result;
  const report = (r: PolicyResult): PolicyReport => ({
    ...r,
    vsOracle: { taskMinutes: ratio(r.taskMinutes, oracle.taskMinutes), costUsd: ratio(r.costUsd, oracle.costUsd) },
  });
  const reports = Object.fromEntries(wanted.map((p) => [p, report(byPolicy.get(p)!.result)])) as Record<PolicyName, PolicyReport>;
  const timelines = Object.fromEntries(wanted.map((p) => [p, byPolicy.get(p)!.timeline])) as Record<PolicyName, Timeline>;
  const { pool } = sim;
  return {
    minutes: run.minutes,
    pool: { name: pool.name, kind: pool.kind, minCapacity: pool.minCapacity, maxCapacity: pool.maxCapacity, capacityPerTask: pool.capacityPerTask, startupSeconds: pool.startupSeconds },
    trace: {
      name: source.name,
      start: new Date(source.start).toISOString(),
      shape: source.shape,
      intervalSeconds: source.intervalSeconds,
      peakRps: Math.round(run.load.peakRps * 100) / 100,
      meanRps: Math.round(run.load.meanRps * 100) / 100,
      gapsFilled: source.gapsFilled,
      gapMinutes: source.gapMinutes ?? 0,
      largestGapMinutes: source.largestGap?.minutes ?? 0,
      interpolated: source.interpolated ?? false,
      ...(source.rescale ? { rescale: source.rescale } : {}),
    },
    policies: reports,
    timelines,
    loadRps: run.load.timeline,
    bucketMinutes: mode === 'none' ? 0 : bucket,
    ...(byPolicy.has('mlscale') ? { forecast: byPolicy.get('mlscale')!.forecast } : {}),
    buffers: run.buffers,
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
