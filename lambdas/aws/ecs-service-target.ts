import {
  DeleteScheduledActionCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  type ScalableTarget as AasTarget,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand, UpdateServiceCommand, type Service } from '@aws-sdk/client-ecs';
import { NOT_SUSPENDED, type Suspension } from '../core/emergency';
import type { ExistingAction } from '../core/prescale-plan';
import type { TargetSpec } from '../core/targets';
import { chunks, mapLimit } from '../shared/map-limit';
import { autoscaling } from './clients/autoscaling';
import { ecs } from './clients/ecs';
import { retrying } from './retry';
import { TargetNotFoundError, type Limits, type ScalableTarget, type TargetState } from './target-types';

export type EcsSpec = Extract<TargetSpec, { kind: 'ecs-service' }>;

const NAMESPACE = 'ecs';
const DIMENSION = 'ecs:service:DesiredCount';

export const ecsResourceId = (cluster: string, service: string) => `service/${cluster}/${service}`;

export function suspensionOf(t: AasTarget | undefined): Suspension {
  const s = t?.SuspendedState;
  return { dynamicIn: s?.DynamicScalingInSuspended ?? false, dynamicOut: s?.DynamicScalingOutSuspended ?? false, scheduled: s?.ScheduledScalingSuspended ?? false };
}

/** Paused = every kind of automatic scaling suspended (what `mlscale pause` sets). */
export const isPaused = (s: Suspension) => s.dynamicIn && s.dynamicOut && s.scheduled;

/** Calls in flight at once when reading many targets. */
export const READ_CONCURRENCY = 10;

