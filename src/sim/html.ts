/**
 * The `--html` report of `mlscale simulate`: builds the report's input from a
 * Comparison (and the tuning result) and renders it with src/sim/report
 * (uPlot charts inlined into one self-contained page).
 */
import type { Comparison } from './compare';
import { renderReport } from './report/render';
import type { ReportInput, ReportMarker, ReportSeries } from './report/model';
import { loadUnit } from './notes';
import { violationRanges } from './report/markers';
import type { PolicyName, Timeline } from './simulate';
import { tuningVerdict, type TuneResult } from './tune';

export { tuningVerdict, type TuningVerdict } from './tune';
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

const fixed2 = (x: number) => x.toFixed(2);
const int = (x: number) => x.toLocaleString('en-US');

const toMs = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t));

/** The report input for a comparison: what `htmlReport` renders; exported for tests. */
export function reportInput(c: Comparison, policies: readonly PolicyName[], title: string, tuned?: TuneResult, extras: HtmlExtras = {}): ReportInput {
  const perTask = c.pool.capacityPerTask;
  const unit = loadUnit(c.pool.kind);
  const startMs = Date.parse(c.trace.start);
  const markers: ReportMarker[] = [];
  const notes: string[] = [...(extras.notes ?? [])];
  const series: ReportSeries[] = policies.map((p) => {
    const t = c.timelines[p] as TimelineWithMarkers;
    // Per-minute flags when given; else the exact ranges the run recorded (bucketed or not); else derived per minute.
    const ranges = t.violation ? violationRanges(t.violation) : (t.violations ?? violationRanges(derivedViolations(t, perTask)));
    for (const r of ranges) markers.push({ kind: 'violation', policy: p, from: r.from, to: r.to });
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

  const batch = c.pool.kind === 'batch';
  const rows = policies.map((p) => {
    const r = c.policies[p];
    return [
      p,
      int(r.taskMinutes),
      fixed2(r.vsOracle.taskMinutes),
      fixed2(r.costUsd),
      int(r.violationMinutes),
      `${fixed2(r.violationPercent)} %`,
      int(r.peakBacklog),
      int(r.scaleActions),
      int(r.coldStarts),
      int(r.emergencies),
      int(r.flaps),
      ...(batch ? [int(r.peakMessageAgeSeconds ?? 0), int(r.messageAgeAlarmMinutes ?? 0)] : []),
    ];
  });
  return {
    title,
    subtitle:
      `Pool ${c.pool.name} (${c.pool.kind}, ${c.pool.minCapacity}-${c.pool.maxCapacity} tasks, ${perTask} ${unit} per task, start-up ${c.pool.startupSeconds} s). ` +
      `Trace ${c.trace.name}: ${int(c.minutes)} minutes from ${c.trace.start}, ${c.trace.shape} every ${c.trace.intervalSeconds} s, peak ${int(c.trace.peakRps)} ${unit}, mean ${int(c.trace.meanRps)} ${unit}.`,
    startMs,
    loadRps: c.loadRps,
    capacityPerTask: perTask,
    series,
    markers,
    table: {
      headers: [
        'policy',
        'task-minutes',
        '× oracle',
        'cost $',
        'violation minutes',
        'violation %',
        'peak backlog',
        'scale actions',
        'cold starts',
        'emergencies',
        'flaps (most reversals in an hour)',
        ...(batch ? ['oldest message, max s', 'age alarm minutes'] : []),
      ],
      rows,
    },
    notes,
    ...(tuned ? { tuning: tuningVerdict(tuned) } : {}),
    ...((c.bucketMinutes ?? 1) > 1 ? { bucketMinutes: c.bucketMinutes, minutes: c.minutes } : {}),
  };
}

export function htmlReport(c: Comparison, policies: readonly PolicyName[], title: string, tuned?: TuneResult, extras?: HtmlExtras): string {
  return renderReport(reportInput(c, policies, title, tuned, extras));
}
