import { ecsResourceId, readServiceStates } from '../../lambdas/aws/ecs';
import { describeNodegroup, nodegroupState } from '../../lambdas/aws/eks';
import { isAwsError } from '../../lambdas/aws/send';
import { TargetNotFoundError, type TargetState } from '../../lambdas/aws/target-state';
import type { Managed } from './context';
import { notFound } from './resource';

/**
 * What a managed target looks like now, read the way the reconciler reads
 * it (an ECS service with no scalable target gets its configured limits).
 * A target that is not there fails with the not-found line.
 */
export async function readTargetState(m: Managed): Promise<TargetState> {
  const { spec } = m;
  if (spec.kind === 'ecs-service') {
    const ref = { cluster: spec.cluster, service: spec.service };
    const read = await readServiceStates([{ ...ref, fallback: { min: spec.minCapacity, max: spec.maxCapacity } }]);
    const state = read.states.get(ecsResourceId(ref.cluster, ref.service));
    if (state instanceof Error || state === undefined) {
      if (state === undefined || state instanceof TargetNotFoundError || isAwsError(state, 'ClusterNotFoundException')) throw notFound(m.ref, m.namespace);
      throw state;
    }
    return state;
  }
  try {
    return nodegroupState(await describeNodegroup({ cluster: spec.cluster, nodegroup: spec.nodegroup }));
  } catch (err) {
    if (err instanceof TargetNotFoundError) throw notFound(m.ref, m.namespace);
    throw err;
  }
}
