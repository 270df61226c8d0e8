import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { TargetSpec } from '../lambdas/core/config/document';

/**
 * The cdk-nag findings mlscale acknowledges, one finding at a time, each with
 * its reason. They sit on the role whose default policy causes them: an
 * acknowledgement covers the construct's children, and the default policy is
 * the role's child, so nothing here depends on how CDK names it.
 */

/** An ARN part as cdk-nag writes it in a finding: the value when the stack knows it, else the pseudo parameter. */
const nagPart = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

/** Node group ARNs end in an ID EKS assigns at creation: a grant on a named group needs a trailing wildcard. */
export function acknowledgeNodegroupArns(role: iam.IRole, targets: readonly TargetSpec[]): void {
  const stack = Stack.of(role);
  const prefix = `arn:${nagPart(stack.partition, 'AWS::Partition')}:eks:${nagPart(stack.region, 'AWS::Region')}:${nagPart(stack.account, 'AWS::AccountId')}`;
  for (const t of targets) {
    if (t.kind !== 'eks-nodegroup') continue;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${prefix}:nodegroup/${t.cluster}/${t.nodegroup}/*]`,
      reason: `Node group ${t.nodegroup} only; its ARN ends in an ID EKS assigns at creation, hence the trailing wildcard.`,
    });
  }
}

/** Invoking a function through Step Functions grants its versions too (`<arn>:*`). */
export function acknowledgeFunctionVersions(role: iam.IRole, functions: readonly lambda.IFunction[]): void {
  for (const fn of functions) {
    // cdk-nag names a function of this stack by its logical ID, an imported one by its ARN.
    const resource = fn.node.defaultChild ? `<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>` : fn.functionArn;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}:*]`,
      reason: 'Invoke rights on this one function and its versions, as the Step Functions Lambda integration grants them.',
    });
  }
}

/** Actions with no resource-level permissions (Application Auto Scaling, X-Ray, log delivery, describe calls). */
export function acknowledgeUnscopable(role: iam.IRole, what: string): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${what} have no resource-level permissions; everything else is scoped to the configured resources.`,
  });
}

/** Publishing to a KMS-encrypted topic needs kms:GenerateDataKey* (a family of actions) on its one key. */
export function acknowledgeTopicKey(role: iam.IRole): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Publishing to the encrypted alarm topic needs kms:GenerateDataKey* and kms:Decrypt, on the topic key only (not any other key).',
  });
}

/**
 * A resource ARN as cdk-nag writes it in an IAM5 finding: the value resolved,
 * `Ref`s as `<LogicalId>` (pseudo parameters as `<AWS::Region>`), `GetAtt`s as
 * `<LogicalId.Attribute>`, `Fn::Join`s joined.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node !== null && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (Array.isArray(o['Fn::Join'])) {
        const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
        return items.map(flatten).join(delimiter);
      }
      if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
      if (Array.isArray(o['Fn::GetAtt'])) {
        const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
        return `<${flatten(resource)}.${flatten(attribute)}>`;
      }
    }
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(value));
}

/** Task scale-in protection is granted on a cluster's tasks: their ARNs end in IDs ECS assigns at launch. */
export function acknowledgeTaskArns(role: iam.IRole, taskArns: string): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(role, taskArns)}]`,
    reason: "ecs:UpdateTaskProtection and ecs:GetTaskProtection on this cluster's tasks only; a task's ARN ends in an ID ECS assigns at launch, hence the trailing wildcard.",
  });
}
