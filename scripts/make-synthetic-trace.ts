/**
 * Writes traces/synthetic-day.csv: one day (2026-06-02, UTC) of load for the
 * engine pool, one row per minute, in req/s. Deterministic (seeded noise).
 * - night: the tail of the evening, then idle (exactly 0) from 01:30 to 05:00
 *   and from 23:40 (the GPU module's idle stretches);
 * - a diurnal working day, around 200 req/s, with a lunch dip;
 * - a sudden spike at 11:30: three times the load for 12 minutes, unannounced;
 * - a planned product launch 18:00-20:00 (in config/mlscale.json as
 *   plannedEvents "product-launch"), 330 req/s.
 * Run: npx tsx scripts/make-synthetic-trace.ts
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { at, seededNoise } from './seeded-noise';

const noise = seededNoise();

function base(minute: number): number {
  const lerp = (a: number, b: number, from: number, to: number) => a + ((b - a) * (minute - from)) / (to - from);
  if (minute < at(1, 30)) return lerp(25, 0, 0, at(1, 30));
  if (minute < at(5)) return 0;
  if (minute < at(9)) return lerp(5, 190, at(5), at(9));
  if (minute < at(12)) return 200;
  if (minute < at(14)) return 150;
  if (minute < at(18)) return 205;
  if (minute < at(20)) return 330;
  if (minute < at(23)) return lerp(190, 35, at(20), at(23));
  if (minute < at(23, 40)) return lerp(35, 0, at(23), at(23, 40));
  return 0;
}

const rows = ['timestamp,rps'];
const day = Date.parse('2026-06-02T00:00:00Z');
for (let m = 0; m < 24 * 60; m++) {
  let rps = base(m);
  if (m >= at(11, 30) && m < at(11, 42)) rps *= 3;
  // The launch ramps up over 5 minutes as users arrive.
  if (m >= at(18) && m < at(18, 5)) rps = 205 + ((330 - 205) * (m - at(18) + 1)) / 5;
  if (rps > 0) rps = Math.max(0, rps * (1 + 0.08 * noise()));
  rows.push(`${new Date(day + m * 60_000).toISOString()},${rps.toFixed(2)}`);
}
const out = path.join(__dirname, '..', 'traces', 'synthetic-day.csv');
writeFileSync(out, rows.join('\n') + '\n');
console.log(`wrote ${rows.length - 1} minutes to ${out}`);
