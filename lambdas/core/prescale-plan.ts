/**
 * Pre-scaling plan: one timeline of minimum capacity from the forecast,
 * planned events and peak hours, turned into Application Auto Scaling
 * one-time scheduled actions at its change points.
 *
 * Why one timeline: scheduled actions each set MinCapacity at their time, so
 * separate sets would undo each other (a forecast action at 09:50 lowering
 * the minimum a peak-hours action raised at 09:00). Merging them first keeps
 * every source's floor in force.
 *
 * Safety: every minimum is within [baseMin, max] (never below the reactive
 * floor, never above the ceiling); the plan always ends by restoring baseMin,
 * so if the Lambda stops running nothing stays raised; only MinCapacity is
 * set, and Application Auto Scaling never lowers desired capacity when the
 * minimum drops, so a plan never takes away capacity reactive scaling added.
 */
import { clamp, replicasFor } from './capacity';
import { cronFirings, parseCron } from './cron';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface PlannedEventInput {
  readonly name: string;
  readonly start: string;
  readonly end: string;
  readonly replicas?: number;
  readonly multiplier?: number;
  readonly leadMinutes: number;
  readonly cooldownMinutes: number;
}

export interface PeakHoursInput {
  readonly name: string;
  readonly startCron: string;
  readonly endCron: string;
  readonly minCapacity: number;
  readonly timezone: string;
}

export interface ForecastInput {
  /** Start of the first forecast hour (epoch ms, on the hour). */
  readonly firstHour: number;
  /** Forecast load per hour (req/s). */
  readonly load: readonly number[];
  readonly perReplica: number;
  readonly headroom: number;
  /** Raise the minimum this long before the hour (task start-up). */
  readonly leadMinutes: number;
}

export interface PrescaleInput {
  readonly now: number;
  /** The configured minimum: the reactive floor the plan never goes below. */
  readonly baseMin: number;
  /** The scalable target's current maximum. */
  readonly max: number;
  /** Current minimum (the plan's first action only if it must change it). */
  readonly currentMin: number;
  /** Current desired capacity: the reference for multiplier events. */
  readonly desired: number;
  readonly horizonHours: number;
  /** Omitted in forecast-only mode: events and peak hours are still applied. */
  readonly forecast?: ForecastInput;
  readonly events: readonly PlannedEventInput[];
  readonly peakHours: readonly PeakHoursInput[];
}

export interface FloorInterval {
  readonly from: number;
  readonly to: number;
  readonly min: number;
  readonly source: string;
}

export interface PlannedAction {
  /** Epoch ms, on a minute. */
  readonly at: number;
  readonly minCapacity: number;
  readonly reason: string;
}

export interface PrescalePlan {
  readonly actions: readonly PlannedAction[];
  readonly intervals: readonly FloorInterval[];
  /** Replicas per forecast hour (after headroom and clamping), for the forecast metric. */
  readonly forecastReplicas: readonly number[];
}

function forecastIntervals(f: ForecastInput, baseMin: number, max: number): { intervals: FloorInterval[]; replicas: number[] } {
  const lead = f.leadMinutes * MINUTE;
  const replicas = f.load.map((load) => clamp(replicasFor(load, f.perReplica, f.headroom), baseMin, max));
  const intervals = replicas.map((min, h) => ({
    from: f.firstHour + h * HOUR - lead,
    to: f.firstHour + (h + 1) * HOUR - lead,
    min,
    source: `forecast ${f.load[h]!.toFixed(1)} req/s for ${new Date(f.firstHour + h * HOUR).toISOString().slice(11, 16)}Z`,
  }));
  return { intervals, replicas };
}

function eventIntervals(input: PrescaleInput, forecast: FloorInterval[]): FloorInterval[] {
  return input.events.map((e) => {
    const start = Date.parse(e.start);
    const from = start - e.leadMinutes * MINUTE;
    const to = Date.parse(e.end) + e.cooldownMinutes * MINUTE;
    // "Capacity before the event": what runs now or what the forecast expects at its start, whichever is more.
    const expected = forecast.find((f) => f.from <= start && start < f.to)?.min ?? 0;
    const reference = Math.max(input.desired, input.baseMin, expected, 1);
    const min = e.replicas ?? Math.ceil((e.multiplier ?? 1) * reference);
    return { from, to, min, source: `planned event ${e.name}` };
  });
}

