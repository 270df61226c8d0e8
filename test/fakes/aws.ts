/**
 * One small, stateful fake of the AWS account mlscale acts on: ECS services
 * with their Application Auto Scaling targets, EKS managed node groups with
 * their Auto Scaling groups, CloudWatch metrics and alarms, the DynamoDB
 * holds table, the SNS topic and Step Functions executions. Every test that
 * runs handler, CLI or runbook code against "AWS" uses it:
 * - SDK calls (the Lambdas and the CLI, through lambdas/aws/send.ts) reach it
 *   through aws-sdk-client-mock (`installFakeAws`), in the SDK's own shapes;
 * - Step Functions tasks reach it through `invoke('ecs:describeServices', …)`
 *   in the PascalCase shapes of Step Functions' SDK integrations.
 * Both sides see one world. Running capacity converges to desired after a
 * number of state-machine polls; any call can fail once, N times or always,
 * before or after it takes effect.
 */

/** Who made a call: a Task state of a state machine, or SDK code (a Lambda or the CLI). */
export type Source = 'state-machine' | 'sdk';

// The fake's calls take and return loosely typed JSON, like the services.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Suspended {
  dynamicIn: boolean;
  dynamicOut: boolean;
  scheduled: boolean;
}

export interface EcsService {
  readonly cluster: string;
  readonly service: string;
  desired: number;
  running: number;
  status: string;
  /** Application Auto Scaling limits and switches. */
  min: number;
  max: number;
  registered: boolean;
  suspended: Suspended;
  /** State-machine polls after a change of desired until running equals it (Infinity: never). */
  convergeAfterPolls: number;
  pollsSinceChange: number;
  /** The service's task definition ARN (DescribeServices `taskDefinition`); absent: not reported. */
  taskDefinition?: string;
  /** The deployments DescribeServices lists (the PRIMARY one and any it replaces); absent: not reported. */
  deployments?: EcsDeployment[];
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider: string; weight?: number; base?: number }[];
}

export interface EcsDeployment {
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  createdAt: Date;
  rolloutState?: 'COMPLETED' | 'IN_PROGRESS' | 'FAILED';
  runningCount?: number;
}

/** A registered task definition, as DescribeTaskDefinition returns it (cpu and memory as strings, like ECS). */
export interface EcsTaskDefinition {
  readonly family: string;
  readonly revision: number;
  readonly cpu?: string;
  readonly memory?: string;
  readonly runtimePlatform?: { cpuArchitecture?: 'X86_64' | 'ARM64'; operatingSystemFamily?: string };
  readonly containerDefinitions?: Json[];
  readonly requiresCompatibilities?: string[];
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

export interface Fault {
  /** `ecs:updateService`, `dynamodb:putItem`, `lambda:emergency` … (service prefix, lowerCamel operation). */
  readonly call: string;
  /** The error as Step Functions names it (`Ecs.ThrottlingException`); SDK callers see the part after the dot. */
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
  /** Only calls whose (SDK-shaped) input matches. */
  readonly when?: (input: Json) => boolean;
}

/** An error shaped like both a Step Functions task error (name) and an AWS SDK error (name + $metadata). */
export class FakeAwsError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: /Throttl|TooManyRequests/.test(name) ? 400 : /Server|Internal|Unavailable|Failure/.test(name) ? 500 : 400 };
  }
}

export interface Call {
  readonly call: string;
  readonly source: Source;
  readonly input: Json;
}

export interface MetricRefLike {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
}

interface Execution {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  status: string;
  readonly startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: { id: number; type: string; name?: string; input?: string; timestamp: Date }[];
}

const clone = <T>(value: T): T => (value === undefined ? value : structuredClone(value));
const ecsKey = (cluster: string, service: string) => `service/${cluster}/${service}`;
const ngKey = (cluster: string, nodegroup: string) => `${cluster}/${nodegroup}`;
/** `cluster` as ECS takes it: a name or an ARN. */
const clusterName = (c: string | undefined) => (c ?? 'default').slice((c ?? 'default').lastIndexOf('/') + 1);
export const metricKey = (m: { namespace: string; metricName: string; dimensions: Readonly<Record<string, string>>; statistic: string }) =>
  `${m.namespace}|${m.metricName}|${Object.entries(m.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}|${m.statistic}`;

