import { RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import type { Suspension } from '../core/holds';
import { autoscaling } from './clients/autoscaling';
import { ecs } from './clients/ecs';
import { eks } from './clients/eks';
import { ECS_DIMENSION, ECS_NAMESPACE, ecsResourceId, type ServiceRef } from './ecs';
import type { NodegroupRef } from './eks';
import { send } from './send';

/**
 * The only code that writes a target's capacity: min, max, suspension and
 * desired. Only the reconciler (lambdas/reconcile) may import it; a test
 * (test/architecture.test.ts) and an ESLint rule say so. Everyone else
 * writes a hold and lets the reconciler apply it.
 */

export interface LimitsChange {
  readonly min: number;
  readonly max: number;
  readonly suspension: Suspension;
}

/** RegisterScalableTarget with all of min, max and the three switches: the target ends exactly as given. */
export async function registerServiceLimits(ref: ServiceRef, change: LimitsChange): Promise<void> {
  const s = change.suspension;
  await send(
    autoscaling,
    new RegisterScalableTargetCommand({
      ServiceNamespace: ECS_NAMESPACE,
      ScalableDimension: ECS_DIMENSION,
      ResourceId: ecsResourceId(ref.cluster, ref.service),
      MinCapacity: change.min,
      MaxCapacity: change.max,
      SuspendedState: { DynamicScalingInSuspended: s.dynamicIn, DynamicScalingOutSuspended: s.dynamicOut, ScheduledScalingSuspended: s.scheduled },
    }),
  );
}

export async function setServiceDesired(ref: ServiceRef, desired: number): Promise<void> {
  await send(ecs, new UpdateServiceCommand({ cluster: ref.cluster, service: ref.service, desiredCount: desired }));
}

/** One UpdateNodegroupConfig: EKS checks min <= desired <= max on the resulting config. */
export async function updateNodegroupScaling(ref: NodegroupRef, scaling: { minSize: number; maxSize: number; desiredSize: number }): Promise<void> {
  await send(eks, new UpdateNodegroupConfigCommand({ clusterName: ref.cluster, nodegroupName: ref.nodegroup, scalingConfig: scaling }));
}
