/**
 * Authorization beyond identity policies: resource policies (SNS topic
 * policies, SQS queue policies, KMS key policies) and the rule that bit us in
 * production: publishing to an SNS topic encrypted with a customer-managed
 * KMS key makes SNS call kms:GenerateDataKey and kms:Decrypt with the
 * publisher's credentials, so the publisher needs both on the key.
 *
 * Same-account logic, as AWS documents it:
 * - an explicit Deny in any applicable policy wins;
 * - SNS, SQS: allowed if the identity policy allows OR the resource policy
 *   names the principal (a service principal has no identity policy, so only
 *   the resource policy can allow it);
 * - KMS: the key policy is the authority. Allowed if a key-policy statement
 *   names the principal (its role ARN, `*`, or its service); a statement for
 *   the account root (`arn:aws:iam::123456789012:root`) does not allow by
 *   itself, it only lets IAM policies grant: then the identity policy must
 *   allow the action on the key ARN.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import {
  ACCOUNT,
  arnOf,
  contextOf,
  type Decision,
  evaluate,
  type IamRequest,
  parseStatements,
  type Principal,
  REGION,
  refOf,
  resolve,
  resourcesOf,
  type Statement,
  statementMatches,
} from './policy';

/** What SNS asks KMS for when a message is published to an encrypted topic (`kms:GenerateDataKey*` grants match the first). */
export const PUBLISH_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

const ROOT_ARN = `arn:aws:iam::${ACCOUNT}:root`;

export interface TopicInfo {
  readonly logicalId: string;
  readonly arn: string;
  /** Set when the topic has a KmsMasterKeyId. */
  readonly key?: { readonly kind: 'template'; readonly logicalId: string; readonly arn: string } | { readonly kind: 'aws-managed' };
}

function logicalIdOfRef(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const ga = v['Fn::GetAtt'];
  if (Array.isArray(ga) && typeof ga[0] === 'string') return ga[0];
  return undefined;
}

function keyOf(template: Template, topicId: string, raw: unknown): TopicInfo['key'] {
  if (raw === undefined) return undefined;
  const resources = resourcesOf(template);
  let id = logicalIdOfRef(raw);
  // An alias of a key of this template.
  if (id && resources[id]?.Type === 'AWS::KMS::Alias') id = logicalIdOfRef(resources[id]!.Properties?.TargetKeyId);
  if (id && resources[id]?.Type === 'AWS::KMS::Key') return { kind: 'template', logicalId: id, arn: arnOf(template, id) };
  const literal = typeof raw === 'string' ? raw : undefined;
  if (literal && /(^|:)alias\/aws\/sns$/.test(literal)) return { kind: 'aws-managed' };
  throw new Error(`topic ${topicId}: cannot model KmsMasterKeyId ${JSON.stringify(raw)} (not a key of this template, not alias/aws/sns)`);
}

/** Every SNS topic of the template, by ARN. */
export function topics(template: Template): Map<string, TopicInfo> {
  const out = new Map<string, TopicInfo>();
  for (const [id, r] of Object.entries(resourcesOf(template))) {
    if (r.Type !== 'AWS::SNS::Topic') continue;
    const arn = refOf(template, id);
    const key = keyOf(template, id, r.Properties?.KmsMasterKeyId);
    out.set(arn, { logicalId: id, arn, ...(key ? { key } : {}) });
  }
  return out;
}

/** The resource-policy statements that apply to `arn`: the topic's TopicPolicy, the queue's QueuePolicy, the key's KeyPolicy. */
export function resourcePolicy(template: Template, arn: string): { kind: 'sns' | 'sqs' | 'kms' | 'none'; statements: Statement[] } {
  const resources = resourcesOf(template);
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::KMS::Key' && arnOf(template, id) === arn) {
      return { kind: 'kms', statements: parseStatements(template, r.Properties?.KeyPolicy, `${id}.KeyPolicy`, 'resource') };
    }
  }
  const attached = (type: string, list: string, kind: 'sns' | 'sqs', arnOfTarget: (id: string) => string) => {
    const statements: Statement[] = [];
    let found = false;
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== type) continue;
      const targets = ((r.Properties?.[list] as unknown[] | undefined) ?? []).map((t) => {
        const ref = logicalIdOfRef(t);
        return ref && resources[ref] ? arnOfTarget(ref) : resolve(template, t);
      });
      if (!targets.includes(arn)) continue;
      found = true;
      statements.push(...parseStatements(template, r.Properties?.PolicyDocument, id, 'resource'));
    }
    return found ? { kind, statements } : undefined;
  };
  if (arn.startsWith('arn:aws:sns:')) return attached('AWS::SNS::TopicPolicy', 'Topics', 'sns', (id) => refOf(template, id)) ?? { kind: 'sns', statements: [] };
  if (arn.startsWith('arn:aws:sqs:')) return attached('AWS::SQS::QueuePolicy', 'Queues', 'sqs', (id) => arnOf(template, id)) ?? { kind: 'sqs', statements: [] };
  return { kind: 'none', statements: [] };
}

/** How a resource-policy statement's Principal relates to `principal`: names it, names the account (delegates to IAM), or neither. */
function principalRelation(statement: Statement, principal: Principal): 'named' | 'account' | 'none' {
  const p = statement.principal;
  if (!p) return 'none';
  if (p.any) return 'named';
  if (principal.kind === 'service') return p.service.includes(principal.name) ? 'named' : 'none';
  if (p.aws.includes(principal.arn)) return 'named';
  if (p.aws.includes(ROOT_ARN) || p.aws.includes(ACCOUNT)) return 'account';
  return 'none';
}

