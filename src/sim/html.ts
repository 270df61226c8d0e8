/**
 * The `--html` report of `mlscale simulate`: builds the report's input from a
 * Comparison (and the tuning result) and renders it with src/sim/report
 * (uPlot charts inlined into one self-contained page).
 */
import type { Comparison } from './compare';
import { renderReport } from './report/render';
import type { ReportInput, ReportMarker, ReportSeries } from './report/model';
import { violationRanges } from './report/markers';
import type { PolicyName, Timeline } from './simulate';
import type { TuneResult } from './tune';
import { VIOLATION_BACKLOG_SHARE } from './world';

/**
 * A timeline as it may grow: per-minute violation flags and the minutes an
 * emergency scale-out fired. Used when present; derived or left out when not.
 */
type TimelineWithMarkers = Timeline & {
  readonly violation?: ArrayLike<boolean | number>;
  /** Minute indices of emergencies (or one 0/1 flag per minute). */
  readonly emergencies?: ArrayLike<number>;
};

/** The trace summary, with fields a later Comparison may carry. */
type TraceWithExtras = Comparison['trace'] & { readonly gapsFilled?: number };

/** What the CLI may add that a Comparison does not hold. */
export interface HtmlExtras {
  /** Lines for the "Notes" list (e.g. "trace rescaled ×2.4 so its peak needs 80 % of max capacity"). */
  readonly notes?: readonly string[];
  /** Planned events of the pool: start and end as ISO-8601 or epoch ms. */
  readonly events?: readonly { readonly name: string; readonly start: string | number; readonly end: string | number }[];
}

/**
 * The simulator's SLO-violation minutes, recomputed from a timeline exactly as
 * the world model counts them (world.ts): the backlog left at the end of a
 * minute is above VIOLATION_BACKLOG_SHARE of its ready capacity, or work waits
 * with no ready task (then the whole demand is backlog).
 */
export function derivedViolations(t: Timeline, capacityPerTask: number): Uint8Array {
  const n = Math.min(t.ready.length, t.backlog.length);
  const out = new Uint8Array(n);
  for (let m = 0; m < n; m++) {
    const capacity = t.ready[m]! * capacityPerTask * 60;
    out[m] = (capacity > 0 ? t.backlog[m]! > VIOLATION_BACKLOG_SHARE * capacity : t.backlog[m]! > 0) ? 1 : 0;
  }
  return out;
}

/** Emergency minutes from either shape: a list of minute indices, or one 0/1 flag per minute. */
function emergencyMinutes(e: ArrayLike<number>, minutes: number): number[] {
  const xs = Array.from(e);
  const flags = xs.length === minutes && minutes > 1 && xs.every((v) => v === 0 || v === 1);
  return flags ? xs.flatMap((v, m) => (v ? [m] : [])) : xs.filter((m) => Number.isInteger(m) && m >= 0 && m < minutes);
}

export interface TuningVerdict {
  readonly recommend: boolean;
  readonly reason: string;
  readonly fragment?: Record<string, number>;
  readonly heldOut: string;
}

const fixed2 = (x: number) => x.toFixed(2);
const int = (x: number) => x.toLocaleString('en-US');

/**
 * Recommend the tuned values only if, on the held-out half, they use fewer
 * task-minutes than the defaults without more violation minutes.
 */
export function tuningVerdict(t: TuneResult): TuningVerdict {
  const h = t.heldOut;
  const [tuned, defaults] = [h.mlscale, h.defaults];
  const ratio = (a: number) => fixed2(a / Math.max(1, h.oracle.taskMinutes));
  const heldOut =
    `Held-out half (${int(h.minutes)} minutes): mlscale tuned ${int(tuned.taskMinutes)} task-minutes (${ratio(tuned.taskMinutes)} × oracle), ${fixed2(tuned.violationPercent)} % violation minutes; ` +
    `with the defaults ${int(defaults.taskMinutes)} task-minutes (${ratio(defaults.taskMinutes)} × oracle), ${fixed2(defaults.violationPercent)} %.`;
  const infeasible = t.feasible ? '' : ' No setting met the violation budget on the first half; the one with the fewest violation minutes was tried.';
  if (t.changes.length === 0) {
    return { recommend: false, reason: `The defaults were already the best setting on the first half; there is nothing to change.${infeasible}`, heldOut };
  }
  const fewer = tuned.taskMinutes < defaults.taskMinutes;
  const noWorse = tuned.violationPercent <= defaults.violationPercent + 1e-9;
  const tried = t.changes.map((c) => `${c.path} ${c.from} → ${c.to}`).join(', ');
  if (!fewer) {
    return {
      recommend: false,
      reason: `On the held-out half the tuned values (${tried}) used ${int(tuned.taskMinutes)} task-minutes against ${int(defaults.taskMinutes)} with the defaults: no saving.${infeasible}`,
      heldOut,
    };
  }
  if (!noWorse) {
    return {
      recommend: false,
      reason: `On the held-out half the tuned values (${tried}) saved task-minutes but raised violation minutes from ${fixed2(defaults.violationPercent)} % to ${fixed2(tuned.violationPercent)} %.${infeasible}`,
      heldOut,
    };
  }
  const saved = (100 * (defaults.taskMinutes - tuned.taskMinutes)) / Math.max(1, defaults.taskMinutes);
  return {
    recommend: true,
    reason: `On the held-out half the tuned values used ${saved.toFixed(1)} % fewer task-minutes than the defaults with ${fixed2(tuned.violationPercent)} % violation minutes (defaults ${fixed2(defaults.violationPercent)} %).${infeasible} The changes, as config paths and their new values:`,
    fragment: Object.fromEntries(t.changes.map((c) => [c.path, c.to])),
    heldOut,
  };
}