export interface BatchRead<T> {
  readonly found: Map<string, T>;
  /** Resource IDs whose batch failed (after retries), with the error. */
  readonly failed: Map<string, Error>;
  readonly calls: number;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** DescribeServices for many services: 10 per call per cluster (the API's limit), batches in parallel. */
export async function describeServices(refs: readonly { cluster: string; service: string }[]): Promise<BatchRead<Service>> {
  const byCluster = new Map<string, Set<string>>();
  for (const r of refs) byCluster.set(r.cluster, (byCluster.get(r.cluster) ?? new Set()).add(r.service));
  const batches = [...byCluster].flatMap(([cluster, services]) => chunks([...services], 10).map((batch) => ({ cluster, batch })));
  const found = new Map<string, Service>();
  const failed = new Map<string, Error>();
  await mapLimit(batches, READ_CONCURRENCY, async ({ cluster, batch }) => {
    try {
      const res = await retrying(() => ecs.send(new DescribeServicesCommand({ cluster, services: batch })));
      for (const s of res.services ?? []) if (s.serviceName) found.set(ecsResourceId(cluster, s.serviceName), s);
    } catch (err) {
      for (const service of batch) failed.set(ecsResourceId(cluster, service), asError(err));
    }
  });
  return { found, failed, calls: batches.length };
}

/** DescribeScalableTargets for many ECS services: 50 resource IDs per call, batches in parallel. */
export async function describeScalableTargets(resourceIds: readonly string[]): Promise<BatchRead<AasTarget>> {
  const found = new Map<string, AasTarget>();
  const failed = new Map<string, Error>();
  let calls = 0;
  await mapLimit(chunks([...new Set(resourceIds)], 50), READ_CONCURRENCY, async (batch) => {
    try {
      let token: string | undefined;
      do {
        calls++;
        const res = await retrying(() =>
          autoscaling.send(
            new DescribeScalableTargetsCommand({ ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, ResourceIds: batch, NextToken: token }),
          ),
        );
        for (const t of res.ScalableTargets ?? []) if (t.ResourceId) found.set(t.ResourceId, t);
        token = res.NextToken;
      } while (token);
    } catch (err) {
      for (const id of batch) failed.set(id, asError(err));
    }
  });
  return { found, failed, calls };
}

/** Read many ECS targets: a state or the reason it could not be read, per target name. */
export async function readEcsStates(specs: readonly EcsSpec[]): Promise<{ states: Map<string, TargetState | Error>; calls: number }> {
  const ids = specs.map((s) => ecsResourceId(s.cluster, s.service));
  const [services, targets] = await Promise.all([describeServices(specs), describeScalableTargets(ids)]);
  const states = new Map<string, TargetState | Error>();
  specs.forEach((spec, i) => {
    const id = ids[i]!;
    const failure = services.failed.get(id) ?? targets.failed.get(id);
    if (failure) {
      states.set(spec.name, failure);
      return;
    }
    try {
      states.set(spec.name, ecsState(spec, services.found.get(id), targets.found.get(id)));
    } catch (err) {
      states.set(spec.name, err as Error);
    }
  });
  return { states, calls: services.calls + targets.calls };
}

/** Combine what ECS and Application Auto Scaling say; limits fall back to the targets document. */
export function ecsState(spec: EcsSpec, service: Service | undefined, target: AasTarget | undefined): TargetState {
  if (!service || service.status === 'INACTIVE') throw new TargetNotFoundError(`ECS service ${spec.service} in cluster ${spec.cluster}`);
  const suspension = target ? suspensionOf(target) : NOT_SUSPENDED;
  return {
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    min: target?.MinCapacity ?? spec.minCapacity,
    max: target?.MaxCapacity ?? spec.maxCapacity,
    suspension,
    paused: isPaused(suspension),
    registered: Boolean(target),
    status: service.status ?? 'UNKNOWN',
  };
}

export class EcsServiceTarget implements ScalableTarget {
  private readonly resourceId: string;

  constructor(public readonly spec: EcsSpec) {
    this.resourceId = ecsResourceId(spec.cluster, spec.service);
  }

  async read(): Promise<TargetState> {
    const state = (await readEcsStates([this.spec])).states.get(this.spec.name)!;
    if (state instanceof Error) throw state;
    return state;
  }

  async setDesired(desired: number): Promise<void> {
    await retrying(() => ecs.send(new UpdateServiceCommand({ cluster: this.spec.cluster, service: this.spec.service, desiredCount: desired })));
  }

  async setLimits(limits: Limits): Promise<void> {
    const s = limits.suspension;
    await retrying(() =>
      autoscaling.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: NAMESPACE,
          ScalableDimension: DIMENSION,
          ResourceId: this.resourceId,
          MinCapacity: limits.min,
          MaxCapacity: limits.max,
          ...(s
            ? { SuspendedState: { DynamicScalingInSuspended: s.dynamicIn, DynamicScalingOutSuspended: s.dynamicOut, ScheduledScalingSuspended: s.scheduled } }
            : {}),
        }),
      ),
    );
    if (limits.desired !== undefined) await this.setDesired(limits.desired);
  }

  /** Remove a scalable target this code registered where there was none (restoring "not registered"). */
  async deregister(): Promise<void> {
    await retrying(() =>
      autoscaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, ResourceId: this.resourceId })),
    );
  }

  async listScheduledActions(): Promise<ExistingAction[]> {
    const out: ExistingAction[] = [];
    let token: string | undefined;
    do {
      const res = await retrying(() =>
        autoscaling.send(
          new DescribeScheduledActionsCommand({ ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, ResourceId: this.resourceId, NextToken: token }),
        ),
      );
      for (const a of res.ScheduledActions ?? []) {
        if (a.ScheduledActionName) {
          out.push({
            name: a.ScheduledActionName,
            ...(a.ScalableTargetAction?.MinCapacity !== undefined ? { minCapacity: a.ScalableTargetAction.MinCapacity } : {}),
          });
        }
      }
      token = res.NextToken;
    } while (token);
    return out;
  }

  async putScheduledAction(name: string, at: Date, minCapacity: number): Promise<void> {
    await retrying(() =>
      autoscaling.send(
        new PutScheduledActionCommand({
          ServiceNamespace: NAMESPACE,
          ScalableDimension: DIMENSION,
          ResourceId: this.resourceId,
          ScheduledActionName: name,
          Schedule: `at(${at.toISOString().slice(0, 19)})`,
          Timezone: 'UTC',
          ScalableTargetAction: { MinCapacity: minCapacity },
        }),
      ),
    );
  }

  async deleteScheduledAction(name: string): Promise<void> {
    await retrying(() =>
      autoscaling.send(
        new DeleteScheduledActionCommand({ ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, ResourceId: this.resourceId, ScheduledActionName: name }),
      ),
    );
  }
}
