import type { FlapVerdict } from '../core/flaps';
import { observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';
import { readFlaps } from './flaps';
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
    /** Set when desired capacity reversed direction more often in the last hour than the target allows. */
    readonly flapping?: { readonly reversals: number; readonly reason: string };
  }[];
}

const flappingOf = (v: FlapVerdict | undefined) => (v?.flapping ? { flapping: { reversals: v.count, reason: v.reason } } : {});

/**
 * The reconciler: every minute (and whenever an alarm says work appeared),
 * one pass over every managed target: holds + configured limits + what the
 * target looks like -> limits, suspension and desired, applied. Any event.
 */
export const handler = async (_event: unknown): Promise<ReconcileSummary> => {
  const doc = targetsFromEnv();
  const now = new Date();
  const [result, history] = await Promise.all([
    reconcileTargets(doc.targets, holdStoreFor(doc), now),
    // Thrash detection must never cost a pass: unreadable history only means no verdict.
    readFlaps(doc.targets, now).catch((err: Error) => {
      logger.warn('desired capacity history unreadable', { error: `${err.name}: ${err.message}` });
      return undefined;
    }),
  ]);
  report(result, logger, metrics, { drift: true, flaps: history?.flaps ?? new Map() });
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
      ...flappingOf(history?.flaps.get(t.target)),
    })),
  };
};
