/**
 * A small model of the world the runbooks act on: ECS services with their
 * Application Auto Scaling targets, EKS managed node groups with their Auto
 * Scaling groups, CloudWatch alarms, the notification topic and the incident
 * store. Calls take and return what Step Functions' AWS SDK integrations take
 * and return (PascalCase), so the state machines' Task states can be served
 * by it directly; the emergency Lambda's adapters (ScalableTarget,
 * IncidentStore) are bound to the same model, so both sides see one world.
 *
 * Running capacity converges to desired after a number of polls (state
 * machine reads of the target), and any call can be made to fail once, N
 * times or always.
 */
import type { IncidentStore } from '../../lambdas/aws/incident-store';
import type { Limits, ScalableTarget, TargetState } from '../../lambdas/aws/target-types';
import { NOT_SUSPENDED, OPENING_TIMEOUT_MS, type IncidentRecord, type IncidentStatus, type Suspension } from '../../lambdas/core/emergency';
import type { TargetSpec } from '../../lambdas/core/targets';

/** Who made a call: a Task state of the state machine, or a Lambda's adapter. */
export type Source = 'state-machine' | 'lambda';

/** `ecs:describeServices`, `applicationautoscaling:registerScalableTarget`, `sns:publish`, `lambda:planner`, `lambda:emergency` ... */
export type CallName = string;

// The model's calls take and return loosely typed JSON, like the SDK integrations.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Fault {
  readonly call: CallName;
  /**
   * The error as Step Functions names it (`Ecs.ThrottlingException`, `Lambda.TooManyRequestsException`).
   * A Lambda's adapter sees the SDK's name: the part after the service prefix.
   */
  readonly error: string;
  readonly cause?: string;
  /** Matching calls let through before the first failure. @default 0 */
  readonly after?: number;
  /** How many matching calls fail. @default Infinity */
  readonly times?: number;
  /** Only calls from this side. @default both */
  readonly source?: Source;
  /** Fail after the call took effect (the response was lost). @default false */
  readonly afterEffect?: boolean;
  /** Only calls whose input matches. */
  readonly when?: (input: Json) => boolean;
}

/** An error shaped like both a Step Functions task error (name) and an AWS SDK error (name + $metadata). */
export class ModelError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: /Throttl|TooManyRequests/.test(name) ? 400 : /Server|Internal|Unavailable/.test(name) ? 500 : 400 };
  }
}

export interface EcsService {
  readonly cluster: string;
  readonly service: string;
  desired: number;
  running: number;
  /** Application Auto Scaling limits and switches. */
  min: number;
  max: number;
  registered: boolean;
  suspended: Suspension;
  /** Polls after a change of desired until running equals it (Infinity: never). */
  convergeAfterPolls: number;
  pollsSinceChange: number;
}

export interface Nodegroup {
  readonly cluster: string;
  readonly nodegroup: string;
  min: number;
  max: number;
  desired: number;
  status: string;
  readonly asg: string;
  /** Instances InService in the group's Auto Scaling group. */
  inService: number;
  /** Polls after an update until the group is ACTIVE again (Infinity: never). */
  activeAfterPolls: number;
  /** Further polls after ACTIVE until every instance is InService. */
  instancesLagPolls: number;
  pollsSinceChange: number;
}

export interface Call {
  readonly call: CallName;
  readonly source: Source;
  readonly input: Json;
}

export interface Notification {
  readonly subject: string;
  readonly message: Json;
}

