import { observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';
import { report } from './report';
import { reconcileTargets } from './run';

const { logger, metrics } = observability('reconcile');

export interface ReconcileSummary {
  readonly targets: {
    readonly target: string;
    readonly min: number;
    readonly max: number;
    readonly suspended: boolean;
    readonly desired: number;
    readonly holds: readonly string[];
    readonly from: number;
    readonly error?: string;
  }[];
}

/**
 * The reconciler: every minute (and whenever an alarm says work appeared),
 * one pass over every managed target: holds + configured limits + what the
 * target looks like -> limits, suspension and desired, applied. Any event.
 */
export const handler = async (_event: unknown): Promise<ReconcileSummary> => {
  const doc = targetsFromEnv();
  const result = await reconcileTargets(doc.targets, holdStoreFor(doc), new Date());
  report(result, logger, metrics, { drift: true });
  return {
    targets: result.targets.map((t) => ({
      target: t.target,
      min: t.min,
      max: t.max,
      suspended: t.suspended,
      desired: t.desired,
      holds: t.holds,
      from: t.from,
      ...(t.error ? { error: t.error } : {}),
    })),
  };
};
