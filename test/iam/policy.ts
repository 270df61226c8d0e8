/**
 * IAM as a test can know it: the statements a synthesized template gives a
 * principal, with every intrinsic resolved to a placeholder string (account
 * 123456789012, region eu-west-1, the same placeholders as
 * test/runbooks/definition.ts), and a request evaluated the way IAM does:
 * an explicit Deny wins, otherwise some Allow must match the action, the
 * resource and every condition. What this cannot model faithfully (NotAction,
 * ForAnyValue, an AWS managed policy it does not know ...) throws instead of
 * guessing, so a test never passes on a permission nobody can see.
 */
import { createHash } from 'node:crypto';
import type { Template } from 'aws-cdk-lib/assertions';
import { ACCOUNT, functionId, placeholderArn, REGION } from '../runbooks/definition';

export { ACCOUNT, REGION };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
export type Resources = Readonly<Record<string, CfnResource>>;

const resourcesCache = new WeakMap<Template, Resources>();

/** The template's Resources (parsed once per Template). */
export function resourcesOf(template: Template): Resources {
  let resources = resourcesCache.get(template);
  if (!resources) {
    resources = ((template.toJSON() as { Resources?: Resources }).Resources ?? {}) as Resources;
    resourcesCache.set(template, resources);
  }
  return resources;
}

function resourceOf(template: Template, logicalId: string): CfnResource {
  const r = resourcesOf(template)[logicalId];
  if (!r) throw new Error(`no resource ${logicalId} in the template`);
  return r;
}

// ---------------------------------------------------------------------------
// Resolving intrinsics
// ---------------------------------------------------------------------------

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'mlscale-test-stack',
  'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/mlscale-test-stack/00000000-0000-4000-8000-000000000000`,
};

/** A stable UUID-shaped id derived from a logical ID (KMS key ids, role ids). */
export function fakeUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const prop = (r: CfnResource, name: string, template: Template): string | undefined => {
  const v = r.Properties?.[name];
  return v === undefined ? undefined : resolve(template, v);
};

const lastSegment = (arn: string) => arn.slice(Math.max(arn.lastIndexOf(':'), arn.lastIndexOf('/')) + 1);

/**
 * The name a resource gets: its explicit name property, else its logical ID
 * (CloudFormation would add a random suffix; a placeholder does not need one).
 * Lambda functions and SNS topics are named by their logical ID, as
 * test/runbooks/definition.ts names them, so Task resources and grants agree.
 */
export function nameOf(template: Template, logicalId: string): string {
  const r = resourceOf(template, logicalId);
  const explicit = (field: string) => prop(r, field, template) ?? logicalId;
  switch (r.Type) {
    case 'AWS::Lambda::Function':
    case 'AWS::SNS::Topic':
    case 'AWS::Events::Rule':
      return lastSegment(placeholderArn(template, logicalId));
    case 'AWS::StepFunctions::StateMachine':
      return explicit('StateMachineName');
    case 'AWS::CloudWatch::Alarm':
      return explicit('AlarmName');
    case 'AWS::DynamoDB::Table':
      return explicit('TableName');
    case 'AWS::SQS::Queue':
      return explicit('QueueName');
    case 'AWS::Logs::LogGroup':
      return explicit('LogGroupName');
    case 'AWS::IAM::Role':
      return explicit('RoleName');
    case 'AWS::IAM::ManagedPolicy':
      return explicit('ManagedPolicyName');
    case 'AWS::ECS::Cluster':
      return explicit('ClusterName');
    case 'AWS::ECS::Service':
      return explicit('ServiceName');
    case 'AWS::EKS::Cluster':
      return explicit('Name');
    default:
      return logicalId;
  }
}