/**
 * The incident table: one record per target, claims atomic (the DynamoDB
 * store's contract): a claim (`opening`) wins unless an incident is open or
 * being opened (a stale `opening` claim may be taken over), `open` records
 * the state before, `settle` closes the incident it is given.
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly atomic = true;
  readonly records = new Map<string, IncidentRecord>();

  async current(target: string): Promise<IncidentRecord | undefined> {
    return this.records.get(target);
  }

  async claim(record: IncidentRecord, now: Date): Promise<boolean> {
    const held = this.records.get(record.target);
    const stale = held?.status === 'opening' && now.getTime() - Date.parse(held.openedAt) >= OPENING_TIMEOUT_MS;
    if ((held?.status === 'open' || held?.status === 'opening') && !stale) return false;
    this.records.set(record.target, { ...record, status: 'opening' });
    return true;
  }

  async open(record: IncidentRecord): Promise<void> {
    this.mustHold(record);
    this.records.set(record.target, { ...record, status: 'open' });
  }

  async settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open' | 'opening'>, at: Date): Promise<void> {
    this.mustHold(record);
    this.records.set(record.target, { ...this.records.get(record.target)!, ...record, status, closedAt: at.toISOString() });
  }

  private mustHold(record: IncidentRecord): void {
    if (this.records.get(record.target)?.incidentId !== record.incidentId) throw new ModelError('ConditionalCheckFailedException', `incident ${record.incidentId} is not the current one`);
  }
}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));
const ecsKey = (cluster: string, service: string) => `service/${cluster}/${service}`;
const ngKey = (cluster: string, nodegroup: string) => `${cluster}/${nodegroup}`;

export class World {
  readonly services = new Map<string, EcsService>();
  readonly nodegroups = new Map<string, Nodegroup>();
  /** Per alarm, the states it reports on successive reads; the last one repeats. */
  readonly alarms = new Map<string, string[]>();
  readonly incidents = new MemoryIncidentStore();
  readonly notifications: Notification[] = [];
  readonly calls: Call[] = [];
  /** Lambda functions by name (`planner`, `emergency`), called as `lambda:<name>`. */
  readonly lambdas = new Map<string, (payload: Json) => Promise<unknown>>();
  private readonly faults: { fault: Fault; seen: number; failed: number }[] = [];
  private readonly hooks: { call: CallName; run: () => Promise<void> }[] = [];

  addService(s: Partial<EcsService> & Pick<EcsService, 'cluster' | 'service' | 'desired' | 'min' | 'max'>): EcsService {
    const service: EcsService = { running: s.desired, registered: true, suspended: { ...NOT_SUSPENDED }, convergeAfterPolls: 2, pollsSinceChange: 0, ...s };
    this.services.set(ecsKey(s.cluster, s.service), service);
    return service;
  }

  addNodegroup(n: Partial<Nodegroup> & Pick<Nodegroup, 'cluster' | 'nodegroup' | 'desired' | 'min' | 'max'>): Nodegroup {
    const group: Nodegroup = {
      status: 'ACTIVE',
      asg: `eks-${n.nodegroup}-asg`,
      inService: n.desired,
      activeAfterPolls: 2,
      instancesLagPolls: 0,
      pollsSinceChange: 0,
      ...n,
    };
    this.nodegroups.set(ngKey(n.cluster, n.nodegroup), group);
    return group;
  }

  service(cluster: string, service: string): EcsService {
    const s = this.services.get(ecsKey(cluster, service));
    if (!s) throw new Error(`no service ${service} in ${cluster}`);
    return s;
  }

  nodegroup(cluster: string, nodegroup: string): Nodegroup {
    const n = this.nodegroups.get(ngKey(cluster, nodegroup));
    if (!n) throw new Error(`no node group ${nodegroup} in ${cluster}`);
    return n;
  }

  fail(fault: Fault): this {
    this.faults.push({ fault, seen: 0, failed: 0 });
    return this;
  }

  /** Run `run` (once) just before the next call named `call`. */
  before(call: CallName, run: () => Promise<void>): this {
    this.hooks.push({ call, run });
    return this;
  }

  /** Calls named `call` (from `source`, if given). */
  callsOf(call: CallName, source?: Source): Call[] {
    return this.calls.filter((c) => c.call === call && (!source || c.source === source));
  }

  /** Every call that changes capacity, limits or switches. */
  changes(): Call[] {
    return this.calls.filter((c) => ['ecs:updateService', 'applicationautoscaling:registerScalableTarget', 'eks:updateNodegroupConfig'].includes(c.call));
  }

  async invoke(call: CallName, input: Json, source: Source): Promise<Json> {
    this.calls.push({ call, source, input: clone(input) });
    const hook = this.hooks.findIndex((h) => h.call === call);
    if (hook >= 0) await this.hooks.splice(hook, 1)[0]!.run();
    const fault = this.faultFor(call, input, source);
    const error = fault && new ModelError(source === 'lambda' ? fault.error.replace(/^[A-Za-z]+\./, '') : fault.error, fault.cause ?? `${call} failed (model)`);
    if (fault && !fault.afterEffect) throw error;
    const output = await this.perform(call, clone(input), source);
    if (error) throw error;
    return clone(output);
  }

  private faultFor(call: CallName, input: Json, source: Source): Fault | undefined {
    for (const f of this.faults) {
      const { fault } = f;
      if (fault.call !== call || (fault.source && fault.source !== source) || (fault.when && !fault.when(input))) continue;
      f.seen++;
      if (f.seen > (fault.after ?? 0) && f.failed < (fault.times ?? Infinity)) {
        f.failed++;
        return fault;
      }
    }
    return undefined;
  }

  private async perform(call: CallName, p: Json, source: Source): Promise<Json> {
    const polled = source === 'state-machine';
    switch (call) {
      case 'ecs:describeServices': {
        const found = (p.Services as string[]).map((name) => this.services.get(ecsKey(p.Cluster, name))).filter((s) => s !== undefined);
        if (polled) for (const s of found) this.tickService(s);
        return {
          Services: found.map((s) => ({ ServiceName: s.service, ClusterArn: p.Cluster, Status: 'ACTIVE', DesiredCount: s.desired, RunningCount: s.running, PendingCount: Math.max(0, s.desired - s.running) })),
          Failures: (p.Services as string[]).filter((name) => !this.services.has(ecsKey(p.Cluster, name))).map((name) => ({ Arn: name, Reason: 'MISSING' })),
        };
      }
      case 'ecs:updateService': {
        const s = this.services.get(ecsKey(p.Cluster, p.Service));
        if (!s) throw new ModelError('Ecs.ServiceNotFoundException', `service ${p.Service} not found`);
        if (!Number.isInteger(p.DesiredCount) || p.DesiredCount < 0) throw new ModelError('Ecs.InvalidParameterException', 'desiredCount is invalid');
        this.setServiceDesired(s, p.DesiredCount);
        return { Service: { ServiceName: s.service, DesiredCount: s.desired } };
      }
      case 'applicationautoscaling:describeScalableTargets': {
        const targets = (p.ResourceIds as string[]).map((id) => this.services.get(id)).filter((s) => s?.registered);
        return {
          ScalableTargets: targets.map((s) => ({
            ServiceNamespace: 'ecs',
            ResourceId: ecsKey(s!.cluster, s!.service),
            ScalableDimension: 'ecs:service:DesiredCount',
            MinCapacity: s!.min,
            MaxCapacity: s!.max,
            SuspendedState: { DynamicScalingInSuspended: s!.suspended.dynamicIn, DynamicScalingOutSuspended: s!.suspended.dynamicOut, ScheduledScalingSuspended: s!.suspended.scheduled },
          })),
        };
      }
      case 'applicationautoscaling:registerScalableTarget': {
        const s = this.services.get(p.ResourceId);
        if (!s) throw new ModelError('ApplicationAutoScaling.ValidationException', `no ECS service ${p.ResourceId}`);
        const min = p.MinCapacity ?? s.min;
        const max = p.MaxCapacity ?? s.max;
        if (min > max) throw new ModelError('ApplicationAutoScaling.ValidationException', `MinCapacity ${min} > MaxCapacity ${max}`);
        s.min = min;
        s.max = max;
        s.registered = true;
        const ss = p.SuspendedState;
        if (ss) {
          s.suspended = {
            dynamicIn: ss.DynamicScalingInSuspended ?? s.suspended.dynamicIn,
            dynamicOut: ss.DynamicScalingOutSuspended ?? s.suspended.dynamicOut,
            scheduled: ss.ScheduledScalingSuspended ?? s.suspended.scheduled,
          };
        }
        // RegisterScalableTarget: "it changes the resource's current capacity to a value that is inside of this range".
        const clamped = Math.min(max, Math.max(min, s.desired));
        if (clamped !== s.desired) this.setServiceDesired(s, clamped);
        return { ScalableTargetARN: `arn:aws:application-autoscaling:eu-west-1:123456789012:scalable-target/${s.service}` };
      }
      case 'eks:describeNodegroup': {
        const n = this.nodegroups.get(ngKey(p.ClusterName, p.NodegroupName));
        if (!n) throw new ModelError('Eks.ResourceNotFoundException', `No node group found for name: ${p.NodegroupName}.`);
        if (polled) this.tickNodegroup(n);
        return {
          Nodegroup: {
            NodegroupName: n.nodegroup,
            ClusterName: n.cluster,
            Status: n.status,
            ScalingConfig: { MinSize: n.min, MaxSize: n.max, DesiredSize: n.desired },
            Resources: { AutoScalingGroups: [{ Name: n.asg }] },
          },
        };
      }
      case 'eks:updateNodegroupConfig': {
        const n = this.nodegroups.get(ngKey(p.ClusterName, p.NodegroupName));
        if (!n) throw new ModelError('Eks.ResourceNotFoundException', `No node group found for name: ${p.NodegroupName}.`);
        const sc = p.ScalingConfig ?? {};
        const next = { min: sc.MinSize ?? n.min, max: sc.MaxSize ?? n.max, desired: sc.DesiredSize ?? n.desired };
        if (![next.min, next.max, next.desired].every(Number.isInteger) || next.min < 0 || next.max < 1 || next.desired < next.min || next.desired > next.max) {
          throw new ModelError('Eks.InvalidParameterException', `invalid scaling config min ${next.min} max ${next.max} desired ${next.desired}`);
        }
        Object.assign(n, next);
        n.status = 'UPDATING';
        n.pollsSinceChange = 0;
        return { Update: { Id: `update-${this.calls.length}`, Status: 'InProgress', Type: 'ConfigUpdate' } };
      }
      case 'autoscaling:describeAutoScalingGroups': {
        const groups = [...this.nodegroups.values()].filter((n) => (p.AutoScalingGroupNames as string[]).includes(n.asg));
        return {
          AutoScalingGroups: groups.map((n) => ({
            AutoScalingGroupName: n.asg,
            DesiredCapacity: n.desired,
            Instances: [
              ...Array.from({ length: n.inService }, (_, i) => ({ InstanceId: `i-${n.nodegroup}-${i}`, LifecycleState: 'InService' })),
              ...Array.from({ length: Math.max(0, n.desired - n.inService) }, (_, i) => ({ InstanceId: `i-${n.nodegroup}-p${i}`, LifecycleState: 'Pending' })),
            ],
          })),
        };
      }
      case 'cloudwatch:describeAlarms': {
        const names = (p.AlarmNames as string[]).filter((name) => this.alarms.has(name));
        return {
          MetricAlarms: names.map((name) => {
            const script = this.alarms.get(name)!;
            const state = script.length > 1 ? script.shift()! : script[0]!;
            return { AlarmName: name, StateValue: state };
          }),
        };
      }
      case 'sns:publish':
        this.notifications.push({ subject: p.Subject, message: p.Message });
        return { MessageId: `message-${this.notifications.length}` };
      default: {
        const lambda = call.startsWith('lambda:') ? this.lambdas.get(call.slice('lambda:'.length)) : undefined;
        if (!lambda) throw new Error(`the model has no ${call}`);
        return lambda(p);
      }
    }
  }

  private setServiceDesired(s: EcsService, desired: number): void {
    if (s.desired !== desired) s.pollsSinceChange = 0;
    s.desired = desired;
  }

  private tickService(s: EcsService): void {
    if (s.running === s.desired) return;
    s.pollsSinceChange++;
    if (s.pollsSinceChange >= s.convergeAfterPolls) s.running = s.desired;
  }

  private tickNodegroup(n: Nodegroup): void {
    if (n.status === 'ACTIVE' && n.inService === n.desired) return;
    n.pollsSinceChange++;
    if (n.status === 'UPDATING' && n.pollsSinceChange >= n.activeAfterPolls) n.status = 'ACTIVE';
    if (n.status === 'ACTIVE' && n.pollsSinceChange >= n.activeAfterPolls + n.instancesLagPolls) n.inService = n.desired;
  }

  /** A ScalableTarget (the Lambdas' adapter interface) over this model, calling it as a Lambda would. */
  target(spec: TargetSpec): ScalableTarget {
    return new ModelTarget(spec, this);
  }
}