/** One action on one resource, with resource policies and the KMS key-policy rule. */
export function authorizeOne(principal: Principal, action: string, resource: string, context: Readonly<Record<string, string>>): Decision {
  const request: IamRequest = { action, resources: [resource], context };
  const ctx = contextOf(principal, request);
  const rp = resourcePolicy(principal.template, resource);
  const matching = rp.statements.filter((s) => statementMatches(s, action, resource, ctx));
  const rpDeny = matching.find((s) => s.effect === 'Deny' && principalRelation(s, principal) !== 'none');
  if (rpDeny) return { allowed: false, explicitDeny: true, policyType: 'resource-based', deniedResource: resource, reason: `${action} on ${resource}: explicit deny in ${rpDeny.source}` };
  const identity = evaluate(principal, request);
  if (identity.explicitDeny) return identity;
  const allows = matching.filter((s) => s.effect === 'Allow');
  const named = allows.find((s) => principalRelation(s, principal) === 'named');
  if (rp.kind === 'kms') {
    if (named) return { allowed: true, reason: `${action} on ${resource} allowed by the key policy (${named.source})` };
    const delegates = principal.kind === 'role' ? allows.find((s) => principalRelation(s, principal) === 'account') : undefined;
    if (!delegates) {
      return { allowed: false, policyType: 'resource-based', deniedResource: resource, reason: `${action} on ${resource}: the key policy neither names ${principal.arn} nor lets IAM policies grant it` };
    }
    if (identity.allowed) return { allowed: true, reason: `${identity.reason}; the key policy lets IAM policies grant it (${delegates.source})` };
    return { allowed: false, policyType: 'identity-based', deniedResource: resource, reason: `${identity.reason}; the key policy only lets IAM policies grant it (${delegates.source})` };
  }
  if (identity.allowed) return identity;
  if (named) return { allowed: true, reason: `${action} on ${resource} allowed by the resource policy (${named.source})` };
  return principal.kind === 'service'
    ? { allowed: false, policyType: 'resource-based', deniedResource: resource, reason: `${action} on ${resource}: no resource-based policy allows ${principal.name}` }
    : identity;
}

/** What publishing to `topicArn` asks of KMS, or nothing for an unencrypted topic (or one outside the template). */
export function keyRequestsForPublish(template: Template, topicArn: string): IamRequest[] {
  const topic = topics(template).get(topicArn);
  if (!topic?.key) return [];
  const context = {
    'kms:ViaService': `sns.${REGION}.amazonaws.com`,
    'kms:CallerAccount': ACCOUNT,
    'kms:EncryptionContext:aws:sns:topicArn': topicArn,
  };
  if (topic.key.kind === 'aws-managed') {
    // The AWS managed key's policy lets principals of the account use it through SNS; nothing names services.
    return PUBLISH_KEY_ACTIONS.map((action) => ({ action, resources: [`arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/sns`], context }));
  }
  const keyArn = topic.key.arn;
  return PUBLISH_KEY_ACTIONS.map((action) => ({ action, resources: [keyArn], context }));
}

export interface Authorization extends Decision {
  /** Every check made: the request's own, then the KMS ones. */
  readonly checks: readonly { readonly action: string; readonly resource: string; readonly decision: Decision }[];
  /** The request the denial is about (the KMS one when the key refused). */
  readonly deniedAction?: string;
  /** True when the action itself was allowed but its KMS key was not. */
  readonly kmsDenied?: boolean;
}

function awsManagedKeyDecision(principal: Principal, action: string, resource: string): Decision {
  return principal.kind === 'role'
    ? { allowed: true, reason: `${action} on ${resource}: the AWS managed key lets principals of the account use it through SNS` }
    : { allowed: false, policyType: 'resource-based', deniedResource: resource, reason: `${action} on ${resource}: the AWS managed key's policy cannot name ${principal.name}` };
}

/**
 * A request as AWS would authorize it: every resource on its own, with
 * resource policies; an sns:Publish to a KMS-encrypted topic also needs
 * kms:GenerateDataKey and kms:Decrypt on its key.
 */
export function authorize(principal: Principal, request: IamRequest): Authorization {
  const checks: { action: string; resource: string; decision: Decision }[] = [];
  const resources = request.resources.length > 0 ? request.resources : ['*'];
  const deny = (d: Decision, action: string, kmsDenied: boolean): Authorization => ({ ...d, checks, deniedAction: action, ...(kmsDenied ? { kmsDenied } : {}) });
  for (const resource of resources) {
    const d = authorizeOne(principal, request.action, resource, request.context);
    checks.push({ action: request.action, resource, decision: d });
    if (!d.allowed) return deny(d, request.action, false);
  }
  if (request.action.toLowerCase() === 'sns:publish') {
    for (const topicArn of resources) {
      for (const kms of keyRequestsForPublish(principal.template, topicArn)) {
        const resource = kms.resources[0]!;
        const d = resource.endsWith(':alias/aws/sns') ? awsManagedKeyDecision(principal, kms.action, resource) : authorizeOne(principal, kms.action, resource, kms.context);
        checks.push({ action: kms.action, resource, decision: d });
        if (!d.allowed) return deny({ ...d, reason: `sns:Publish to ${topicArn} needs its KMS key: ${d.reason}` }, kms.action, true);
      }
    }
  }
  return { allowed: true, reason: checks.map((c) => c.decision.reason).join('; '), checks };
}
