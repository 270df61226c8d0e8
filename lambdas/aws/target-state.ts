import type { Suspension } from '../core/holds';

/** What a target looks like now, from whichever service owns it. */
export interface TargetState {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly min: number;
  readonly max: number;
  /** Application Auto Scaling's switches (node groups have none: never suspended). */
  readonly suspension: Suspension;
  /** ECS: an Application Auto Scaling target exists. Node groups: always. */
  readonly registered: boolean;
  /** ACTIVE, DRAINING, UPDATING ... as the service says it. */
  readonly status: string;
}

/** A target's resource is gone or was never there. */
export class TargetNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'TargetNotFoundError';
  }
}