/** What `Fn::GetAtt [id, 'Arn']` gives: a plausible ARN of the resource's type. */
export function arnOf(template: Template, logicalId: string): string {
  const r = resourceOf(template, logicalId);
  const name = nameOf(template, logicalId);
  switch (r.Type) {
    case 'AWS::Lambda::Function':
    case 'AWS::SNS::Topic':
    case 'AWS::StepFunctions::StateMachine':
    case 'AWS::CloudWatch::Alarm':
    case 'AWS::Events::Rule':
      // The same placeholders the runbook definitions get.
      return placeholderArn(template, logicalId);
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${fakeUuid(logicalId)}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
    case 'AWS::IAM::Role': {
      const path = prop(r, 'Path', template) ?? '/';
      return `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
    }
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${ACCOUNT}:policy/${name}`;
    case 'AWS::ECS::Cluster':
      return `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
    case 'AWS::ECS::Service': {
      const cluster = prop(r, 'Cluster', template) ?? 'default';
      return `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${lastSegment(cluster)}/${name}`;
    }
    case 'AWS::EKS::Cluster':
      return `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`;
    default:
      return placeholderArn(template, logicalId);
  }
}

/** What `Ref` to a resource gives, as CloudFormation documents it per type. */
export function refOf(template: Template, logicalId: string): string {
  const r = resourceOf(template, logicalId);
  switch (r.Type) {
    case 'AWS::SNS::Topic':
    case 'AWS::StepFunctions::StateMachine':
    case 'AWS::IAM::ManagedPolicy':
    case 'AWS::ECS::Service':
      return arnOf(template, logicalId);
    case 'AWS::KMS::Key':
      return fakeUuid(logicalId);
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${nameOf(template, logicalId)}`;
    case 'AWS::KMS::Alias':
      return resolve(template, r.Properties?.AliasName);
    case 'AWS::Lambda::Function':
    case 'AWS::DynamoDB::Table':
    case 'AWS::CloudWatch::Alarm':
    case 'AWS::Events::Rule':
    case 'AWS::Logs::LogGroup':
    case 'AWS::IAM::Role':
    case 'AWS::ECS::Cluster':
    case 'AWS::EKS::Cluster':
      return nameOf(template, logicalId);
    default:
      return logicalId;
  }
}

/** `Fn::GetAtt [id, attribute]`. */
export function attributeOf(template: Template, logicalId: string, attribute: string): string {
  const r = resourceOf(template, logicalId);
  switch (attribute) {
    case 'Arn':
    case 'TopicArn':
    case 'PolicyArn':
      return arnOf(template, logicalId);
    case 'Name':
    case 'TopicName':
    case 'QueueName':
    case 'StateMachineName':
      return nameOf(template, logicalId);
    case 'QueueUrl':
      return refOf(template, logicalId);
    case 'KeyId':
      return fakeUuid(logicalId);
    case 'RoleId':
      return `AROA${createHash('sha256').update(logicalId).digest('hex').slice(0, 17).toUpperCase()}`;
    case 'StreamArn':
      return `${arnOf(template, logicalId)}/stream/1970-01-01T00:00:00.000`;
    default:
      throw new Error(`unsupported Fn::GetAtt ${logicalId}.${attribute} (${r.Type})`);
  }
}

function resolveRef(template: Template, ref: string): string {
  return PSEUDO[ref] ?? refOf(template, ref);
}

function resolveSub(template: Template, text: string, vars: Record<string, unknown>): string {
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    if (name in vars) return resolve(template, vars[name]);
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return attributeOf(template, name.slice(0, dot), name.slice(dot + 1));
    return resolveRef(template, name);
  });
}

/** A template value that stands for a list (a literal list, `Fn::Split`, `Fn::GetAZs`), as strings. */
export function resolveList(template: Template, value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => resolve(template, v));
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if ('Fn::Split' in v) {
      const [separator, source] = v['Fn::Split'] as [string, unknown];
      return resolve(template, source).split(separator);
    }
    if ('Fn::GetAZs' in v) return ['a', 'b', 'c'].map((az) => `${REGION}${az}`);
  }
  return [resolve(template, value)];
}

/**
 * A template value (string or intrinsic) as the string it would be once
 * deployed, with placeholders for what only a deploy knows. Ref to pseudo
 * parameters and resources, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split; anything else (Fn::If, Fn::ImportValue ...) throws.
 */
