import { MetricUnit, observability } from '../shared/observability';
import { targetsFromEnv } from '../shared/targets-env';
import { runScaleToZero, type TargetDecision } from './tick';

const { logger, metrics } = observability('scale-to-zero');

/**
 * Invoked every minute by an EventBridge schedule and at once by a work-metric
 * alarm (scale from zero without waiting for the minute). Any event: it
 * evaluates every scale-to-zero target.
 */
export const handler = async (_event: unknown): Promise<{ decisions: TargetDecision[] }> => {
  const { targets } = targetsFromEnv();
  const result = await runScaleToZero(targets, new Date());
  for (const d of result.decisions) {
    if (d.error) logger.error('target failed', { ...d });
    else if (d.from !== d.to) logger.info('scaled', { ...d });
    else logger.debug('held', { ...d });
  }
  const count = (p: (d: TargetDecision) => boolean) => result.decisions.filter(p).length;
  metrics.addMetric('ScaledFromZero', MetricUnit.Count, count((d) => !d.error && d.from === 0 && d.to > 0));
  metrics.addMetric('ScaledToZero', MetricUnit.Count, count((d) => !d.error && d.from > 0 && d.to < d.from));
  metrics.addMetric('TargetErrors', MetricUnit.Count, count((d) => d.error !== undefined));
  metrics.addMetric('TargetsEvaluated', MetricUnit.Count, result.decisions.length);
  metrics.publishStoredMetrics();
  logger.info('tick', { targets: result.decisions.length, calls: result.calls });
  return { decisions: result.decisions };
};
