import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * An existing topic to notify instead of a new one (`sns.Topic.fromTopicArn`).
   * Its access policy and encryption stay its owner's: CloudWatch alarms and
   * EventBridge must be allowed to publish to it, and to use its key if it has one.
   * @default - a new topic under a new customer-managed key, SSL only, that CloudWatch alarms of this account may publish to
   */
  readonly topic?: sns.ITopic;
  /**
   * Email addresses that receive every alarm and runbook notification.
   * @default - no subscriptions; subscribe your pager or chat integration to `topic`
   */
  readonly emails?: readonly string[];
}

/**
 * The SNS topic operators subscribe to: alarms, runbook progress and scaler
 * failures. A new one is encrypted with a customer-managed key because
 * CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  /** The key of a new topic; undefined for an existing one. */
  public readonly key?: kms.IKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    if (props.topic) {
      this.topic = props.topic;
    } else {
      const { topic, key } = this.newTopic();
      this.topic = topic;
      this.key = key;
    }
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }

  private newTopic(): { topic: sns.Topic; key: kms.Key } {
    const account = Stack.of(this).account;
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the mlscale alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarm actions publish encrypted messages on the operators' behalf, for this account only
    // (aws:SourceAccount keeps another account's alarm from using the key: the confused deputy). Nothing
    // else publishes as a service (the runbooks publish with their own roles), so no other service is named.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'mlscale alarms and runbooks',
      masterKey: key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one (the one that let
    // the account's services publish): CloudWatch alarm actions need an Allow of their own, for this account only.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    return { topic, key };
  }
}
