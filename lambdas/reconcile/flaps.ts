import { readMetrics } from '../aws/metrics';
import type { TargetSpec } from '../core/config/document';
import { flapVerdict, type FlapVerdict } from '../core/flaps';
import { SCALER_NAMESPACE } from '../core/names';

/**
 * Thrash detection for the reconciler: each pass publishes every target's
 * desired capacity (`DesiredCapacity`, one datapoint a minute, ECS and EKS
 * alike, with or without Container Insights) and reads the last hour of it
 * back in one GetMetricData call per 500 targets; `lambdas/core/flaps.ts`
 * counts the reversals. Capacity that target tracking moves between passes
 * shows at one-minute resolution, which is the resolution the reversals
 * that cost money happen at (each one throws away a task start).
 */

/** The metric the reconciler publishes per target (report.ts) and reads back here. */
export const desiredCapacityMetric = (target: string) => ({
  namespace: SCALER_NAMESPACE,
  metricName: 'DesiredCapacity',
  // Powertools adds the function's service name as a dimension to every metric.
  dimensions: { service: 'reconcile', Target: target },
  statistic: 'Maximum',
});

const MINUTE = 60_000;

/** Per target: flapping or not, or why it could not be told. */
export async function readFlaps(specs: readonly TargetSpec[], now: Date): Promise<{ flaps: Map<string, FlapVerdict>; calls: number }> {
  if (specs.length === 0) return { flaps: new Map(), calls: 0 };
  const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE + MINUTE);
  const window = { start: new Date(end.getTime() - 61 * MINUTE), end, periodSeconds: 60 };
  const { observations, calls } = await readMetrics(
    specs.map((t) => ({ key: t.name, metric: desiredCapacityMetric(t.name) })),
    window,
  );
  const flaps = new Map<string, FlapVerdict>();
  for (const t of specs) {
    const o = observations.get(t.name);
    // Unreadable history says nothing about flapping; the pass itself is unaffected.
    if (!o || o.error) continue;
    flaps.set(t.name, flapVerdict(o.points, now.getTime(), t.maxDirectionChangesPerHour));
  }
  return { flaps, calls };
}
