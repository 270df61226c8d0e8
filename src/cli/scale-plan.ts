import { CliError } from './errors';
import type { Kind } from './resource';

export interface Change {
  readonly from: number;
  readonly to: number;
}

export interface ScalePlan {
  readonly requested: number;
  readonly from: number;
  readonly to: number;
  /** Present when min capacity changes. */
  readonly min?: Change;
  /** Present when max capacity changes (--raise-max). */
  readonly max?: Change;
  /** --replicas 0: suspend all automatic scaling (service) or tag the group paused (node group). */
  readonly pause: boolean;
  /** Asked above max without --raise-max: scheduled max instead. */
  readonly cappedAt?: number;
}

export interface ScaleRequest {
  readonly replicas: number;
  readonly raiseMax: boolean;
  /** An explicit min capacity instead of the automatic one. */
  readonly min?: number;
}

/**
 * A manual scale the autoscaler will not undo: desired = replicas (capped at
 * max unless `raiseMax`), min moved to the new desired so target tracking (or
 * the scale-to-zero Lambda) cannot scale it back, max raised only on request.
 * Replicas 0 pauses instead, leaving min and max as they are — except on a
 * node group, where EKS requires min <= desired. An explicit `min` wins.
 */
export function planScale(
  kind: Kind,
  current: { readonly desired: number; readonly limits?: { readonly min: number; readonly max: number } },
  request: ScaleRequest,
): ScalePlan {
  const { replicas, raiseMax } = request;
  const from = current.desired;
  const limits = current.limits;
  if (!limits) {
    if (request.min !== undefined) throw new CliError('--min needs a scalable target (this service is not autoscaled)');
    return { requested: replicas, from, to: replicas, pause: replicas === 0 };
  }
  const capped = replicas > limits.max && !raiseMax;
  const to = capped ? limits.max : replicas;
  const max = Math.max(limits.max, to);
  let min: number;
  if (request.min !== undefined) min = request.min;
  else if (replicas === 0) min = kind === 'nodegroup' ? 0 : limits.min;
  else min = to;
  if (min > max) throw new CliError(`--min ${min} is above the max capacity ${max}`);
  if (kind === 'nodegroup' && min > to) throw new CliError(`--min ${min} is above the ${to} replicas asked for (EKS needs min <= desired)`);
  return {
    requested: replicas,
    from,
    to,
    pause: replicas === 0,
    ...(min !== limits.min ? { min: { from: limits.min, to: min } } : {}),
    ...(max !== limits.max ? { max: { from: limits.max, to: max } } : {}),
    ...(capped ? { cappedAt: limits.max } : {}),
  };
}
