/**
 * What AWS authorizes for a call: the IAM action, the resource ARNs and the
 * condition keys, for every operation mlscale's adapters send (lambdas/aws,
 * src) and every Task resource its state machines use. An operation with no
 * mapping throws, so a new call cannot slip past the IAM contract tests.
 *
 * Inputs are taken as the SDK takes them (camelCase for ECS, EKS, SFN;
 * PascalCase for the others) and as Step Functions passes them (PascalCase
 * always): fields are looked up under both spellings.
 */
import type { CallInfo } from '../../lambdas/aws/send';
import { ACCOUNT, type IamRequest, REGION } from './policy';

/** EKS node group ARNs end in an id only EKS knows; grants use `.../<cluster>/<nodegroup>/*`. */
export const NODEGROUP_UUID = '7ac4b1e2-5d3f-4c8a-9b6e-0f1d2c3b4a59';

type Input = Readonly<Record<string, unknown>>;
type Mapper = (input: Input) => IamRequest[];

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function field(input: Input, name: string): unknown {
  return input[camel(name)] ?? input[pascal(name)];
}

function str(input: Input, name: string, what: string, fallback?: string): string {
  const v = field(input, name);
  if (typeof v === 'string' && v !== '') return v;
  if (fallback !== undefined && v === undefined) return fallback;
  throw new Error(`${what}: input has no ${name} (got ${JSON.stringify(v)})`);
}

function strs(input: Input, name: string, what: string): string[] {
  const v = field(input, name);
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what}: ${name} is not a list of strings (got ${JSON.stringify(v)})`);
  return v;
}

const request = (action: string, resources: readonly string[], context: Record<string, string> = {}): IamRequest => ({ action, resources, context });
const nameOfArn = (v: string) => (v.startsWith('arn:') ? v.slice(v.lastIndexOf('/') + 1) : v);

// ECS ------------------------------------------------------------------------

const ecsClusterName = (input: Input, what: string) => nameOfArn(str(input, 'cluster', what, 'default'));
const ecsClusterArn = (cluster: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
const ecsServiceArn = (cluster: string, service: string) => (service.startsWith('arn:') ? service : `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${service}`);

const ECS: Record<string, Mapper> = {
  DescribeServices: (i) => {
    const cluster = ecsClusterName(i, 'ECS DescribeServices');
    const services = strs(i, 'services', 'ECS DescribeServices');
    if (services.length === 0) throw new Error('ECS DescribeServices: no services');
    return [request('ecs:DescribeServices', services.map((s) => ecsServiceArn(cluster, s)), { 'ecs:cluster': ecsClusterArn(cluster) })];
  },
  UpdateService: (i) => {
    const cluster = ecsClusterName(i, 'ECS UpdateService');
    return [request('ecs:UpdateService', [ecsServiceArn(cluster, str(i, 'service', 'ECS UpdateService'))], { 'ecs:cluster': ecsClusterArn(cluster) })];
  },
  ListClusters: () => [request('ecs:ListClusters', ['*'])],
  ListServices: (i) => [request('ecs:ListServices', ['*'], { 'ecs:cluster': ecsClusterArn(ecsClusterName(i, 'ECS ListServices')) })],
  // No resource-level permissions: authorized on `*` (mlscale rightsize, with the operator's credentials).
  DescribeTaskDefinition: () => [request('ecs:DescribeTaskDefinition', ['*'])],
};

// Application Auto Scaling ------------------------------------------------------

/** Application Auto Scaling is authorized on `*`, with the namespace and dimension as condition keys. */
function aas(operation: string): Mapper {
  return (i) => {
    const context: Record<string, string> = {};
    const namespace = field(i, 'ServiceNamespace');
    const dimension = field(i, 'ScalableDimension');
    if (typeof namespace === 'string') context['application-autoscaling:service-namespace'] = namespace;
    if (typeof dimension === 'string') context['application-autoscaling:scalable-dimension'] = dimension;
    return [request(`application-autoscaling:${operation}`, ['*'], context)];
  };
}

const APPLICATION_AUTO_SCALING: Record<string, Mapper> = Object.fromEntries(
  ['DescribeScalableTargets', 'RegisterScalableTarget', 'DeregisterScalableTarget', 'DescribeScheduledActions', 'PutScheduledAction', 'DeleteScheduledAction', 'DescribeScalingPolicies'].map(
    (op) => [op, aas(op)],
  ),
);

// CloudWatch --------------------------------------------------------------------

const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;

const CLOUDWATCH: Record<string, Mapper> = {
  GetMetricData: () => [request('cloudwatch:GetMetricData', ['*'])],
  PutMetricData: (i) => [request('cloudwatch:PutMetricData', ['*'], { 'cloudwatch:namespace': str(i, 'Namespace', 'CloudWatch PutMetricData') })],
  DescribeAlarms: (i) => {
    const names = strs(i, 'AlarmNames', 'CloudWatch DescribeAlarms');
    return [request('cloudwatch:DescribeAlarms', names.length > 0 ? names.map(alarmArn) : ['*'])];
  },
};

// EKS ---------------------------------------------------------------------------

const eksClusterArn = (cluster: string) => `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${cluster}`;
const eksNodegroupArn = (cluster: string, nodegroup: string) => `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${cluster}/${nodegroup}/${NODEGROUP_UUID}`;

function nodegroupOp(action: string): Mapper {
  return (i) => [request(action, [eksNodegroupArn(str(i, 'clusterName', action), str(i, 'nodegroupName', action))])];
}

const EKS: Record<string, Mapper> = {
  DescribeNodegroup: nodegroupOp('eks:DescribeNodegroup'),
  UpdateNodegroupConfig: nodegroupOp('eks:UpdateNodegroupConfig'),
  ListNodegroups: (i) => [request('eks:ListNodegroups', [eksClusterArn(str(i, 'clusterName', 'EKS ListNodegroups'))])],
  ListClusters: () => [request('eks:ListClusters', ['*'])],
  TagResource: (i) => [request('eks:TagResource', [str(i, 'resourceArn', 'EKS TagResource')])],
  UntagResource: (i) => [request('eks:UntagResource', [str(i, 'resourceArn', 'EKS UntagResource')])],
};

// EC2 Auto Scaling (Step Functions only) -------------------------------------------

const AUTO_SCALING: Record<string, Mapper> = {
  DescribeAutoScalingGroups: () => [request('autoscaling:DescribeAutoScalingGroups', ['*'])],
};

// DynamoDB ------------------------------------------------------------------------

function tableOp(operation: string): Mapper {
  return (i) => {
    const table = str(i, 'TableName', `DynamoDB ${operation}`);
    const tableArn = table.startsWith('arn:') ? table : `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
    const index = field(i, 'IndexName');
    return [request(`dynamodb:${operation}`, [typeof index === 'string' ? `${tableArn}/index/${index}` : tableArn])];
  };
}

