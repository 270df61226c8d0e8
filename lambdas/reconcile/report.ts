import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '../shared/observability';
import type { FlapVerdict } from '../core/flaps';
import type { TickResult } from './run';

/**
 * Log every decision with its reasons and publish the reconciler's health:
 * per target `TargetErrors` (alarmed per target) and `Drift` (the pass had to
 * change something: a hold came or went — or something else keeps writing the
 * target, when it lasts), and totals; with `flaps` (the scheduled pass), each
 * target's `DesiredCapacity` and `Flapping` when its desired capacity
 * reversed direction too often in the last hour. A pass where every target failed fails
 * the invocation, so the function's Errors alarm pages too.
 */
export function report(result: TickResult, logger: Logger, metrics: Metrics, options: { drift: boolean; flaps?: ReadonlyMap<string, FlapVerdict> }): void {
  for (const t of result.targets) {
    const changed = t.changed.limits || t.changed.desired;
    if (t.error) logger.error('target failed', { ...t });
    else if (changed) logger.info('reconciled', { ...t });
    else logger.debug('in line', { ...t });
    if (t.error) metrics.singleMetric().addDimensions({ Target: t.target }).addMetric('TargetErrors', MetricUnit.Count, 1);
    if (options.drift && changed) metrics.singleMetric().addDimensions({ Target: t.target }).addMetric('Drift', MetricUnit.Count, 1);
    if (options.flaps) {
      // The scheduled pass records desired each minute: what thrash detection counts reversals in (flaps.ts).
      if (!t.failed) metrics.singleMetric().addDimensions({ Target: t.target }).addMetric('DesiredCapacity', MetricUnit.Count, t.desired);
      const flap = options.flaps.get(t.target);
      if (flap?.flapping) {
        logger.warn('flapping', { target: t.target, reversals: flap.count, reason: flap.reason });
        metrics.singleMetric().addDimensions({ Target: t.target }).addMetric('Flapping', MetricUnit.Count, 1);
      }
    }
  }
  const count = (p: (t: TickResult['targets'][number]) => boolean) => result.targets.filter(p).length;
  metrics.addMetric('TargetsReconciled', MetricUnit.Count, result.targets.length);
  metrics.addMetric('TargetsChanged', MetricUnit.Count, count((t) => t.changed.limits || t.changed.desired));
  metrics.addMetric('TargetErrors', MetricUnit.Count, count((t) => t.error !== undefined));
  metrics.publishStoredMetrics();
  logger.info('pass', { targets: result.targets.length, calls: result.calls });
  const failed = result.targets.filter((t) => t.failed);
  if (result.targets.length > 0 && failed.length === result.targets.length) {
    throw new Error(`every target failed: ${failed.map((t) => `${t.target}: ${t.error}`).join('; ')}`);
  }
}
