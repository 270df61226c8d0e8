import { MetricUnit, observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';
import { runPredictive, type PredictiveResult } from './run';

const { logger, metrics } = observability('predictive');

const failed = (r: PredictiveResult) => Boolean(r.error ?? r.publishError ?? r.applyError);

/**
 * Invoked by a schedule (hourly by default). Forecasts each predictive
 * target's load and writes the coming hours' floors as holds. Any event.
 */
export const handler = async (_event: unknown): Promise<{ targets: PredictiveResult[] }> => {
  const doc = targetsFromEnv();
  const results = await runPredictive(doc.targets, holdStoreFor(doc), new Date());
  for (const r of results) {
    if (r.error) logger.error('target failed', { ...r });
    else logger.info('forecast', { ...r });
    if (failed(r)) metrics.singleMetric().addDimensions({ Target: r.target }).addMetric('TargetErrors', MetricUnit.Count, 1);
  }
  metrics.addMetric('ForecastHoldsWritten', MetricUnit.Count, results.reduce((n, r) => n + r.holds.length, 0));
  // A forecast that was made but not published, or holds written but not applied, is an error too: it pages.
  metrics.addMetric('TargetErrors', MetricUnit.Count, results.filter(failed).length);
  metrics.publishStoredMetrics();
  if (results.length > 0 && results.every((r) => r.error)) throw new Error(`every target failed: ${results.map((r) => `${r.target}: ${r.error}`).join('; ')}`);
  return { targets: results };
};
