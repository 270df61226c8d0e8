/**
 * Holds that come from the config's schedules: planned events and peak
 * hours. The reconciler derives them from the managed-targets document on
 * every pass, so they start and end exactly on time, and nothing has to be
 * written for them, or can be stranded: when the window ends, the hold is
 * gone. (Forecast floors need load history and are written by the
 * predictive Lambda; holds from runbooks and the CLI are written by them.)
 */
import { cronFirings, parseCron, type Cron } from './cron';
import { epochSeconds, eventHolder, peakHoursHolder, type Hold } from './holds';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface PlannedEventSpec {
  readonly name: string;
  readonly start: string;
  readonly end: string;
  readonly replicas?: number;
  readonly multiplier?: number;
  readonly leadMinutes: number;
  readonly cooldownMinutes: number;
}

export interface PeakHoursSpec {
  readonly name: string;
  readonly startCron: string;
  readonly endCron: string;
  readonly minCapacity: number;
  readonly timezone: string;
}

export interface Schedules {
  readonly name: string;
  readonly plannedEvents: readonly PlannedEventSpec[];
  readonly peakHours: readonly PeakHoursSpec[];
}

const crons = new Map<string, Cron>();
function cron(expression: string): Cron {
  let c = crons.get(expression);
  if (!c) crons.set(expression, (c = parseCron(expression)));
  return c;
}

/** The peak window open at `now`, or the next one starting within `lookahead` ms; undefined when neither. */
export function peakWindow(peak: PeakHoursSpec, now: number, lookahead = 0): { from: number; to: number } | undefined {
  const starts = cronFirings(cron(peak.startCron), now - 7 * DAY, now + lookahead + MINUTE, peak.timezone);
  const ends = cronFirings(cron(peak.endCron), now - 7 * DAY, now + lookahead + 8 * DAY, peak.timezone);
  for (const s of starts) {
    const e = ends.find((x) => x > s);
    if (e === undefined || e <= now) continue;
    return { from: s, to: e };
  }
  return undefined;
}

/**
 * The schedule holds of one target at `now`: those open now, and those
 * starting within `lookahead` ms (for `mlscale holds`; the reconciler looks
 * at now only). A multiplier event multiplies `reference`: the capacity the
 * target would have without the event (its configured minimum or the
 * forecast floor), never the raise itself, so it cannot compound.
 */
export function scheduleHolds(target: Schedules, now: number, reference: number, lookahead = 0): Hold[] {
  const holds: Hold[] = [];
  for (const e of target.plannedEvents) {
    const from = Date.parse(e.start) - e.leadMinutes * MINUTE;
    const to = Date.parse(e.end) + e.cooldownMinutes * MINUTE;
    if (to <= now || from > now + lookahead) continue;
    const floor = e.replicas ?? Math.ceil((e.multiplier ?? 1) * Math.max(reference, 1));
    holds.push({
      target: target.name,
      holder: eventHolder(e.name),
      floor,
      reason: `planned event ${e.name} (${e.start} to ${e.end}, ${e.leadMinutes} min lead, ${e.cooldownMinutes} min cooldown)`,
      createdAt: epochSeconds(from),
      startsAt: epochSeconds(from),
      expiresAt: epochSeconds(to),
    });
  }
  for (const p of target.peakHours) {
    const w = peakWindow(p, now, lookahead);
    if (!w) continue;
    holds.push({
      target: target.name,
      holder: peakHoursHolder(p.name),
      floor: p.minCapacity,
      reason: `peak hours ${p.name} (${p.startCron} to ${p.endCron} ${p.timezone})`,
      createdAt: epochSeconds(w.from),
      startsAt: epochSeconds(w.from),
      expiresAt: epochSeconds(w.to),
    });
  }
  return holds;
}
