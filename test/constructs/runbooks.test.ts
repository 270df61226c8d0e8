import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { Runbooks, type RunbooksProps } from '../../lib/constructs/runbooks/runbooks';
import { allowing, designDocument, existingTopic, freshStack, statementsOf } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function build(props: (stack: ReturnType<typeof freshStack>) => Partial<RunbooksProps> = () => ({})) {
  const stack = freshStack();
  const holds = dynamodb.Table.fromTableName(stack, 'Holds', 'pipestream-production-holds');
  const runbooks = new Runbooks(stack, 'Runbooks', { document: designDocument(), holds, topic: existingTopic(stack), namePrefix: 'pipestream-production', ...props(stack) });
  return { runbooks, template: Template.fromStack(stack) };
}

const emergencyFunction = (stack: ReturnType<typeof freshStack>) =>
  lambda.Function.fromFunctionAttributes(stack, 'Emergency', { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:emergency', sameEnvironment: true });

const machineNames = (t: Template) => Object.values(t.findResources('AWS::StepFunctions::StateMachine')).map((m) => (m as { Properties: Props }).Properties.StateMachineName).sort();

describe('Construct: Runbooks', () => {
  it('without an emergency function: scale-for-event, rollout, and gpu-nodegroup-scale for the node group, named for the CLI', () => {
    const { runbooks, template: t } = build();
    expect(runbooks.emergencyScaleUp).toBeUndefined();
    expect(runbooks.alarmRule).toBeUndefined();
    expect(machineNames(t)).toEqual(['pipestream-production-gpu-nodegroup-scale', 'pipestream-production-rollout', 'pipestream-production-scale-for-event']);
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true }, LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }) });
  });

  it('with an emergency function and alarms: the emergency runbook, started by the planner when an alarm goes to ALARM', () => {
    const alarmArn = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipestream-production-engine-emergencyLatency';
    const { runbooks, template: t } = build((stack) => ({
      emergencyFunction: emergencyFunction(stack),
      emergencyAlarms: [cloudwatch.Alarm.fromAlarmArn(stack, 'Latency', alarmArn)],
    }));
    expect(runbooks.stateMachines).toHaveLength(4);
    expect(machineNames(t)).toContain('pipestream-production-emergency-scale-up');
    const planner = Object.keys(t.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('RunbooksPlanner'))!;
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], resources: [alarmArn], detail: { state: { value: ['ALARM'] } } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [planner, 'Arn'] } })],
    });
    // cdk-nag finds nothing unacknowledged in a stack with a known account and region either: the node group
    // and the imported function's versions (`<arn>:*`) are acknowledged by the ARNs the grants name.
    const findings = new AwsSolutionsChecks(runbooks.node.root).validateScope(runbooks).violations.map((v) => v.ruleName);
    expect(findings).toEqual([]);
    // The planner starts the emergency runbook by name (a Ref would be circular: the runbook invokes the planner).
    expect(allowing(statementsOf(t, 'RunbooksPlannerRole'), 'states:StartExecution')[0]!.Resource).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:pipestream-production-emergency-scale-up',
    );
  });

  it('watches itself: an alarm on failed, timed-out or aborted executions of each runbook', () => {
    const { runbooks, template: t } = build();
    expect(runbooks.failureAlarms).toHaveLength(3);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipestream-production-scale-for-event-failed',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' })]),
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
    });
  });

  it("the planner may read every target's alarms and health alarms (the rollout's gates), and no other alarm", () => {
    const health = ['pipestream-production-engine-memory', 'pipestream-production-engine-latencyP95'];
    const { template: t } = build(() => ({
      document: designDocument((doc) => {
        (doc.targets as Record<string, unknown>[])[0]!.healthAlarms = health;
      }),
    }));
    const reads = allowing(statementsOf(t, 'RunbooksPlannerRole'), 'cloudwatch:DescribeAlarms');
    expect(reads).toHaveLength(1);
    const alarmArn = (name: string) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`;
    expect([reads[0]!.Resource].flat()).toEqual(expect.arrayContaining(health.map(alarmArn)));
    expect([reads[0]!.Resource].flat()).not.toContain('*');
  });

  it('changes nothing directly: the state machines publish and invoke the planner, which writes holds', () => {
    const { template: t } = build();
    const machines = statementsOf(t, 'RunbooksScaleForEventStateMachineRole');
    expect(allowing(machines, 'sns:Publish')).toHaveLength(1);
    expect(machines.some((s) => [s.Action].flat().some((a: string) => a.startsWith('application-autoscaling:') || a === 'ecs:UpdateService'))).toBe(false);
    expect(allowing(statementsOf(t, 'RunbooksPlannerRole'), 'dynamodb:PutItem')).toHaveLength(1);
  });
});
