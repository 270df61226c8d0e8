/**
 * Writes traces/batch-day.csv: one day (2026-06-02, UTC) of messages arriving
 * on a batch pool's SQS queue, one row per minute, in messages per second.
 * Deterministic (seeded noise), made up here (no third-party data):
 * - 00:00-01:00: a trickle, 3 messages a minute (fewer than one task's
 *   messagesPerTask of 10: target tracking on backlog per task never sees it
 *   at zero tasks);
 * - 02:00-02:20: the nightly re-embedding job, 12 msg/s;
 * - 08:00-20:00: every hour at :00, a burst of about 3,000 messages in two
 *   minutes (25 msg/s, more than the pool's 8 tasks × 2 msg/s serve), and a
 *   smaller one of about 600 at :30; nothing in between;
 * - 21:00-21:45: a backfill ramp from 2 to 14 msg/s;
 * - otherwise empty.
 * With the example batch pool of docs/simulator.md (8 tasks, 2 msg/s each).
 * Run: npx tsx scripts/make-batch-trace.ts
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { at, seededNoise } from './seeded-noise';

const noise = seededNoise();

function base(minute: number): number {
  const hh = Math.floor(minute / 60);
  const mm = minute % 60;
  if (minute < at(1)) return 3 / 60;
  if (minute >= at(2) && minute < at(2, 20)) return 12;
  if (hh >= 8 && hh <= 20) {
    if (mm < 2) return 25;
    if (mm >= 30 && mm < 32) return 5;
    return 0;
  }
  if (minute >= at(21) && minute < at(21, 45)) return 2 + (12 * (minute - at(21))) / 45;
  return 0;
}

const rows = ['timestamp,load'];
const day = Date.parse('2026-06-02T00:00:00Z');
for (let m = 0; m < 24 * 60; m++) {
  let rate = base(m);
  if (rate > 0) rate = Math.max(0, rate * (1 + 0.1 * noise()));
  rows.push(`${new Date(day + m * 60_000).toISOString()},${rate.toFixed(3)}`);
}
const out = path.join(__dirname, '..', 'traces', 'batch-day.csv');
writeFileSync(out, rows.join('\n') + '\n');
console.log(`wrote ${rows.length - 1} minutes to ${out}`);
