/** Bucketing long traces for the charts: at most ~20,000 points per series, each the maximum of its bucket. */

/** Bucket sizes in minutes that line up with the clock (a bucket never straddles an hour or day boundary oddly). */
const ROUND_BUCKETS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440];

/** The smallest round bucket (minutes) that leaves at most `maxPoints` points for `minutes` minutes. */
export function bucketMinutes(minutes: number, maxPoints: number): number {
  const need = Math.max(1, Math.ceil(minutes / Math.max(1, Math.floor(maxPoints))));
  const round = ROUND_BUCKETS.find((b) => b >= need);
  return round ?? Math.ceil(need / 1440) * 1440;
}

/** Each consecutive `size` values (from index 0) reduced to their maximum (peaks matter for capacity and backlog). */
export function bucketMax(values: ArrayLike<number>, size: number): number[] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`bucket size must be a whole number >= 1, got ${size}`);
  const n = values.length;
  const out: number[] = [];
  for (let i = 0; i < n; i += size) {
    let max = -Infinity;
    const end = Math.min(n, i + size);
    for (let j = i; j < end; j++) if (values[j]! > max) max = values[j]!;
    out.push(max);
  }
  return out;
}
