import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { TargetSpec } from '../lambdas/core/config/document';

/**
 * The cdk-nag findings mlscale acknowledges, one finding at a time, each with
 * its reason. They sit on the role's default policy that causes them.
 */

function defaultPolicy(role: iam.IRole): IConstruct | undefined {
  return role.node.tryFindChild('DefaultPolicy') ?? undefined;
}

/** Node group ARNs end in an ID EKS assigns at creation: a grant on a named group needs a trailing wildcard. */
export function acknowledgeNodegroupArns(role: iam.IRole, targets: readonly TargetSpec[]): void {
  const policy = defaultPolicy(role);
  if (!policy) return;
  for (const t of targets) {
    if (t.kind !== 'eks-nodegroup') continue;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:nodegroup/${t.cluster}/${t.nodegroup}/*]`,
      reason: `Node group ${t.nodegroup} only; its ARN ends in an ID EKS assigns at creation, hence the trailing wildcard.`,
    });
  }
}

/** Invoking a function through Step Functions grants its versions too (`<arn>:*`). */
export function acknowledgeFunctionVersions(role: iam.IRole, functions: readonly lambda.IFunction[]): void {
  const policy = defaultPolicy(role);
  if (!policy) return;
  for (const fn of functions) {
    const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason: 'Invoke rights on this one function and its versions, as the Step Functions Lambda integration grants them.',
    });
  }
}

/** Actions with no resource-level permissions (Application Auto Scaling, X-Ray, log delivery, describe calls). */
export function acknowledgeUnscopable(role: iam.IRole, what: string): void {
  const policy = defaultPolicy(role);
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${what} have no resource-level permissions; everything else is scoped to the configured resources.`,
  });
}

/** Publishing to a KMS-encrypted topic needs kms:GenerateDataKey* (a family of actions) on its one key. */
export function acknowledgeTopicKey(role: iam.IRole): void {
  const policy = defaultPolicy(role);
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Publishing to the encrypted alarm topic needs kms:GenerateDataKey* and kms:Decrypt, on the topic key only (not any other key).',
  });
}
