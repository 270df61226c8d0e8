import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ROLLOUT_TIMEOUT_MINUTES } from '../../lambdas/core/rollout-plan';
import { RolloutRunbook, type RolloutRunbookProps } from '../../lib/constructs/runbooks/rollout';
import { runbook, taskStates } from '../runbooks/definition';
import { ACCOUNT, allowing, designDocument, existingTopic, freshStack, REGION, statementsOf } from './fixtures';

const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:runbook`;
const NAME = 'pipestream-production-rollout';

function build(props: Partial<RolloutRunbookProps> = {}) {
  const stack = freshStack();
  const runbookFunction = lambda.Function.fromFunctionAttributes(stack, 'Planner', { functionArn: FUNCTION_ARN, sameEnvironment: true });
  const construct = new RolloutRunbook(stack, 'Rollout', { runbookFunction, targets: designDocument().targets, topic: existingTopic(stack), stateMachineName: NAME, ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('Construct: RolloutRunbook', () => {
  it('a Standard state machine under the name the CLI looks for, traced, every event logged, timing out after the longest plan', () => {
    const { template: t } = build();
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: NAME, StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true } });
    const rb = runbook(t, NAME);
    expect((rb.definition as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(ROLLOUT_TIMEOUT_MINUTES * 60);
    expect(rb.definition.StartAt).toBe('Plan');
  });

  it("raises in a state the CLI knows by name ('Raise to the step'), through the runbook Lambda's hold action, after 'Next step' set $.step", () => {
    const rb = runbook(build().template, NAME);
    expect(rb.states['Next step']).toMatchObject({ Type: 'Pass', ResultPath: '$.step', Next: 'Raise to the step' });
    expect(rb.states['Next step']!.Parameters).toEqual({
      'index.$': '$.next.index',
      'number.$': 'States.MathAdd($.next.index, 1)',
      'replicas.$': 'States.ArrayGetItem($.plan.steps, $.next.index)',
    });
    const raise = rb.states['Raise to the step']!;
    expect(raise).toMatchObject({ Type: 'Task', Resource: FUNCTION_ARN, ResultPath: '$.held' });
    expect(raise.Parameters).toMatchObject({ action: 'hold', 'holder.$': '$.plan.holder', 'floor.$': '$.step.replicas', 'until.$': '$.plan.until' });
  });

  it('calls nothing but its Lambda, reads and the topic; every Task catches every error', () => {
    const rb = runbook(build().template, NAME);
    const resources = new Set(taskStates(rb).map(([, s]) => s.Resource));
    expect([...resources].sort()).toEqual(['arn:aws:states:::aws-sdk:ecs:describeServices', 'arn:aws:states:::aws-sdk:eks:describeNodegroup', 'arn:aws:states:::sns:publish', FUNCTION_ARN].sort());
    expect(taskStates(rb).filter(([, s]) => !(s.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL'))).map(([n]) => n)).toEqual([]);
  });

  it("its role: invoke the runbook Lambda, describe the document's services and node groups, publish; no writes", () => {
    const statements = statementsOf(build().template, 'RolloutStateMachineRole');
    expect(JSON.stringify(allowing(statements, 'lambda:InvokeFunction')[0]!.Resource)).toContain(FUNCTION_ARN);
    expect(JSON.stringify(allowing(statements, 'ecs:DescribeServices')[0]!.Resource)).toContain('service/pipestream/engine');
    expect(JSON.stringify(allowing(statements, 'eks:DescribeNodegroup')[0]!.Resource)).toContain('nodegroup/ml-prod/gpu-workers/*');
    expect(allowing(statements, 'sns:Publish')).toHaveLength(1);
    // Beside the log delivery and tracing Step Functions' logging and X-Ray need (logs:*LogDelivery, xray:Put*).
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]).filter((a) => !/^(logs|xray):/.test(a));
    expect(actions.filter((a) => /^(application-autoscaling|dynamodb|cloudwatch):|Update|Put|Delete|Create/.test(a))).toEqual([]);
  });

  it('takes its log retention; a name CloudFormation generates when none is given', () => {
    const { template: t } = build({ stateMachineName: undefined, logRetention: logs.RetentionDays.ONE_WEEK });
    const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine')) as { Properties: Record<string, unknown> }[];
    expect(machine!.Properties.StateMachineName).toBeUndefined();
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('cdk-nag finds nothing unacknowledged', () => {
    const { construct } = build();
    expect(new AwsSolutionsChecks().validateScope(construct).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
