import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { EmergencyScaler } from '../../lib/constructs/emergency-scaler';
import { allowing, designDocument, existingTopic, freshStack, statementsOf } from './fixtures';

function build(document = designDocument((doc) => (doc.targets[1] = { ...doc.targets[1]!, emergencyEnabled: false } as never))) {
  const stack = freshStack();
  const holds = dynamodb.Table.fromTableName(stack, 'Holds', 'pipestream-production-holds');
  new EmergencyScaler(stack, 'Emergency', { document, holds, topic: existingTopic(stack), namePrefix: 'pipestream-production' });
  return Template.fromStack(stack);
}

describe('Construct: EmergencyScaler', () => {
  it('writes holds and reconciles only the emergency-enabled targets', () => {
    const statements = statementsOf(build(), 'EmergencyFunctionRole');
    const services = JSON.stringify(allowing(statements, 'ecs:UpdateService')[0]!.Resource);
    expect(services).toContain('service/pipestream/engine');
    expect(services).not.toContain('embedder');
    expect(allowing(statements, 'dynamodb:PutItem')).toHaveLength(1);
  });

  it('is not triggered by a schedule or an alarm of its own: the emergency runbook calls it', () => {
    const t = build();
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-emergency-errors' });
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: 'pipestream-production-emergency-missed-schedule' }, 0);
  });

  it('refuses a document with no emergency-enabled target', () => {
    const none = designDocument((doc) => (doc.targets = doc.targets.map((t) => ({ ...t, emergencyEnabled: false })) as never));
    expect(() => build(none)).toThrow(/EmergencyScaler Emergency: no target of the document has emergencyEnabled/);
  });
});