/** Peak windows overlapping [from, to): each start firing paired with the next end firing. */
function peakIntervals(peaks: readonly PeakHoursInput[], from: number, to: number): FloorInterval[] {
  const out: FloorInterval[] = [];
  for (const p of peaks) {
    const startCron = parseCron(p.startCron);
    const endCron = parseCron(p.endCron);
    // Look back a week for a window already open, and a week past `to` for its end.
    const starts = cronFirings(startCron, from - 7 * DAY, to, p.timezone);
    const ends = cronFirings(endCron, from - 7 * DAY, to + 7 * DAY, p.timezone);
    for (const s of starts) {
      const e = ends.find((x) => x > s);
      if (e === undefined || e <= from) continue;
      out.push({ from: s, to: e, min: p.minCapacity, source: `peak hours ${p.name}` });
    }
  }
  return out;
}

/** Build the plan. Pure: same input, same actions. */
export function planPrescale(input: PrescaleInput): PrescalePlan {
  const { baseMin, max } = input;
  if (baseMin > max) throw new Error(`baseMin must be <= max, got ${baseMin} > ${max}`);
  // Two minutes of margin: Application Auto Scaling only runs actions in the future, and reading,
  // forecasting and writing the plan of many targets takes a while.
  const firstMinute = Math.ceil((input.now + 2 * MINUTE) / MINUTE) * MINUTE;
  const horizonEnd = input.now + input.horizonHours * HOUR;

  const forecast = input.forecast ? forecastIntervals(input.forecast, baseMin, max) : { intervals: [], replicas: [] };
  const explicit = [...eventIntervals(input, forecast.intervals), ...peakIntervals(input.peakHours, firstMinute, horizonEnd)].filter(
    (i) => i.to > firstMinute && i.from < horizonEnd,
  );
  const intervals = [...forecast.intervals.filter((i) => i.to > firstMinute && i.from < horizonEnd), ...explicit];
  // Operator-planned windows are kept whole even past the horizon, so their restore is scheduled too.
  const windowEnd = Math.max(horizonEnd, ...explicit.map((i) => i.to));

  const floorAt = (t: number) => {
    let floor = baseMin;
    let reason = 'configured minimum';
    for (const i of intervals) {
      if (i.from <= t && t < i.to && i.min > floor) [floor, reason] = [i.min, i.source];
    }
    return { min: clamp(floor, baseMin, max), reason };
  };

  const boundaries = new Set<number>([firstMinute]);
  for (const i of intervals) {
    for (const b of [i.from, i.to]) {
      const minute = Math.ceil(b / MINUTE) * MINUTE;
      if (minute > firstMinute && minute < windowEnd) boundaries.add(minute);
    }
  }
  const actions: PlannedAction[] = [];
  let current = input.currentMin;
  for (const at of [...boundaries].sort((a, b) => a - b)) {
    const { min, reason } = floorAt(at);
    if (min !== current) {
      actions.push({ at, minCapacity: min, reason });
      current = min;
    }
  }
  if (current !== baseMin) {
    actions.push({ at: Math.ceil(windowEnd / MINUTE) * MINUTE, minCapacity: baseMin, reason: 'end of plan: back to the configured minimum' });
  }
  return { actions, intervals, forecastReplicas: forecast.replicas };
}

/** Names of mlscale's scheduled actions: prefix + UTC minute, so a re-plan overwrites the same minute. */
export const PRESCALE_ACTION_PREFIX = 'mlscale-prescale-';

export function actionName(at: number): string {
  return `${PRESCALE_ACTION_PREFIX}${new Date(at).toISOString().slice(0, 16).replace(/[-:T]/g, '')}`;
}

export interface ExistingAction {
  readonly name: string;
  readonly minCapacity?: number;
}

/**
 * What to change so the target holds exactly the planned mlscale actions.
 * Actions without the mlscale prefix belong to someone else and are never touched.
 */
export function reconcileActions(
  existing: readonly ExistingAction[],
  planned: readonly PlannedAction[],
): { put: { name: string; action: PlannedAction }[]; remove: string[] } {
  const wanted = new Map(planned.map((a) => [actionName(a.at), a]));
  const ours = existing.filter((a) => a.name.startsWith(PRESCALE_ACTION_PREFIX));
  const have = new Map(ours.map((a) => [a.name, a]));
  const put = [...wanted.entries()]
    .filter(([name, a]) => have.get(name)?.minCapacity !== a.minCapacity)
    .map(([name, action]) => ({ name, action }));
  const remove = ours.filter((a) => !wanted.has(a.name)).map((a) => a.name);
  return { put, remove };
}
