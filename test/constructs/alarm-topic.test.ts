import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AlarmTopic } from '../../lib/constructs/alarm-topic';
import { existingTopic, freshStack } from './fixtures';

describe('Construct: AlarmTopic', () => {
  it('makes a topic under its own rotating key, SSL only, that this account\'s CloudWatch alarms may publish to', () => {
    const stack = freshStack();
    const topic = new AlarmTopic(stack, 'Notifications', { emails: ['oncall@example.com'] });
    expect(topic.key).toBeDefined();
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
    // No other service may use the key: nothing but CloudWatch alarms publishes as a service.
    expect(JSON.stringify(t.findResources('AWS::KMS::Key'))).not.toContain('events.amazonaws.com');
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsKey'), 'Arn'] } });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'AllowCloudWatchAlarms', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  it('uses an existing topic as it is: subscribes the emails, creates no topic, key or policy', () => {
    const stack = freshStack();
    const given = existingTopic(stack);
    const topic = new AlarmTopic(stack, 'Notifications', { topic: given, emails: ['oncall@example.com'] });
    expect(topic.topic).toBe(given);
    expect(topic.key).toBeUndefined();
    const t = Template.fromStack(stack);
    for (const type of ['AWS::SNS::Topic', 'AWS::KMS::Key', 'AWS::SNS::TopicPolicy']) t.resourceCountIs(type, 0);
    t.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall', Endpoint: 'oncall@example.com' });
  });
});