const DYNAMODB: Record<string, Mapper> = Object.fromEntries(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan'].map((op) => [op, tableOp(op)]));

// Step Functions -----------------------------------------------------------------

function executionOp(action: string): Mapper {
  return (i) => [request(action, [str(i, 'executionArn', action)])];
}

const SFN: Record<string, Mapper> = {
  StartExecution: (i) => [request('states:StartExecution', [str(i, 'stateMachineArn', 'SFN StartExecution')])],
  DescribeExecution: executionOp('states:DescribeExecution'),
  GetExecutionHistory: executionOp('states:GetExecutionHistory'),
  StopExecution: executionOp('states:StopExecution'),
  ListStateMachines: () => [request('states:ListStateMachines', ['*'])],
};

// SNS, Lambda ---------------------------------------------------------------------

const SNS: Record<string, Mapper> = {
  Publish: (i) => {
    const topic = field(i, 'TopicArn') ?? field(i, 'TargetArn');
    if (typeof topic !== 'string' || !topic.startsWith('arn:')) throw new Error(`SNS Publish: no TopicArn/TargetArn (got ${JSON.stringify(topic)})`);
    return [request('sns:Publish', [topic])];
  },
};

/** A function name, partial ARN or ARN (with an optional qualifier) as the ARN IAM authorizes. */
export function lambdaFunctionArn(functionName: string, qualifier?: string): string {
  const full = functionName.startsWith('arn:')
    ? functionName
    : /^\d{12}:function:/.test(functionName)
      ? `arn:aws:lambda:${REGION}:${functionName}`
      : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`;
  return qualifier && full.split(':').length === 7 ? `${full}:${qualifier}` : full;
}

const LAMBDA: Record<string, Mapper> = {
  Invoke: (i) => {
    const qualifier = field(i, 'Qualifier');
    return [request('lambda:InvokeFunction', [lambdaFunctionArn(str(i, 'FunctionName', 'Lambda Invoke'), typeof qualifier === 'string' ? qualifier : undefined)])];
  },
};

/** By the SDK client's serviceId. */
const MAPPINGS: Readonly<Record<string, Readonly<Record<string, Mapper>>>> = {
  ECS,
  'Application Auto Scaling': APPLICATION_AUTO_SCALING,
  CloudWatch: CLOUDWATCH,
  EKS,
  'Auto Scaling': AUTO_SCALING,
  DynamoDB: DYNAMODB,
  SFN,
  SNS,
  Lambda: LAMBDA,
};

/** Is `<service> <operation>` mapped? */
export function isMapped(service: string, operation: string): boolean {
  return Object.hasOwn(MAPPINGS, service) && Object.hasOwn(MAPPINGS[service]!, operation);
}

/** Every mapped `<service> <operation>`. */
export function mappedOperations(): string[] {
  return Object.entries(MAPPINGS).flatMap(([service, ops]) => Object.keys(ops).map((op) => `${service} ${op}`));
}

/** The IAM request(s) AWS authorizes for one SDK call (as send.ts's guard sees it). */
export function requestsFor(call: CallInfo): IamRequest[] {
  if (!isMapped(call.service, call.operation)) throw new Error(`no IAM mapping for ${call.service} ${call.operation}`);
  return MAPPINGS[call.service]![call.operation]!(call.input);
}

// Step Functions Task resources ------------------------------------------------------

/** Step Functions' service names (`arn:aws:states:::aws-sdk:<name>:...`) → SDK serviceId. */
const SDK_SERVICES: Readonly<Record<string, string>> = {
  ecs: 'ECS',
  applicationautoscaling: 'Application Auto Scaling',
  cloudwatch: 'CloudWatch',
  eks: 'EKS',
  autoscaling: 'Auto Scaling',
  dynamodb: 'DynamoDB',
  sfn: 'SFN',
  sns: 'SNS',
  lambda: 'Lambda',
};

/** The call a Task resource makes: service ID and operation; throws for resources with no mapping. */
export function callOfTask(resource: string): { service: string; operation: string; sfnService: string } {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)(\.waitForTaskToken)?$/.exec(resource);
  if (sdk) {
    const service = SDK_SERVICES[sdk[1]!];
    if (!service) throw new Error(`no IAM mapping for Task resource ${resource} (service ${sdk[1]})`);
    return { service, operation: pascal(sdk[2]!), sfnService: sdk[1]! };
  }
  const optimized = /^arn:aws:states:::([a-z]+):([A-Za-z]+)(\.waitForTaskToken)?$/.exec(resource);
  if (optimized) {
    const [, svc, api] = optimized as unknown as [string, string, string];
    if (svc === 'sns' && api === 'publish') return { service: 'SNS', operation: 'Publish', sfnService: 'sns' };
    if (svc === 'lambda' && api === 'invoke') return { service: 'Lambda', operation: 'Invoke', sfnService: 'lambda' };
    if (svc === 'dynamodb' && ['getItem', 'putItem', 'deleteItem', 'updateItem'].includes(api)) return { service: 'DynamoDB', operation: pascal(api), sfnService: 'dynamodb' };
    if (svc === 'states' && api === 'startExecution') return { service: 'SFN', operation: 'StartExecution', sfnService: 'sfn' };
  }
  if (/^arn:aws:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(resource)) return { service: 'Lambda', operation: 'Invoke', sfnService: 'lambda' };
  throw new Error(`no IAM mapping for Task resource ${resource}`);
}

/**
 * The IAM request(s) the state machine's role needs for one Task: the
 * Resource and the task's resolved input (its Parameters after paths were
 * applied, which is what the model receives).
 */
export function requestsForTask(resource: string, parameters: unknown): IamRequest[] {
  const { service, operation } = callOfTask(resource);
  const input = (typeof parameters === 'object' && parameters !== null ? parameters : {}) as Input;
  if (service === 'Lambda' && resource.startsWith('arn:aws:lambda:')) return [request('lambda:InvokeFunction', [resource])];
  return requestsFor({ service, operation, input });
}
