/**
 * The forecast as holds: one `predictive:<hour>` hold per coming hour whose
 * forecast needs more than the configured minimum, in force from `lead`
 * minutes before the hour to `lead` minutes before the next. Only the next
 * `windows` hours are written, so when the predictive Lambda stops, its floors
 * end within that many hours and reactive scaling takes over.
 */
import { clamp, replicasFor } from './capacity';
import { epochSeconds, type Hold } from './holds';

const HOUR = 3_600_000;
const MINUTE = 60_000;

export interface ForecastFloorInput {
  readonly target: string;
  /** Start of the first forecast hour (epoch ms, on the hour). */
  readonly firstHour: number;
  /** Forecast load per hour (req/s), from firstHour. */
  readonly load: readonly number[];
  /** Requests per second one replica carries. */
  readonly perReplica: number;
  readonly headroom: number;
  readonly leadMinutes: number;
  readonly min: number;
  readonly max: number;
  /** Epoch ms of the run: windows already over are skipped. */
  readonly now: number;
  /** Hours ahead to write. @default 2 */
  readonly windows?: number;
}

/** `predictive:2026-12-02T11` for the hour starting 11:00Z. */
export const predictiveHolder = (hour: number) => `predictive:${new Date(hour).toISOString().slice(0, 13)}`;

export function forecastHolds(input: ForecastFloorInput): { holds: Hold[]; replicas: number[] } {
  const lead = input.leadMinutes * MINUTE;
  const replicas = input.load.map((load) => clamp(replicasFor(load, input.perReplica, input.headroom), input.min, input.max));
  const holds: Hold[] = [];
  const windows = input.windows ?? 2;
  for (let h = 0; h < Math.min(windows + 1, input.load.length) && holds.length < windows; h++) {
    const hour = input.firstHour + h * HOUR;
    const from = hour - lead;
    const to = hour + HOUR - lead;
    if (to <= input.now) continue;
    const floor = replicas[h]!;
    if (floor <= input.min) continue;
    holds.push({
      target: input.target,
      holder: predictiveHolder(hour),
      floor,
      reason: `forecast ${input.load[h]!.toFixed(1)} req/s for ${new Date(hour).toISOString().slice(11, 16)}Z needs ${floor} at ${input.perReplica} req/s each + ${Math.round(input.headroom * 100)} % headroom`,
      createdAt: epochSeconds(input.now),
      startsAt: epochSeconds(from),
      expiresAt: epochSeconds(to),
    });
  }
  return { holds, replicas };
}