const toMs = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t));

/** The report input for a comparison: what `htmlReport` renders; exported for tests. */
export function reportInput(c: Comparison, policies: readonly PolicyName[], title: string, tuned?: TuneResult, extras: HtmlExtras = {}): ReportInput {
  const perTask = c.pool.capacityPerTask;
  const startMs = Date.parse(c.trace.start);
  const markers: ReportMarker[] = [];
  const notes: string[] = [...(extras.notes ?? [])];
  const series: ReportSeries[] = policies.map((p) => {
    const t = c.timelines[p] as TimelineWithMarkers;
    const violation = t.violation ?? derivedViolations(t, perTask);
    for (const r of violationRanges(violation)) markers.push({ kind: 'violation', policy: p, from: r.from, to: r.to });
    if (t.emergencies) {
      for (const m of emergencyMinutes(t.emergencies, c.minutes)) markers.push({ kind: 'emergency', policy: p, from: m, to: m + 1, label: 'emergency scale-out' });
    }
    return { policy: p, ready: t.ready, tasks: t.tasks, backlog: t.backlog };
  });
  const unplaced = policies.filter((p) => c.policies[p].emergencies > 0 && !(c.timelines[p] as TimelineWithMarkers).emergencies);
  if (unplaced.length) {
    notes.push(`Emergencies (${unplaced.map((p) => `${p}: ${c.policies[p].emergencies}`).join(', ')}) are counted in the table; this run does not record their minutes, so they are not marked on the charts.`);
  }
  for (const e of extras.events ?? []) {
    const from = Math.floor((toMs(e.start) - startMs) / 60_000);
    const to = Math.ceil((toMs(e.end) - startMs) / 60_000);
    if (Number.isFinite(from) && Number.isFinite(to) && to > 0 && from < c.minutes) markers.push({ kind: 'event', from: Math.max(0, from), to: Math.min(c.minutes, to), label: e.name });
  }
  const ceilingRps = c.pool.maxCapacity * perTask;
  if (c.trace.peakRps > ceilingRps) {
    notes.push(
      `The peak load, ${int(c.trace.peakRps)} req/s, is above the pool's maximum capacity (${c.pool.maxCapacity} tasks × ${perTask} req/s = ${int(ceilingRps)} req/s): no policy can serve it at max capacity without a backlog.`,
    );
  }
  const gaps = (c.trace as TraceWithExtras).gapsFilled;
  if (gaps) notes.push(`${int(gaps)} missing source intervals of the trace were filled by holding the previous value.`);

  const rows = policies.map((p) => {
    const r = c.policies[p];
    return [p, int(r.taskMinutes), fixed2(r.vsOracle.taskMinutes), fixed2(r.costUsd), int(r.violationMinutes), `${fixed2(r.violationPercent)} %`, int(r.peakBacklog), int(r.scaleActions), int(r.coldStarts), int(r.emergencies)];
  });
  return {
    title,
    subtitle:
      `Pool ${c.pool.name} (${c.pool.kind}, ${c.pool.minCapacity}-${c.pool.maxCapacity} tasks, ${perTask} req/s per task, start-up ${c.pool.startupSeconds} s). ` +
      `Trace ${c.trace.name}: ${int(c.minutes)} minutes from ${c.trace.start}, ${c.trace.shape} every ${c.trace.intervalSeconds} s, peak ${int(c.trace.peakRps)} req/s, mean ${int(c.trace.meanRps)} req/s.`,
    startMs,
    loadRps: c.loadRps,
    capacityPerTask: perTask,
    series,
    markers,
    table: {
      headers: ['policy', 'task-minutes', '× oracle', 'cost $', 'violation minutes', 'violation %', 'peak backlog', 'scale actions', 'cold starts', 'emergencies'],
      rows,
    },
    notes,
    ...(tuned ? { tuning: tuningVerdict(tuned) } : {}),
  };
}

export function htmlReport(c: Comparison, policies: readonly PolicyName[], title: string, tuned?: TuneResult, extras?: HtmlExtras): string {
  return renderReport(reportInput(c, policies, title, tuned, extras));
}