export function resolve(template: Template, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`cannot resolve ${JSON.stringify(value)} to a string`);
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new Error(`cannot resolve ${JSON.stringify(value)} to a string`);
  if ('Ref' in v) return resolveRef(template, String(v.Ref));
  if ('Fn::GetAtt' in v) {
    const ga = v['Fn::GetAtt'];
    const [id, attribute] = typeof ga === 'string' ? (ga.split(/\.(.*)/s) as [string, string]) : (ga as [string, string]);
    return attributeOf(template, id, attribute);
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown];
    return resolveList(template, parts).join(separator);
  }
  if ('Fn::Sub' in v) {
    const sub = v['Fn::Sub'];
    if (typeof sub === 'string') return resolveSub(template, sub, {});
    const [text, vars] = sub as [string, Record<string, unknown>];
    return resolveSub(template, text, vars ?? {});
  }
  if ('Fn::Select' in v) {
    const [index, list] = v['Fn::Select'] as [unknown, unknown];
    const items = resolveList(template, list);
    const item = items[Number(resolve(template, index))];
    if (item === undefined) throw new Error(`Fn::Select index ${JSON.stringify(index)} out of range`);
    return item;
  }
  throw new Error(`unsupported intrinsic ${keys.join(', ')}`);
}

/** Every string in `value` (objects and arrays walked) with intrinsics resolved. */
export function resolveDeep(template: Template, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveDeep(template, v));
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return resolve(template, value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(template, v)]));
}

/** A Lambda function's environment as it would be deployed: table names for table Refs, ARNs for topic Refs ... */
export function environmentOf(template: Template, functionLogicalIdPrefix: string): Record<string, string> {
  const id = functionId(template, functionLogicalIdPrefix);
  const vars = (resourceOf(template, id).Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(template, v)]));
}

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

export type Effect = 'Allow' | 'Deny';
/** Operator → condition key → values (any of which may match). */
export type Conditions = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** Who a resource-policy statement names. */
export interface PolicyPrincipal {
  /** `"*"` or `{ AWS: "*" }`. */
  readonly any: boolean;
  readonly aws: readonly string[];
  readonly service: readonly string[];
}

export interface Statement {
  readonly effect: Effect;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Conditions;
  /** Resource policies only. */
  readonly principal?: PolicyPrincipal;
  /** Where it comes from, for reasons: `ScaleToZeroScalerRoleDefaultPolicyCAF3E695[1]`. */
  readonly source: string;
}

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parsePrincipal(template: Template, raw: unknown, source: string): PolicyPrincipal {
  if (raw === '*') return { any: true, aws: [], service: [] };
  if (typeof raw !== 'object' || raw === null) throw new Error(`unsupported Principal ${JSON.stringify(raw)} in ${source}`);
  const p = raw as Record<string, unknown>;
  for (const k of Object.keys(p)) if (k !== 'AWS' && k !== 'Service') throw new Error(`unsupported Principal type ${k} in ${source}`);
  const aws = asArray(p.AWS).flatMap((v) => resolveList(template, v));
  const service = asArray(p.Service).flatMap((v) => resolveList(template, v));
  return { any: aws.includes('*'), aws: aws.filter((a) => a !== '*'), service };
}

function parseConditions(template: Template, raw: unknown, source: string): Conditions {
  if (typeof raw !== 'object' || raw === null) throw new Error(`bad Condition in ${source}`);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [op, block] of Object.entries(raw)) {
    if (typeof block !== 'object' || block === null) throw new Error(`bad Condition ${op} in ${source}`);
    out[op] = Object.fromEntries(Object.entries(block).map(([key, v]) => [key, asArray(v).flatMap((x) => resolveList(template, x))]));
  }
  return out;
}

