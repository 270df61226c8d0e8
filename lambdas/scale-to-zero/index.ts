import { isScaleToZero } from '../core/config/document';
import { reconcileTargets } from '../reconcile/run';
import { report } from '../reconcile/report';
import { observability } from '../shared/observability';
import { holdStoreFor, targetsFromEnv } from '../shared/targets-env';

const { logger, metrics } = observability('scale-to-zero');

export interface ScaleToZeroDecision {
  readonly target: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly error?: string;
}

/**
 * Scale-to-zero (DESIGN.md "Handlers"): the reconciler's pass over the
 * scale-to-zero targets only. Work in the newest datapoint at capacity 0
 * writes a `wake` hold and the pass takes the target to `scaleFromZeroTo`;
 * `idleMinutes` with no work (and nothing in flight) lets the hold lapse and
 * the pass takes it to zero. Any event. Returns `{ decisions }`.
 */
export const handler = async (_event: unknown): Promise<{ decisions: ScaleToZeroDecision[] }> => {
  const doc = targetsFromEnv();
  const result = await reconcileTargets(doc.targets.filter(isScaleToZero), holdStoreFor(doc), new Date());
  report(result, logger, metrics, { drift: false });
  return {
    decisions: result.targets.map((t) => ({
      target: t.target,
      from: t.from,
      to: t.desired,
      // What the work says, then what the pass did about it (a wake shows as "raised to the minimum" of its hold).
      reason: [t.work?.reason, t.holds.includes('wake') && t.changed.desired ? `wake hold: ${t.why.min}` : t.why.desired].filter(Boolean).join('; '),
      ...(t.error ? { error: t.error } : {}),
    })),
  };
};
