import { emergencyCeiling, type TargetSpec } from './config/document';
import { MANUAL_HOLDER, PAUSE_HOLDER, epochSeconds, type Hold } from './holds';

/** A scale request that cannot be held (the CLI prints it as one `Error:` line, before any AWS call). */
export class ScaleRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScaleRequestError';
  }
}

export interface ScaleRequest {
  readonly replicas: number;
  /** `--min`: the floor, when it should sit below the replicas asked for. */
  readonly min?: number;
  readonly raiseMax: boolean;
  /** How long the hold lasts, seconds. */
  readonly forSeconds: number;
  /** Who asked ($USER), for the hold's reason. */
  readonly user?: string;
  readonly now: Date;
}

export interface ScalePlan {
  /** The hold to write: `manual`, or `pause` for --replicas 0. */
  readonly hold: Hold;
  /** Holders of this operator's to release: `--replicas 0` replaces a manual floor. */
  readonly release: readonly string[];
  /** The one-shot desired the reconcile pass is asked for. */
  readonly desired: number;
  readonly warnings: readonly string[];
}

export const SCALE_BY = 'mlscale scale';

const by = (user: string | undefined) => (user ? ` by ${user}` : '');

/**
 * `mlscale scale` as a hold: `manual` with floor = --min (else the replicas)
 * so the autoscaler cannot scale it back, capped at max capacity (with a
 * warning) unless --raise-max, which also asks for max up to the target's
 * emergency ceiling; `--replicas 0` is the `pause` hold (every kind of
 * automatic scaling suspended) with desired 0. Pure: the command writes what
 * this returns and lets the reconciler apply it.
 */
export function planScale(spec: TargetSpec, req: ScaleRequest): ScalePlan {
  const { replicas, raiseMax } = req;
  if (req.min !== undefined && req.min > replicas) throw new ScaleRequestError(`--min ${req.min} is above --replicas ${replicas} (desired cannot be below min)`);
  const createdAt = epochSeconds(req.now.getTime());
  const times = { createdAt, expiresAt: createdAt + req.forSeconds };
  const flags = `${req.min !== undefined ? ` --min ${req.min}` : ''}${raiseMax ? ' --raise-max' : ''}`;
  const reason = `mlscale scale --replicas ${replicas}${flags}${by(req.user)}`;
  if (replicas === 0) {
    return {
      hold: { target: spec.name, holder: PAUSE_HOLDER, suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason, ...times },
      release: [MANUAL_HOLDER],
      desired: 0,
      warnings: [],
    };
  }
  const max = spec.maxCapacity;
  const ceiling = emergencyCeiling(spec);
  if (raiseMax && replicas > ceiling) {
    throw new ScaleRequestError(`--replicas ${replicas} is above the emergency ceiling ${ceiling} of ${spec.name} (--raise-max goes up to the ceiling, no further)`);
  }
  const warnings: string[] = [];
  let desired = replicas;
  if (replicas > max && !raiseMax) {
    desired = max;
    warnings.push(`only scheduled ${max} replicas (max capacity ${max}; use --raise-max to go up to the ceiling ${ceiling})`);
  }
  const floor = Math.min(req.min ?? replicas, desired);
  return {
    hold: { target: spec.name, holder: MANUAL_HOLDER, floor, ...(desired > max ? { ceiling: desired } : {}), reason, ...times },
    release: [],
    desired,
    warnings,
  };
}