/** What lambdas/aws/{ecs-service,eks-nodegroup}-target.ts do, against the model instead of AWS. */
class ModelTarget implements ScalableTarget {
  constructor(
    readonly spec: TargetSpec,
    private readonly world: World,
  ) {}

  async read(): Promise<TargetState> {
    const t = this.spec;
    if (t.kind === 'ecs-service') {
      const services = await this.world.invoke('ecs:describeServices', { Cluster: t.cluster, Services: [t.service] }, 'lambda');
      const targets = await this.world.invoke(
        'applicationautoscaling:describeScalableTargets',
        { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceIds: [ecsKey(t.cluster, t.service)] },
        'lambda',
      );
      const s = services.Services[0];
      if (!s) throw new ModelError('TargetNotFoundError', `ECS service ${t.service} not found`);
      const at = targets.ScalableTargets[0];
      const suspension: Suspension = at
        ? { dynamicIn: at.SuspendedState.DynamicScalingInSuspended, dynamicOut: at.SuspendedState.DynamicScalingOutSuspended, scheduled: at.SuspendedState.ScheduledScalingSuspended }
        : NOT_SUSPENDED;
      return {
        desired: s.DesiredCount,
        running: s.RunningCount,
        pending: s.PendingCount,
        min: at?.MinCapacity ?? t.minCapacity,
        max: at?.MaxCapacity ?? t.maxCapacity,
        suspension,
        paused: suspension.dynamicIn && suspension.dynamicOut && suspension.scheduled,
        registered: Boolean(at),
        status: s.Status,
      };
    }
    const { Nodegroup: n } = await this.world.invoke('eks:describeNodegroup', { ClusterName: t.cluster, NodegroupName: t.nodegroup }, 'lambda');
    const active = n.Status === 'ACTIVE';
    return {
      desired: n.ScalingConfig.DesiredSize,
      running: active ? n.ScalingConfig.DesiredSize : 0,
      pending: active ? 0 : n.ScalingConfig.DesiredSize,
      min: n.ScalingConfig.MinSize,
      max: n.ScalingConfig.MaxSize,
      suspension: NOT_SUSPENDED,
      paused: false,
      registered: true,
      status: n.Status,
    };
  }

