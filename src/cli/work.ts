import { readMetrics, type MetricRead } from '../../lambdas/aws/metrics';
import { isScaleToZero, type TargetSpec } from '../../lambdas/core/config/document';
import { lookbackMinutes, workState, type WorkState } from '../../lambdas/core/work';

/**
 * A scale-to-zero target's work as the reconciler reads it (same metrics,
 * same window as lambdas/reconcile/run.ts), for `describe` to predict the
 * next pass without running it. Undefined for other targets. A metric that
 * cannot be read comes back as `unknown` work, never as an error.
 */
export async function readWork(spec: TargetSpec, now: Date): Promise<WorkState | undefined> {
  if (!isScaleToZero(spec)) return undefined;
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  const window = { start: new Date(end.getTime() - (lookbackMinutes(spec) + 1) * 60_000), end, periodSeconds: 60 };
  const reads: MetricRead[] = [
    { key: 'work', metric: spec.work! },
    ...(spec.inFlight ? [{ key: 'inFlight', metric: spec.inFlight }] : []),
    ...(spec.gpuUtilization ? [{ key: 'gpu', metric: spec.gpuUtilization }] : []),
  ];
  const { observations } = await readMetrics(reads, window);
  const get = (k: string) => observations.get(k) ?? { points: [], error: 'not read' };
  return workState(
    { work: get('work'), ...(spec.inFlight ? { inFlight: get('inFlight') } : {}), ...(spec.gpuUtilization ? { gpu: get('gpu') } : {}) },
    { idleMinutes: spec.idleMinutes, missingDataIsIdle: spec.missingDataIsIdle, gpuIdlePercent: spec.gpuIdlePercent },
    now.getTime(),
  );
}
