import { incidentIdFor } from '../core/emergency-raise';
import { MetricUnit, observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';
import { parseEmergencyEvent } from './event';
import { resumeEmergency, triggerEmergency, watchEmergency, type EmergencyOutcome, type WatchOutcome } from './procedure';

const { logger, metrics } = observability('emergency');

/**
 * Emergency raise. Triggers: EventBridge alarm state change, CloudWatch
 * alarm action, SNS-wrapped alarm, or `{ "target": "<name>" }` (the runbook
 * adds `execution`, which is the incident). Resume:
 * `{ "action": "resume", "target": "<name>" [, "incident": "<id>"] }`. Each minute of an
 * incident the runbook calls `{ "action": "watch", "target", "incident", "inAlarm" }`:
 * the raise is kept sized to the backlog, and `drained` says it may end early.
 * The raise is an `emergency:<incident>` hold that ends by itself; the
 * target is reconciled at once. A malformed event or config throws a
 * one-line error before any AWS call.
 */
export const handler = async (event: unknown): Promise<EmergencyOutcome | WatchOutcome | { ignored: string }> => {
  const doc = targetsFromEnv();
  const request = parseEmergencyEvent(event, doc);
  if (request.kind === 'ignore') {
    logger.info('ignored', { reason: request.reason });
    return { ignored: request.reason };
  }
  const spec = doc.targets.find((t) => t.name === request.target)!;
  const store = holdStoreFor(doc);
  const now = new Date();
  if (request.action === 'watch') {
    const watched = await watchEmergency(spec, store, request.incident!, !request.inAlarm, now);
    logger.info('watch', { ...watched });
    return watched;
  }
  const outcome =
    request.action === 'trigger'
      ? await triggerEmergency(spec, store, request.incident ?? incidentIdFor(spec.name, now), request.holdMinutes ?? doc.emergency.holdMinutes, now)
      : await resumeEmergency(spec, store, request.incident, now);
  logger.info('emergency', { ...outcome, source: request.source, holds: store.where });
  metrics.addDimension('Outcome', outcome.outcome);
  metrics.addMetric('EmergencyActions', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return outcome;
};
