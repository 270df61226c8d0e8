import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * Email addresses that receive every alarm and runbook notification.
   * @default - no subscriptions; subscribe your pager or chat integration to `topic`
   */
  readonly emails?: readonly string[];
}

/**
 * The SNS topic operators subscribe to: alarms, runbook progress and scaler
 * failures. Encrypted with a customer-managed key because CloudWatch alarms
 * cannot publish to a topic under the AWS-managed SNS key.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the mlscale alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch and EventBridge publish encrypted messages on the operators' behalf, for this account only
    // (aws:SourceAccount keeps another account's alarm from using the key: the confused deputy).
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'mlscale alarms and runbooks',
      masterKey: this.key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one (the one that let
    // the account's services publish): CloudWatch alarm actions need an Allow of their own, for this account only.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