/** Step Functions' SDK integrations take and give PascalCase; the ECS and EKS SDKs speak camelCase. */
function recase(value: Json, first: (c: string) => string): Json {
  if (Array.isArray(value)) return value.map((v) => recase(v, first));
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [first(k.charAt(0)) + k.slice(1), recase(v, first)]));
}

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export class FakeAws {
  readonly services = new Map<string, EcsService>();
  readonly nodegroups = new Map<string, Nodegroup>();
  /** Datapoints per metric (see `metricKey`), any order. */
  readonly metrics = new Map<string, { t: number; v: number }[]>();
  /** Metrics whose GetMetricData result carries this status code. */
  readonly metricStatus = new Map<string, 'InternalError' | 'Forbidden'>();
  /** Datapoints per query per GetMetricData page (NextToken for the rest); undefined: every point in one page. */
  metricPageSize: number | undefined;
  /** Task definitions by ARN. */
  readonly taskDefinitions = new Map<string, EcsTaskDefinition>();
  readonly putMetricData: Json[] = [];
  /** Per alarm, the states it reports on successive reads (the last one repeats), and its type. */
  readonly alarms = new Map<string, { type: 'MetricAlarm' | 'CompositeAlarm'; states: string[] }>();
  /** DynamoDB tables: items by `<target>\u0000<holder>` (the holds table's key). */
  readonly tables = new Map<string, Map<string, Record<string, Json>>>();
  readonly published: { topicArn: string; subject?: string; message: string }[] = [];
  readonly stateMachines = new Map<string, string>();
  readonly executions = new Map<string, Execution>();
  readonly calls: Call[] = [];
  /** Lambda functions by name (`runbook`, `emergency`), invoked by state machine tasks as `lambda:<name>`. */
  readonly lambdas = new Map<string, (payload: Json) => Promise<unknown>>();
  /** Milliseconds every call takes (the scale benchmark sets it). */
  latencyMs = 0;
  private readonly faults: { fault: Fault; seen: number; failed: number }[] = [];
  private readonly hooks: { call: string; run: () => Promise<void> }[] = [];

  addService(s: Partial<EcsService> & Pick<EcsService, 'cluster' | 'service' | 'desired' | 'min' | 'max'>): EcsService {
    const service: EcsService = {
      running: s.desired,
      status: 'ACTIVE',
      registered: true,
      suspended: { dynamicIn: false, dynamicOut: false, scheduled: false },
      convergeAfterPolls: 2,
      pollsSinceChange: 0,
      ...s,
    };
    this.services.set(ecsKey(s.cluster, s.service), service);
    return service;
  }

  addNodegroup(n: Partial<Nodegroup> & Pick<Nodegroup, 'cluster' | 'nodegroup' | 'desired' | 'min' | 'max'>): Nodegroup {
    const group: Nodegroup = { status: 'ACTIVE', asg: `eks-${n.nodegroup}-asg`, inService: n.desired, activeAfterPolls: 2, instancesLagPolls: 0, pollsSinceChange: 0, ...n };
    this.nodegroups.set(ngKey(n.cluster, n.nodegroup), group);
    return group;
  }

  /** Register a task definition; returns its ARN. */
  addTaskDefinition(td: EcsTaskDefinition): string {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${td.family}:${td.revision}`;
    this.taskDefinitions.set(arn, td);
    return arn;
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

  /** One datapoint per minute, oldest first, the newest at `endMinute` (epoch ms of a minute). */
  setSeries(metric: MetricRefLike, values: readonly (number | null)[], endMinute: number): void {
    const points = values.map((v, i) => ({ t: endMinute - (values.length - 1 - i) * 60_000, v })).filter((p): p is { t: number; v: number } => p.v !== null);
    this.metrics.set(metricKey(metric), points);
  }

  addAlarm(name: string, states: string[] = ['OK'], type: 'MetricAlarm' | 'CompositeAlarm' = 'MetricAlarm'): void {
    this.alarms.set(name, { type, states });
  }

  table(name: string): Map<string, Record<string, Json>> {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new Map()));
    return t;
  }

  fail(fault: Fault): this {
    this.faults.push({ fault, seen: 0, failed: 0 });
    return this;
  }

  /** Run `run` (once) just before the next call named `call`. */
  before(call: string, run: () => Promise<void>): this {
    this.hooks.push({ call, run });
    return this;
  }

  callsOf(call: string, source?: Source): Call[] {
    return this.calls.filter((c) => c.call === call && (!source || c.source === source));
  }

  /** Every call that changes capacity, limits or switches. */
  changes(): Call[] {
    return this.calls.filter((c) => ['ecs:updateService', 'applicationautoscaling:registerScalableTarget', 'eks:updateNodegroupConfig'].includes(c.call));
  }

  /** A state machine task's call, in Step Functions' shapes. */
  async invoke(call: string, input: Json, source: Source = 'state-machine'): Promise<Json> {
    const [service] = call.split(':');
    const camel = service === 'ecs' || service === 'eks';
    const out = await this.handle(call, camel ? recase(input, (c) => c.toLowerCase()) : clone(input), source);
    return camel ? recase(out, (c) => c.toUpperCase()) : JSON.parse(JSON.stringify(out ?? null));
  }

  /** One call in the SDK's shapes: `ecs:describeServices`, `dynamodb:putItem`, … */
  async handle(call: string, input: Json, source: Source): Promise<Json> {
    this.calls.push({ call, source, input: clone(input) });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const hook = this.hooks.findIndex((h) => h.call === call);
    if (hook >= 0) await this.hooks.splice(hook, 1)[0]!.run();
    const fault = this.faultFor(call, input, source);
    const error = fault && new FakeAwsError(source === 'sdk' ? fault.error.replace(/^[A-Za-z]+\./, '') : fault.error, fault.cause ?? `${call} failed (fake)`);
    if (fault && !fault.afterEffect) throw error;
    let output: Json;
    try {
      output = await this.perform(call, input, source);
    } catch (err) {
      // The SDK names errors without Step Functions' service prefix (ConditionalCheckFailedException, not DynamoDB.…).
      if (source === 'sdk' && err instanceof FakeAwsError) throw new FakeAwsError(err.name.replace(/^[A-Za-z]+\./, ''), err.message);
      throw err;
    }
    if (error) throw error;
    return output;
  }

  private faultFor(call: string, input: Json, source: Source): Fault | undefined {
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

  private err(service: string, name: string, message: string): never {
    throw new FakeAwsError(`${service}.${name}`, message);
  }

  private async perform(call: string, p: Json, source: Source): Promise<Json> {
    const polled = source === 'state-machine';
    switch (call) {
      // --- ECS
      case 'ecs:describeServices': {
        const cluster = clusterName(p.cluster);
        const names = (p.services as string[]).map((s) => s.slice(s.lastIndexOf('/') + 1));
        const found = names.map((name) => this.services.get(ecsKey(cluster, name))).filter((s): s is EcsService => s !== undefined);
        if (polled) for (const s of found) this.tickService(s);
        return {
          services: found.map((s) => ({
            serviceName: s.service,
            serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${s.cluster}/${s.service}`,
            clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${s.cluster}`,
            status: s.status,
            desiredCount: s.desired,
            runningCount: s.running,
            pendingCount: Math.max(0, s.desired - s.running),
            ...(s.taskDefinition ? { taskDefinition: s.taskDefinition } : {}),
            ...(s.deployments ? { deployments: s.deployments.map((d, i) => ({ id: `ecs-svc/${i + 1}`, runningCount: d.status === 'PRIMARY' ? s.running : 0, ...clone(d) })) } : {}),
            ...(s.launchType ? { launchType: s.launchType } : {}),
            ...(s.capacityProviderStrategy ? { capacityProviderStrategy: clone(s.capacityProviderStrategy) } : {}),
          })),
          failures: names.filter((name) => !this.services.has(ecsKey(cluster, name))).map((name) => ({ arn: name, reason: 'MISSING' })),
        };
      }
      case 'ecs:updateService': {
        const s = this.services.get(ecsKey(clusterName(p.cluster), p.service));
        if (!s) this.err('Ecs', 'ServiceNotFoundException', `service ${p.service} not found`);
        if (!Number.isInteger(p.desiredCount) || p.desiredCount < 0) this.err('Ecs', 'InvalidParameterException', 'desiredCount is invalid');
        this.setServiceDesired(s, p.desiredCount);
        return { service: { serviceName: s.service, desiredCount: s.desired } };
      }
      case 'ecs:describeTaskDefinition': {
        // A full ARN, `family:revision`, or `family` (its latest revision).
        const asked = String(p.taskDefinition);
        const short = asked.slice(asked.lastIndexOf('/') + 1);
        const matches = [...this.taskDefinitions.entries()].filter(([arn, td]) => arn === asked || `${td.family}:${td.revision}` === short || td.family === short);
        const found = matches.sort(([, a], [, b]) => b.revision - a.revision)[0];
        if (!found) this.err('Ecs', 'ClientException', 'Unable to describe task definition.');
        const [arn, td] = found;
        return { taskDefinition: { taskDefinitionArn: arn, status: 'ACTIVE', ...clone(td) } };
      }
      case 'ecs:listClusters':
        return { clusterArns: [...new Set([...this.services.values()].map((s) => s.cluster))].map((c) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${c}`) };
      case 'ecs:listServices': {
        const cluster = clusterName(p.cluster);
        const services = [...this.services.values()].filter((s) => s.cluster === cluster);
        if (services.length === 0 && ![...this.services.values()].some((s) => s.cluster === cluster)) this.err('Ecs', 'ClusterNotFoundException', 'Cluster not found.');
        return { serviceArns: services.map((s) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${s.cluster}/${s.service}`) };
      }
      // --- Application Auto Scaling
      case 'applicationautoscaling:describeScalableTargets': {
        const ids: string[] | undefined = p.ResourceIds;
        const targets = [...this.services.entries()].filter(([id, s]) => s.registered && (!ids || ids.includes(id))).map(([, s]) => s);
        return {
          ScalableTargets: targets.map((s) => ({
            ServiceNamespace: 'ecs',
            ResourceId: ecsKey(s.cluster, s.service),
            ScalableDimension: 'ecs:service:DesiredCount',
            MinCapacity: s.min,
            MaxCapacity: s.max,
            SuspendedState: { DynamicScalingInSuspended: s.suspended.dynamicIn, DynamicScalingOutSuspended: s.suspended.dynamicOut, ScheduledScalingSuspended: s.suspended.scheduled },
          })),
        };
      }
      case 'applicationautoscaling:registerScalableTarget': {
        const s = this.services.get(p.ResourceId);
        if (!s) this.err('ApplicationAutoScaling', 'ValidationException', `no ECS service ${p.ResourceId}`);
        const min = p.MinCapacity ?? s.min;
        const max = p.MaxCapacity ?? s.max;
        if (min > max) this.err('ApplicationAutoScaling', 'ValidationException', `MinCapacity ${min} > MaxCapacity ${max}`);
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
        // RegisterScalableTarget "changes the resource's current capacity to a value that is inside of this range".
        const clamped = Math.min(max, Math.max(min, s.desired));
        if (clamped !== s.desired) this.setServiceDesired(s, clamped);
        return { ScalableTargetARN: `arn:aws:application-autoscaling:${REGION}:${ACCOUNT}:scalable-target/${s.service}` };
      }
      case 'applicationautoscaling:deregisterScalableTarget': {
        const s = this.services.get(p.ResourceId);
        if (!s?.registered) this.err('ApplicationAutoScaling', 'ObjectNotFoundException', `no scalable target ${p.ResourceId}`);
        s.registered = false;
        return {};
      }
      // --- EKS
      case 'eks:describeNodegroup': {
        const n = this.nodegroups.get(ngKey(p.clusterName, p.nodegroupName));
        if (!n) this.err('Eks', 'ResourceNotFoundException', `No node group found for name: ${p.nodegroupName}.`);
        if (polled) this.tickNodegroup(n);
        return {
          nodegroup: {
            nodegroupName: n.nodegroup,
            clusterName: n.cluster,
            nodegroupArn: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${n.cluster}/${n.nodegroup}/0c12b3a4-0000-4000-8000-000000000000`,
            status: n.status,
            scalingConfig: { minSize: n.min, maxSize: n.max, desiredSize: n.desired },
            resources: { autoScalingGroups: [{ name: n.asg }] },
          },
        };
      }
      case 'eks:updateNodegroupConfig': {
        const n = this.nodegroups.get(ngKey(p.clusterName, p.nodegroupName));
        if (!n) this.err('Eks', 'ResourceNotFoundException', `No node group found for name: ${p.nodegroupName}.`);
        const sc = p.scalingConfig ?? {};
        const next = { min: sc.minSize ?? n.min, max: sc.maxSize ?? n.max, desired: sc.desiredSize ?? n.desired };
        if (![next.min, next.max, next.desired].every(Number.isInteger) || next.min < 0 || next.max < 1 || next.desired < next.min || next.desired > next.max) {
          this.err('Eks', 'InvalidParameterException', `invalid scaling config min ${next.min} max ${next.max} desired ${next.desired}`);
        }
        if (next.min === n.min && next.max === n.max && next.desired === n.desired) this.err('Eks', 'InvalidParameterException', 'No changes needed');
        Object.assign(n, next);
        n.status = 'UPDATING';
        n.pollsSinceChange = 0;
        return { update: { id: `update-${this.calls.length}`, status: 'InProgress', type: 'ConfigUpdate' } };
      }
      case 'eks:listClusters':
        return { clusters: [...new Set([...this.nodegroups.values()].map((n) => n.cluster))] };
      case 'eks:listNodegroups': {
        const groups = [...this.nodegroups.values()].filter((n) => n.cluster === p.clusterName);
        if (groups.length === 0) this.err('Eks', 'ResourceNotFoundException', `No cluster found for name: ${p.clusterName}.`);
        return { nodegroups: groups.map((n) => n.nodegroup) };
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
      // --- CloudWatch
      case 'cloudwatch:getMetricData': {
        const start = new Date(p.StartTime).getTime();
        const end = new Date(p.EndTime).getTime();
        const offset = Number(p.NextToken ?? 0);
        let more = false;
        const results = {
          MetricDataResults: (p.MetricDataQueries as Json[]).map((q) => {
            const m = q.MetricStat.Metric;
            const key = metricKey({
              namespace: m.Namespace,
              metricName: m.MetricName,
              dimensions: Object.fromEntries((m.Dimensions ?? []).map((d: Json) => [d.Name, d.Value])),
              statistic: q.MetricStat.Stat,
            });
            const all = (this.metrics.get(key) ?? []).filter((pt) => pt.t >= start && pt.t < end).sort((a, b) => a.t - b.t);
            const points = this.metricPageSize === undefined ? all : all.slice(offset, offset + this.metricPageSize);
            const partial = this.metricPageSize !== undefined && offset + this.metricPageSize < all.length;
            more ||= partial;
            const status = this.metricStatus.get(key);
            return {
              Id: q.Id,
              StatusCode: status ?? (partial ? 'PartialData' : 'Complete'),
              ...(status ? { Messages: [{ Code: status, Value: `${status} (fake)` }] } : {}),
              Timestamps: points.map((pt) => new Date(pt.t)),
              Values: points.map((pt) => pt.v),
            };
          }),
        };
        return more ? { ...results, NextToken: String(offset + this.metricPageSize!) } : results;
      }
      case 'cloudwatch:putMetricData':
        this.putMetricData.push(clone(p));
        return {};
      case 'cloudwatch:describeAlarms': {
        // Metric alarms only unless AlarmTypes names composite ones too (AWS-FACTS.md); unknown names are simply absent.
        const types: string[] = p.AlarmTypes ?? ['MetricAlarm'];
        const names = ((p.AlarmNames ?? [...this.alarms.keys()]) as string[]).filter((name) => this.alarms.has(name));
        const read = (name: string) => {
          const a = this.alarms.get(name)!;
          return { AlarmName: name, StateValue: a.states.length > 1 ? a.states.shift()! : a.states[0]! };
        };
        const of = (type: string) => (types.includes(type) ? names.filter((n) => this.alarms.get(n)!.type === type).map(read) : []);
        return { MetricAlarms: of('MetricAlarm'), CompositeAlarms: of('CompositeAlarm') };
      }
      // --- DynamoDB (the holds table's operations, as lambdas/aws/holds-store.ts makes them)
      case 'dynamodb:query': {
        const items = [...this.table(p.TableName).values()].filter((i) => i.target?.S === p.ExpressionAttributeValues[':target'].S);
        return { Items: clone(items), Count: items.length };
      }
      case 'dynamodb:scan': {
        const items = [...this.table(p.TableName).values()];
        return { Items: clone(items), Count: items.length };
      }
      case 'dynamodb:putItem': {
        const table = this.table(p.TableName);
        const key = `${p.Item.target.S}\u0000${p.Item.holder.S}`;
        if (p.ConditionExpression) {
          if (p.ConditionExpression !== 'attribute_not_exists(#holder) OR #expiresAt <= :now') throw new Error(`the fake does not know the condition ${p.ConditionExpression}`);
          const held = table.get(key);
          if (held && Number(held.expiresAt.N) > Number(p.ExpressionAttributeValues[':now'].N)) {
            throw new FakeAwsError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
          }
        }
        table.set(key, clone(p.Item));
        return {};
      }
      case 'dynamodb:deleteItem': {
        const table = this.table(p.TableName);
        const key = `${p.Key.target.S}\u0000${p.Key.holder.S}`;
        const old = table.get(key);
        if (p.ConditionExpression) {
          if (p.ConditionExpression !== 'contains(#reason, :owner)') throw new Error(`the fake does not know the condition ${p.ConditionExpression}`);
          if (!old || !String(old.reason?.S ?? '').includes(p.ExpressionAttributeValues[':owner'].S)) {
            throw new FakeAwsError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
          }
        }
        table.delete(key);
        return old && p.ReturnValues === 'ALL_OLD' ? { Attributes: clone(old) } : {};
      }
      // --- SNS
      case 'sns:publish':
        this.published.push({ topicArn: p.TopicArn, ...(p.Subject ? { subject: p.Subject } : {}), message: p.Message });
        return { MessageId: `message-${this.published.length}` };
      // --- Step Functions
      case 'sfn:listStateMachines':
        return { stateMachines: [...this.stateMachines].map(([name, arn]) => ({ name, stateMachineArn: arn, type: 'STANDARD', creationDate: new Date(0) })) };
      case 'sfn:startExecution': {
        const arn = `${String(p.stateMachineArn).replace(':stateMachine:', ':execution:')}:${p.name ?? `run-${this.executions.size + 1}`}`;
        if (this.executions.has(arn)) this.err('SFN', 'ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
        const startDate = new Date();
        this.executions.set(arn, {
          stateMachineArn: p.stateMachineArn,
          name: p.name,
          input: p.input ?? '{}',
          status: 'RUNNING',
          startDate,
          history: [{ id: 1, type: 'ExecutionStarted', timestamp: startDate }],
        });
        return { executionArn: arn, startDate };
      }
      case 'sfn:describeExecution': {
        const e = this.executions.get(p.executionArn);
        if (!e) this.err('SFN', 'ExecutionDoesNotExist', `Execution Does Not Exist: '${p.executionArn}'`);
        return {
          executionArn: p.executionArn,
          status: e.status,
          startDate: e.startDate,
          ...(e.stopDate ? { stopDate: e.stopDate } : {}),
          ...(e.output ? { output: e.output } : {}),
          ...(e.error ? { error: e.error, cause: e.cause } : {}),
        };
      }
      case 'sfn:getExecutionHistory': {
        const e = this.executions.get(p.executionArn);
        if (!e) this.err('SFN', 'ExecutionDoesNotExist', `Execution Does Not Exist: '${p.executionArn}'`);
        const events = e.history.map((h) => ({
          id: h.id,
          type: h.type,
          timestamp: h.timestamp,
          ...(h.name ? { stateEnteredEventDetails: { name: h.name, ...(h.input !== undefined ? { input: h.input } : {}) } } : {}),
        }));
        return { events: p.reverseOrder ? events.reverse() : events };
      }
      default: {
        const lambda = call.startsWith('lambda:') ? this.lambdas.get(call.slice('lambda:'.length)) : undefined;
        if (!lambda) throw new Error(`the fake has no ${call}`);
        return lambda(clone(p));
      }
    }
  }

  /** Move an execution on (for the CLI's `--wait`): states entered, then its end. */
  progress(executionArn: string, states: readonly (string | { readonly name: string; readonly input: unknown })[], end?: { status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'; output?: unknown; error?: string; cause?: string }): void {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`no execution ${executionArn}`);
    for (const s of states) {
      const [name, input] = typeof s === 'string' ? [s, undefined] : [s.name, JSON.stringify(s.input)];
      e.history.push({ id: e.history.length + 1, type: 'TaskStateEntered', name, ...(input !== undefined ? { input } : {}), timestamp: new Date() });
    }
    if (end) {
      e.status = end.status;
      e.stopDate = new Date();
      if (end.output !== undefined) e.output = JSON.stringify(end.output);
      if (end.error) [e.error, e.cause] = [end.error, end.cause ?? ''];
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
}
