import type { Suspension } from '../core/emergency';
import type { ExistingAction } from '../core/prescale-plan';
import type { TargetSpec } from '../core/targets';

/** What a target looks like now, from whichever service owns it. */
export interface TargetState {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly min: number;
  readonly max: number;
  readonly suspension: Suspension;
  /** An operator paused automatic scaling (all of dynamic in/out and scheduled, or the node group's pause tag). */
  readonly paused: boolean;
  /** Is there an Application Auto Scaling target (ECS) behind it? */
  readonly registered: boolean;
  /** ACTIVE, DRAINING, UPDATING, ... as the service says it. */
  readonly status: string;
}

export interface Limits {
  readonly min: number;
  readonly max: number;
  /** Also set the desired capacity in the same change where the service allows it. */
  readonly desired?: number;
  readonly suspension?: Suspension;
}

/** One interface over an ECS service (+ its scalable target) and an EKS managed node group. */
export interface ScalableTarget {
  readonly spec: TargetSpec;
  read(): Promise<TargetState>;
  setDesired(desired: number): Promise<void>;
  setLimits(limits: Limits): Promise<void>;
  listScheduledActions(): Promise<ExistingAction[]>;
  putScheduledAction(name: string, at: Date, minCapacity: number): Promise<void>;
  deleteScheduledAction(name: string): Promise<void>;
}

/** A target's resource is gone or was never there. */
export class TargetNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'TargetNotFoundError';
  }
}

