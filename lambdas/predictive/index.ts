import { MetricUnit, observability } from '../shared/observability';
import { targetsFromEnv } from '../shared/targets-env';
import { runPredictive, type PredictiveResult } from './run';

const { logger, metrics } = observability('predictive');

/**
 * Invoked by a schedule (hourly by default). Forecasts each predictive
 * target's load and pre-scales it through scheduled actions; applies planned
 * events and peak hours. Any event.
 */
export const handler = async (_event: unknown): Promise<{ targets: PredictiveResult[] }> => {
  const { targets } = targetsFromEnv();
  const results = await runPredictive(targets, new Date());
  for (const r of results) {
    if (r.error) logger.error('target failed', { ...r });
    else logger.info('planned', { ...r });
  }
  metrics.addMetric('ScheduledActionsPut', MetricUnit.Count, results.reduce((n, r) => n + r.put, 0));
  metrics.addMetric('TargetErrors', MetricUnit.Count, results.filter((r) => r.error).length);
  metrics.publishStoredMetrics();
  return { targets: results };
};