  async setDesired(desired: number): Promise<void> {
    const t = this.spec;
    if (t.kind === 'ecs-service') await this.world.invoke('ecs:updateService', { Cluster: t.cluster, Service: t.service, DesiredCount: desired }, 'lambda');
    else await this.world.invoke('eks:updateNodegroupConfig', { ClusterName: t.cluster, NodegroupName: t.nodegroup, ScalingConfig: { DesiredSize: desired } }, 'lambda');
  }

  async setLimits(limits: Limits): Promise<void> {
    const t = this.spec;
    if (t.kind === 'eks-nodegroup') {
      await this.world.invoke(
        'eks:updateNodegroupConfig',
        { ClusterName: t.cluster, NodegroupName: t.nodegroup, ScalingConfig: { MinSize: limits.min, MaxSize: limits.max, ...(limits.desired !== undefined ? { DesiredSize: limits.desired } : {}) } },
        'lambda',
      );
      return;
    }
    const s = limits.suspension;
    await this.world.invoke(
      'applicationautoscaling:registerScalableTarget',
      {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: ecsKey(t.cluster, t.service),
        MinCapacity: limits.min,
        MaxCapacity: limits.max,
        ...(s ? { SuspendedState: { DynamicScalingInSuspended: s.dynamicIn, DynamicScalingOutSuspended: s.dynamicOut, ScheduledScalingSuspended: s.scheduled } } : {}),
      },
      'lambda',
    );
    if (limits.desired !== undefined) await this.setDesired(limits.desired);
  }

  async listScheduledActions(): Promise<never> {
    throw new Error('scheduled actions are not part of the runbook model');
  }

  async putScheduledAction(): Promise<never> {
    throw new Error('scheduled actions are not part of the runbook model');
  }

  async deleteScheduledAction(): Promise<never> {
    throw new Error('scheduled actions are not part of the runbook model');
  }
}