/** One policy document's statements, resolved. `kind` says whether a Principal is expected. */
export function parseStatements(template: Template, document: unknown, source: string, kind: 'identity' | 'resource' = 'identity'): Statement[] {
  const doc = document as { Statement?: unknown } | undefined;
  return asArray(doc?.Statement).map((raw, i) => {
    const s = raw as Record<string, unknown>;
    const where = `${source}[${typeof s.Sid === 'string' ? s.Sid : i}]`;
    if ('NotAction' in s) throw new Error(`NotAction is not supported (${where})`);
    if ('NotResource' in s) throw new Error(`NotResource is not supported (${where})`);
    if ('NotPrincipal' in s) throw new Error(`NotPrincipal is not supported (${where})`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new Error(`bad Effect ${JSON.stringify(s.Effect)} in ${where}`);
    if (kind === 'identity' && 'Principal' in s) throw new Error(`an identity policy statement has a Principal (${where})`);
    if (kind === 'resource' && !('Principal' in s)) throw new Error(`a resource policy statement has no Principal (${where})`);
    return {
      effect: s.Effect,
      actions: asArray(s.Action).map((a) => resolve(template, a)),
      resources: asArray(s.Resource).flatMap((r) => resolveList(template, r)),
      ...(s.Condition !== undefined ? { conditions: parseConditions(template, s.Condition, where) } : {}),
      ...(kind === 'resource' ? { principal: parsePrincipal(template, s.Principal, where) } : {}),
      source: where,
    };
  });
}

// ---------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------

export interface Principal {
  /** A role's sessions, or an AWS service calling as itself (CloudWatch alarm actions, EventBridge targets). */
  readonly kind: 'role' | 'service';
  /** Role name, or the service principal (`cloudwatch.amazonaws.com`). */
  readonly name: string;
  /** Role ARN (`arn:aws:iam::123456789012:role/<name>`), or the service principal. */
  readonly arn: string;
  readonly roleLogicalId?: string;
  /** Who may assume the role (`lambda.amazonaws.com`). */
  readonly assumedBy: readonly string[];
  /** Identity-based statements (none for a service principal). */
  readonly statements: readonly Statement[];
  /** Global condition keys every request of this principal carries. */
  readonly context: Readonly<Record<string, string>>;
  /** The template the principal was read from (resource policies, KMS keys, topics). */
  readonly template: Template;
}

/** AWS managed policies this harness knows, and the statements it credits them with. */
const KNOWN_MANAGED: Readonly<Record<string, readonly { actions: string[] }[]>> = {
  // Logs only: what the Lambda runtime needs to write its logs.
  AWSLambdaBasicExecutionRole: [{ actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'] }],
  // Also ENI management for VPC Lambdas; credited as logs only, since no code of ours makes EC2 calls.
  AWSLambdaVPCAccessExecutionRole: [{ actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'] }],
};

function managedPolicyStatements(template: Template, raw: unknown, roleId: string): { statements: Statement[]; logicalId?: string } {
  if (typeof raw === 'object' && raw !== null && 'Ref' in raw) {
    const id = String((raw as { Ref: unknown }).Ref);
    const r = resourcesOf(template)[id];
    if (r?.Type === 'AWS::IAM::ManagedPolicy') return { statements: parseStatements(template, r.Properties?.PolicyDocument, id), logicalId: id };
  }
  const arn = resolve(template, raw);
  const m = /^arn:aws:iam::aws:policy\/(?:service-role\/)?([A-Za-z0-9+=,.@_-]+)$/.exec(arn);
  const known = m ? KNOWN_MANAGED[m[1]!] : undefined;
  if (!known) throw new Error(`unknown managed policy ${arn} (on ${roleId}): list its statements in test/iam/policy.ts or grant explicitly`);
  return { statements: known.map((k, i) => ({ effect: 'Allow', actions: k.actions, resources: ['*'], source: `${m![1]}[${i}]` })) };
}

const namesRole = (entry: unknown, roleId: string, roleName: string) =>
  (typeof entry === 'object' && entry !== null && 'Ref' in entry && (entry as { Ref: unknown }).Ref === roleId) || (typeof entry === 'string' && entry === roleName);

/** The principal of the AWS::IAM::Role `roleLogicalId`: every statement the template gives it. */
export function principalFromTemplate(template: Template, roleLogicalId: string): Principal {
  const role = resourceOf(template, roleLogicalId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is a ${role.Type}, not an AWS::IAM::Role`);
  const props = role.Properties ?? {};
  if (props.PermissionsBoundary !== undefined) throw new Error(`${roleLogicalId} has a PermissionsBoundary, which test/iam does not model`);
  const name = nameOf(template, roleLogicalId);
  const arn = arnOf(template, roleLogicalId);
  const statements: Statement[] = [];

  for (const p of asArray(props.Policies) as { PolicyName?: unknown; PolicyDocument?: unknown }[]) {
    statements.push(...parseStatements(template, p.PolicyDocument, `${roleLogicalId}.Policies.${resolve(template, p.PolicyName)}`));
  }
  const attached = new Set<string>();
  for (const [id, r] of Object.entries(resourcesOf(template))) {
    const p = r.Properties ?? {};
    const attachedHere =
      ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && asArray(p.Roles).some((e) => namesRole(e, roleLogicalId, name))) ||
      (r.Type === 'AWS::IAM::RolePolicy' && namesRole(p.RoleName, roleLogicalId, name));
    if (!attachedHere) continue;
    attached.add(id);
    statements.push(...parseStatements(template, p.PolicyDocument, id));
  }
  for (const raw of asArray(props.ManagedPolicyArns)) {
    const managed = managedPolicyStatements(template, raw, roleLogicalId);
    if (managed.logicalId && attached.has(managed.logicalId)) continue;
    statements.push(...managed.statements);
  }
  const trust = parseStatements(template, props.AssumeRolePolicyDocument, `${roleLogicalId}.AssumeRolePolicyDocument`, 'resource');
  return {
    kind: 'role',
    name,
    arn,
    roleLogicalId,
    assumedBy: trust.flatMap((s) => s.principal?.service ?? []),
    statements,
    context: {
      'aws:PrincipalArn': arn,
      'aws:PrincipalAccount': ACCOUNT,
      'aws:PrincipalType': 'AssumedRole',
      'aws:RequestedRegion': REGION,
      'aws:SecureTransport': 'true',
    },
    template,
  };
}

function roleOfArnValue(value: unknown, what: string): string {
  const ga = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(ga) && ga[1] === 'Arn' && typeof ga[0] === 'string') return ga[0];
  throw new Error(`${what}: role is ${JSON.stringify(value)}, not a role of this template`);
}

/** The role of the one Lambda function whose logical ID starts with `functionLogicalIdPrefix`. */
export function principalOfFunction(template: Template, functionLogicalIdPrefix: string): Principal {
  const id = functionId(template, functionLogicalIdPrefix);
  return principalFromTemplate(template, roleOfArnValue(resourceOf(template, id).Properties?.Role, id));
}

/** The role of the state machine named `stateMachineName` (its StateMachineName, or its logical ID). */
export function principalOfStateMachine(template: Template, stateMachineName: string): Principal {
  const machines = Object.entries(resourcesOf(template)).filter(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && (r.Properties?.StateMachineName === stateMachineName || id === stateMachineName),
  );
  if (machines.length !== 1) throw new Error(`expected one state machine named ${stateMachineName}, found ${machines.length}`);
  const [id, machine] = machines[0]!;
  return principalFromTemplate(template, roleOfArnValue(machine.Properties?.RoleArn, id));
}

/**
 * An AWS service calling as itself (a CloudWatch alarm action publishing to
 * SNS): no identity policy, so only resource policies can allow it.
 * `context` carries what the service sends (`aws:SourceArn`, `aws:SourceAccount`).
 */
export function servicePrincipal(template: Template, service: string, context: Record<string, string> = {}): Principal {
  return {
    kind: 'service',
    name: service,
    arn: service,
    assumedBy: [],
    statements: [],
    context: { 'aws:PrincipalServiceName': service, 'aws:RequestedRegion': REGION, 'aws:SecureTransport': 'true', ...context },
    template,
  };
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

export interface IamRequest {
  /** `application-autoscaling:RegisterScalableTarget`. */
  readonly action: string;
  /** The resources IAM authorizes the action on (`*` for actions without resource-level permissions). */
  readonly resources: readonly string[];
  readonly context: Readonly<Record<string, string>>;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
  /** The first resource that was denied. */
  readonly deniedResource?: string;
  /** Denied by a Deny statement rather than for want of an Allow. */
  readonly explicitDeny?: boolean;
  /** Which kind of policy denied (or failed to allow), as AWS's message names it. */
  readonly policyType?: 'identity-based' | 'resource-based';
}

const regexCache = new Map<string, RegExp>();

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern.includes('${')) throw new Error(`policy variables are not supported: ${pattern}`);
  const key = `${ignoreCase ? 'i' : 's'}:${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    regexCache.set(key, re);
  }
  return re.test(value);
}

/** ArnLike/ArnEquals: each of the five colon-separated fields and the resource matched on its own. */
function arnMatch(pattern: string, value: string): boolean {
  const split = (arn: string) => {
    const parts = arn.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const v = split(value);
  if (!p || !v) return false;
  return p.every((seg, i) => wildcardMatch(seg, v[i]!));
}

type Test = (expected: string, actual: string) => boolean;
const POSITIVE: Readonly<Record<string, Test>> = {
  StringEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: (e, a) => wildcardMatch(e, a),
  ArnEquals: arnMatch,
  ArnLike: arnMatch,
  Bool: (e, a) => e.toLowerCase() === a.toLowerCase(),
};
const NEGATED: Readonly<Record<string, string>> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

function lookup(context: Readonly<Record<string, string>>, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Every operator of a Condition block against the request context. A key
 * missing from the context makes a positive operator false, a negated one
 * (StringNotEquals ...) true, and any `...IfExists` operator true.
 */
export function conditionsHold(conditions: Conditions | undefined, context: Readonly<Record<string, string>>): boolean {
  if (!conditions) return true;
  for (const [op, block] of Object.entries(conditions)) {
    if (/^For(Any|All)Values:/.test(op)) throw new Error(`unsupported condition operator ${op}`);
    const ifExists = op.endsWith('IfExists');
    const base = ifExists ? op.slice(0, -'IfExists'.length) : op;
    for (const [key, values] of Object.entries(block)) {
      const actual = lookup(context, key);
      if (base === 'Null') {
        if (ifExists) throw new Error('NullIfExists is not an operator');
        if (!values.some((v) => (v.toLowerCase() === 'true') === (actual === undefined))) return false;
        continue;
      }
      const positive = POSITIVE[base];
      const negatedOf = NEGATED[base];
      if (!positive && !negatedOf) throw new Error(`unsupported condition operator ${op}`);
      if (actual === undefined) {
        if (ifExists || negatedOf) continue;
        return false;
      }
      const ok = positive ? values.some((v) => positive(v, actual)) : !values.some((v) => POSITIVE[negatedOf!]!(v, actual));
      if (!ok) return false;
    }
  }
  return true;
}

/** Does `statement` cover `action` on `resource` with this context (Principal not considered)? */
export function statementMatches(statement: Statement, action: string, resource: string, context: Readonly<Record<string, string>>): boolean {
  return (
    statement.actions.some((a) => wildcardMatch(a, action, true)) &&
    statement.resources.some((r) => wildcardMatch(r, resource)) &&
    conditionsHold(statement.conditions, context)
  );
}

export type Verdict = { readonly effect: 'Allow' | 'Deny'; readonly source: string } | { readonly effect: 'implicit' };

/** One action on one resource against a list of statements: an explicit Deny wins, then any Allow. */
export function verdictOf(statements: readonly Statement[], action: string, resource: string, context: Readonly<Record<string, string>>): Verdict {
  const deny = statements.find((s) => s.effect === 'Deny' && statementMatches(s, action, resource, context));
  if (deny) return { effect: 'Deny', source: deny.source };
  const allow = statements.find((s) => s.effect === 'Allow' && statementMatches(s, action, resource, context));
  return allow ? { effect: 'Allow', source: allow.source } : { effect: 'implicit' };
}

/** The context a request is evaluated with: the principal's global keys, then the request's. */
export const contextOf = (principal: Principal, request: IamRequest): Record<string, string> => ({ ...principal.context, ...request.context });

/**
 * The principal's identity-based policies on `request`, each resource on its
 * own (a request is allowed only if every resource is). Resource policies
 * and KMS keys are test/iam/kms.ts `authorize`.
 */
export function evaluate(principal: Principal, request: IamRequest): Decision {
  const context = contextOf(principal, request);
  const resources = request.resources.length > 0 ? request.resources : ['*'];
  const sources: string[] = [];
  for (const resource of resources) {
    const v = verdictOf(principal.statements, request.action, resource, context);
    if (v.effect === 'Deny') {
      return { allowed: false, explicitDeny: true, policyType: 'identity-based', deniedResource: resource, reason: `${request.action} on ${resource}: explicit deny in ${v.source}` };
    }
    if (v.effect === 'implicit') {
      return { allowed: false, policyType: 'identity-based', deniedResource: resource, reason: `${request.action} on ${resource}: no identity-based policy of ${principal.name} allows it` };
    }
    sources.push(v.source);
  }
  return { allowed: true, reason: `${request.action} allowed by ${[...new Set(sources)].join(', ')}` };
}
