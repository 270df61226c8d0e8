import { type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { EmergencyScaleUpRunbook } from '../../lib/constructs/runbooks/emergency-scale-up';
import { GpuNodegroupScaleRunbook } from '../../lib/constructs/runbooks/gpu-nodegroup-scale';
import { ScaleForEventRunbook } from '../../lib/constructs/runbooks/scale-for-event';
import { runbook, taskStates } from '../runbooks/definition';
import { ACCOUNT, allowing, designDocument, existingTopic, freshStack, REGION, statementsOf } from './fixtures';

const PLANNER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:runbook`;
const EMERGENCY_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:emergency`;
const fn = (stack: Stack, id: string, functionArn: string) => lambda.Function.fromFunctionAttributes(stack, id, { functionArn, sameEnvironment: true });

interface Case {
  readonly name: string;
  readonly role: string;
  readonly functions: readonly string[];
  readonly build: (stack: Stack) => Construct;
}

/** Each runbook construct alone, in a fresh Stack (the Runbooks construct composes them: test/constructs/runbooks.test.ts). */
const CASES: readonly Case[] = [
  {
    name: 'pipestream-production-scale-for-event',
    role: 'EventStateMachineRole',
    functions: [PLANNER_ARN],
    build: (stack) =>
      new ScaleForEventRunbook(stack, 'Event', { runbookFunction: fn(stack, 'Planner', PLANNER_ARN), targets: designDocument().targets, topic: existingTopic(stack), stateMachineName: 'pipestream-production-scale-for-event' }),
  },
  {
    name: 'pipestream-production-emergency-scale-up',
    role: 'EmergencyStateMachineRole',
    functions: [PLANNER_ARN, EMERGENCY_ARN],
    build: (stack) =>
      new EmergencyScaleUpRunbook(stack, 'Emergency', {
        runbookFunction: fn(stack, 'Planner', PLANNER_ARN),
        emergencyFunction: fn(stack, 'EmergencyFn', EMERGENCY_ARN),
        targets: designDocument().targets,
        topic: existingTopic(stack),
        stateMachineName: 'pipestream-production-emergency-scale-up',
      }),
  },
  {
    name: 'pipestream-production-gpu-nodegroup-scale',
    role: 'NodegroupStateMachineRole',
    functions: [PLANNER_ARN],
    build: (stack) =>
      new GpuNodegroupScaleRunbook(stack, 'Nodegroup', { runbookFunction: fn(stack, 'Planner', PLANNER_ARN), targets: designDocument().targets, topic: existingTopic(stack), stateMachineName: 'pipestream-production-gpu-nodegroup-scale' }),
  },
];

describe.each(CASES)('Construct: runbook $name (alone, in a fresh Stack)', (c) => {
  const build = () => {
    const stack = freshStack();
    const construct = c.build(stack);
    return { construct, template: Template.fromStack(stack) };
  };

  it('a Standard state machine under the name the CLI looks for, traced, starting with its plan, every Task catching every error', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: c.name, StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true } });
    const rb = runbook(template, c.name);
    expect(rb.states[rb.definition.StartAt]).toMatchObject({ Type: 'Task', Resource: PLANNER_ARN });
    expect(taskStates(rb).filter(([, s]) => !(s.Catch ?? []).some((x) => x.ErrorEquals.includes('States.ALL'))).map(([n]) => n)).toEqual([]);
  });

  it('its role invokes its Lambdas and publishes to the topic, and writes nothing else in AWS', () => {
    const statements = statementsOf(build().template, c.role);
    const invoked = JSON.stringify(allowing(statements, 'lambda:InvokeFunction').map((s) => s.Resource));
    for (const arn of c.functions) expect(invoked).toContain(arn);
    expect(allowing(statements, 'sns:Publish')).toHaveLength(1);
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]).filter((a) => !/^(logs|xray):/.test(a));
    expect(actions.filter((a) => /^(application-autoscaling|dynamodb):|Update|Delete|Create/.test(a))).toEqual([]);
  });

  it('cdk-nag finds nothing unacknowledged', () => {
    const { construct } = build();
    expect(new AwsSolutionsChecks().validateScope(construct).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
