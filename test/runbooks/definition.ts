/**
 * The runbook state machines as plain Amazon States Language, straight from a
 * synthesized template: the DefinitionString (a Fn::Join of strings and
 * intrinsics) with every intrinsic replaced by a placeholder ARN, so
 * aws-local-stepfunctions can run it with no AWS behind it.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Every state of a definition, with the fields the tests read (the library's own type is a union too narrow to index). */
export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[]; readonly MaxAttempts?: number }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string; readonly ResultPath?: string }[];
  readonly Parameters?: Record<string, unknown>;
  readonly [field: string]: unknown;
}

export interface Runbook {
  /** The StateMachineName, e.g. `pipestream-production-scale-for-event`. */
  readonly name: string;
  readonly logicalId: string;
  /** The definition, ready for `new StateMachine(...)`. */
  readonly definition: StateMachineDefinition;
  readonly states: Readonly<Record<string, AslState>>;
}

function resourcesOf(template: Template): Resources {
  return (template.toJSON() as { Resources: Resources }).Resources;
}

/** The placeholder for `{ Fn::GetAtt: [id, 'Arn'] }` (or a Ref to a topic): an ARN of the right service, named after the logical ID. */
export function placeholderArn(template: Template, logicalId: string): string {
  const resource = resourcesOf(template)[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId} in the template`);
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${String(resource.Properties?.StateMachineName ?? logicalId)}`;
    case 'AWS::CloudWatch::Alarm':
      return `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${String(resource.Properties?.AlarmName ?? logicalId)}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${logicalId}`;
    default:
      return `arn:aws:placeholder:${REGION}:${ACCOUNT}:${logicalId}`;
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A template value (string or intrinsic) as the string it would be once deployed, with placeholders for what only a deploy knows. */
export function resolveValue(template: Template, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  if ('Ref' in v) {
    const ref = String(v.Ref);
    return PSEUDO[ref] ?? placeholderArn(template, ref);
  }
  if ('Fn::GetAtt' in v) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`unsupported Fn::GetAtt ${id}.${attribute}`);
    return placeholderArn(template, id);
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveValue(template, p)).join(separator);
  }
  throw new Error(`unsupported intrinsic ${Object.keys(v).join(', ')}`);
}

/** The state machine named `name` in the template, as plain ASL. */
export function runbook(template: Template, name: string): Runbook {
  const machines = Object.entries(resourcesOf(template)).filter(
    ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties?.StateMachineName === name,
  );
  if (machines.length !== 1) throw new Error(`expected one state machine named ${name}, found ${machines.length}`);
  const [logicalId, resource] = machines[0]!;
  const definition = JSON.parse(resolveValue(template, resource.Properties!.DefinitionString)) as StateMachineDefinition;
  return { name, logicalId, definition, states: definition.States as unknown as Record<string, AslState> };
}

/** The Task states of a runbook, by name. */
export function taskStates(rb: Runbook): [string, AslState][] {
  return Object.entries(rb.states).filter(([, s]) => s.Type === 'Task');
}

/** The logical ID of the one Lambda function whose ID starts with `prefix`. */
export function functionId(template: Template, prefix: string): string {
  const ids = Object.entries(resourcesOf(template))
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one Lambda function starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** A Lambda function's environment as it would be deployed (intrinsics as placeholders). */
export function functionEnvironment(template: Template, logicalId: string): Record<string, string> {
  const props = resourcesOf(template)[logicalId]?.Properties as { Environment?: { Variables?: Record<string, unknown> } } | undefined;
  const vars = props?.Environment?.Variables ?? {};
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolveValue(template, v)]));
}

/** Names of every state reachable from `from` by Next, Choices and Default (not Catch), stopping at states `stop` accepts. */
export function reachable(rb: Runbook, from: string, stop: (name: string) => boolean = () => false): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    const state = rb.states[name];
    if (!state) throw new Error(`no state ${name} in ${rb.name}`);
    seen.add(name);
    if (stop(name)) continue;
    for (const next of [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)]) if (next) queue.push(next);
  }
  return seen;
}
