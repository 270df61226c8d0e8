import type { TargetSpec } from '../core/targets';
import { EcsServiceTarget } from './ecs-service-target';
import { EksNodegroupTarget } from './eks-nodegroup-target';
import type { ScalableTarget } from './target-types';

export type { Limits, ScalableTarget, TargetState } from './target-types';
export { TargetNotFoundError } from './target-types';

/** The adapter for a target of the managed-targets document. */
export function scalableTarget(spec: TargetSpec): ScalableTarget {
  return spec.kind === 'ecs-service' ? new EcsServiceTarget(spec) : new EksNodegroupTarget(spec);
}
