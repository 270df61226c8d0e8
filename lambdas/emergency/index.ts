import { DynamoIncidentStore, type IncidentStore } from '../aws/incident-store';
import { scalableTarget, type ScalableTarget } from '../aws/scalable-target';
import { TargetIncidentStore } from '../aws/target-incident-store';
import type { TargetSpec } from '../core/targets';
import { MetricUnit, observability } from '../shared/observability';
import { targetsFromEnv } from '../shared/targets-env';
import { parseEmergencyEvent } from './event';
import { resumeEmergency, triggerEmergency, type EmergencyOutcome } from './procedure';

const { logger, metrics } = observability('emergency');

function storeFor(spec: TargetSpec, target: ScalableTarget): IncidentStore {
  const table = process.env.MLSCALE_INCIDENT_TABLE;
  if (table) return new DynamoIncidentStore(table);
  logger.warn('MLSCALE_INCIDENT_TABLE is not set: incidents are guarded by the target state only, not against concurrent triggers');
  return new TargetIncidentStore(spec, target);
}

/**
 * Emergency doubling. Triggers: EventBridge alarm state change, CloudWatch
 * alarm action, SNS-wrapped alarm, or `{ "target": "<name>" }`. Resume:
 * `{ "action": "resume", "target": "<name>" [, "restoreDesired": true] }`.
 * A malformed event or config throws a one-line error before any AWS call.
 */
export const handler = async (event: unknown): Promise<EmergencyOutcome | { ignored: string }> => {
  const doc = targetsFromEnv();
  const request = parseEmergencyEvent(event, doc);
  if (request.kind === 'ignore') {
    logger.info('ignored', { reason: request.reason });
    return { ignored: request.reason };
  }
  const spec = doc.targets.find((t) => t.name === request.target)!;
  const target = scalableTarget(spec);
  const store = storeFor(spec, target);
  const now = new Date();
  const outcome =
    request.action === 'trigger'
      ? await triggerEmergency(spec, target, store, request.source, now)
      : await resumeEmergency(spec, target, store, request.restoreDesired, now);
  logger.info('emergency', { ...outcome, source: request.source });
  metrics.addDimension('Outcome', outcome.outcome);
  metrics.addMetric('EmergencyActions', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return outcome;
};
