import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { exampleConfig, logicalId, ROOT, synth } from '../util';
import { functionEnvironment, placeholderArn, reachable, resolveValue, runbook, taskStates, type Runbook } from './definition';
import { deploy, type Deployment } from './harness';

interface EksExample {
  eks: {
    clusterName: string;
    subnetIds: string[];
    nodeGroups: { name: string; instanceTypes: string[]; minSize: number; maxSize: number; desiredSize: number; capacityType?: string; diskSizeGiB?: number; labels?: Record<string, string> }[];
  };
}

const eksJson = readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8');
const eksExample = JSON.parse(eksJson) as EksExample;

const example: Deployment = deploy(exampleConfig());
const eks: Deployment = deploy(JSON.parse(eksJson) as ConfigInput);

const NAMES = ['pipestream-production-scale-for-event', 'pipestream-production-emergency-scale-up', 'pipestream-production-gpu-nodegroup-scale'];

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (template: Template) => (template.toJSON() as { Resources: Record<string, Resource> }).Resources;

/** Actions and (resolved) resources of every statement of the policies attached to a state machine's role. */
function roleStatements(template: Template, rb: Runbook): { actions: string[]; resources: string[] }[] {
  const machine = resources(template)[rb.logicalId]!;
  const roleId = (machine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resources(template))
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
    .map((s) => ({
      actions: [s.Action].flat(),
      resources: [s.Resource].flat().map((v) => resolveValue(template, v)),
    }));
}

describe('runbook state machines', () => {
  it('the three runbooks exist under <pipeline>-<environment>-<runbook> when there are node groups', () => {
    const names = Object.values(eks.template.findResources('AWS::StepFunctions::StateMachine')).map((r) => r.Properties.StateMachineName);
    expect(names.sort()).toEqual([...NAMES].sort());
  });

  it('gpu-nodegroup-scale exists only when the config has EKS node groups', () => {
    const names = Object.values(example.template.findResources('AWS::StepFunctions::StateMachine')).map((r) => r.Properties.StateMachineName);
    expect(names.sort()).toEqual(['pipestream-production-emergency-scale-up', 'pipestream-production-scale-for-event']);
  });

  it.each(NAMES)('%s is a Standard state machine with X-Ray tracing and every event logged with its data to its own log group', (name) => {
    const rb = runbook(eks.template, name);
    const props = resources(eks.template)[rb.logicalId]!.Properties;
    expect(props).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const destinations = (props.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[] }).Destinations;
    expect(destinations).toHaveLength(1);
    const logGroup = destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(resources(eks.template)[logGroup]!.Type).toBe('AWS::Logs::LogGroup');
    // The machine's own group (<machine path>Logs), not another construct's.
    expect(logGroup.startsWith(rb.logicalId.replace(/StateMachine[0-9A-F]{8}$/, 'StateMachineLogs'))).toBe(true);
  });

  it.each(NAMES)('%s: every Task retries throttling', (name) => {
    const rb = runbook(eks.template, name);
    const missing = taskStates(rb)
      .filter(([, s]) => !(s.Retry ?? []).some((r) => r.ErrorEquals.some((e) => /ThrottlingException$|^Lambda\.TooManyRequestsException$/.test(e)) && (r.MaxAttempts ?? 3) >= 1))
      .map(([n]) => n);
    expect(taskStates(rb).length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  /**
   * The stretch between a capacity change and its undo: every Task there must
   * catch every error and go to the undo (restore / resume). Traversal starts
   * after the change and stops at the undo (and, for the node group, at the
   * success report: the requested size is the intended end state, not a
   * temporary one).
   */
  it.each([
    ['pipestream-production-scale-for-event', 'Raise: which kind?', /^Restore/, 'Restore after failure: which kind?'],
    ['pipestream-production-emergency-scale-up', 'Report start', /^Resume/, 'Resume after failure'],
    ['pipestream-production-gpu-nodegroup-scale', 'Wait', /^Restore previous size$|^Report done$/, 'Restore previous size'],
  ])('%s: every Task after the capacity change (from "%s") catches every error into the undo', (name, from, undo, undoStart) => {
    const rb = runbook(eks.template, name);
    const region = reachable(rb, from, (s) => undo.test(s));
    const tasks = [...region].filter((s) => rb.states[s]!.Type === 'Task' && !undo.test(s));
    expect(tasks.length).toBeGreaterThan(1);
    const uncaught = tasks.filter((s) => !(rb.states[s]!.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL') && c.Next === undoStart));
    expect(uncaught).toEqual([]);
  });

  it.each([
    ['pipestream-production-scale-for-event', /^Restore (after failure )?(limits|desired count|node group)$/, 'Report restore failure'],
    ['pipestream-production-emergency-scale-up', /^Resume (autoscaler|after failure)$/, 'Report resume failure'],
    ['pipestream-production-gpu-nodegroup-scale', /^Restore previous size$/, 'Report restore failure'],
  ])('%s: an undo step that fails is reported (CRITICAL), not silent', (name, undoTask, report) => {
    const rb = runbook(eks.template, name);
    const undos = taskStates(rb).filter(([s]) => undoTask.test(s));
    expect(undos.length).toBeGreaterThan(0);
    for (const [s, state] of undos) expect({ s, catches: state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL') && c.Next === report) }).toEqual({ s, catches: true });
    expect(JSON.stringify(rb.states[report]!.Parameters)).toContain('CRITICAL');
  });

  describe('IAM of the state machine roles', () => {
    it('scale-for-event uses the IAM prefix application-autoscaling: for Application Auto Scaling, never the SDK name applicationautoscaling:', () => {
      const statements = roleStatements(eks.template, runbook(eks.template, 'pipestream-production-scale-for-event'));
      const actions = statements.flatMap((s) => s.actions);
      expect(actions).toEqual(expect.arrayContaining(['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:DescribeScalableTargets']));
      for (const name of NAMES) {
        const all = roleStatements(eks.template, runbook(eks.template, name)).flatMap((s) => s.actions);
        expect(all.filter((a) => a.startsWith('applicationautoscaling:'))).toEqual([]);
      }
    });

    it('ECS and EKS writes are scoped to the configured services and node groups', () => {
      const statements = roleStatements(eks.template, runbook(eks.template, 'pipestream-production-scale-for-event'));
      const ecs = statements.find((s) => s.actions.includes('ecs:UpdateService'))!;
      const services = eks.doc.targets.filter((t) => t.kind === 'ecs-service').map((t) => `arn:aws:ecs:eu-west-1:123456789012:service/${t.cluster}/${t.service}`);
      expect(ecs.resources.sort()).toEqual(services.sort());
      const nodegroups = eksExample.eks.nodeGroups.map((g) => `arn:aws:eks:eu-west-1:123456789012:nodegroup/ml-prod/${g.name}/*`).sort();
      expect(statements.find((s) => s.actions.includes('eks:UpdateNodegroupConfig'))!.resources.sort()).toEqual(nodegroups);
      const gpu = roleStatements(eks.template, runbook(eks.template, 'pipestream-production-gpu-nodegroup-scale'));
      expect(gpu.find((s) => s.actions.includes('eks:UpdateNodegroupConfig'))!.resources.sort()).toEqual(nodegroups);
      expect(gpu.flatMap((s) => s.actions).filter((a) => a.startsWith('ecs:') || a.startsWith('application-autoscaling:'))).toEqual([]);
    });

    it('the emergency runbook reads only the targets\' alarms and invokes only the planner and emergency Lambdas', () => {
      const rb = runbook(example.template, 'pipestream-production-emergency-scale-up');
      const statements = roleStatements(example.template, rb);
      const alarms = example.doc.targets.flatMap((t) => t.alarms).map((a) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${a}`);
      expect(alarms.length).toBeGreaterThan(0);
      expect(statements.find((s) => s.actions.includes('cloudwatch:DescribeAlarms'))!.resources.sort()).toEqual(alarms.sort());
      const invoked = statements.find((s) => s.actions.includes('lambda:InvokeFunction'))!.resources.filter((r) => !r.endsWith(':*'));
      expect(invoked.sort()).toEqual([example.plannerArn, example.emergencyArn!].sort());
    });
  });
});

describe('EventBridge wiring of the emergency runbook', () => {
  const template = example.template;
  const planner = logicalId(template, 'AWS::Lambda::Function', 'RunbooksPlannerFunction');
  const alarmIds = Object.entries(resources(template))
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && /-emergencyLatency$/.test(String(r.Properties.AlarmName)))
    .map(([id]) => id);

  it('a rule matches CloudWatch alarm state changes to ALARM of exactly the emergency alarms', () => {
    expect(alarmIds.length).toBeGreaterThan(0);
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { state: { value: ['ALARM'] } },
        resources: Match.arrayEquals(alarmIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))),
      },
    });
  });

  it('the rule targets the planner Lambda (which starts the runbook under an incident name), with retries and a bounded event age', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } });
    expect(Object.keys(rules)).toHaveLength(1);
    const [ruleId, rule] = Object.entries(rules)[0]!;
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [planner, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 } }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [planner, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('the planner starts exactly the emergency state machine: its ARN setting and its StartExecution permission name it', () => {
    const emergency = runbook(template, 'pipestream-production-emergency-scale-up');
    const arn = placeholderArn(template, emergency.logicalId);
    expect(functionEnvironment(template, planner).MLSCALE_EMERGENCY_RUNBOOK_ARN).toBe(arn);
    const role = (resources(template)[planner]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = Object.values(resources(template))
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const start = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(start.map((s) => [s.Resource].flat().map((v) => resolveValue(template, v)))).toEqual([[arn]]);
  });

  it('the alarm targets in the planner\'s document are the alarms the rule listens to', () => {
    const names = alarmIds.map((id) => String(resources(template)[id]!.Properties.AlarmName)).sort();
    expect(example.doc.targets.flatMap((t) => t.alarms).sort()).toEqual(names);
  });
});

describe('EKS GPU node groups (config/examples/eks-gpu.json)', () => {
  const template = eks.template;
  const groups = eksExample.eks.nodeGroups;

  it('one AWS::EKS::Nodegroup per configured node group', () => {
    const names = Object.values(template.findResources('AWS::EKS::Nodegroup')).map((r) => r.Properties.NodegroupName);
    expect(names.sort()).toEqual(groups.map((g) => g.name).sort());
  });

  it.each(groups.map((g) => [g.name, g] as const))('%s: instance types, NVIDIA AMI, capacity type, GPU taint and labels, scaling config, subnets', (name, g) => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: name,
      ClusterName: eksExample.eks.clusterName,
      InstanceTypes: g.instanceTypes,
      AmiType: 'AL2023_x86_64_NVIDIA',
      CapacityType: g.capacityType ?? 'ON_DEMAND',
      Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }],
      Labels: Match.objectEquals({ ...(g.labels ?? {}), 'node-class': 'gpu' }),
      ScalingConfig: { MinSize: g.minSize, MaxSize: g.maxSize, DesiredSize: g.desiredSize },
      Subnets: eksExample.eks.subnetIds,
      ...(g.diskSizeGiB ? { DiskSize: g.diskSizeGiB } : {}),
    });
  });

  it('gpu-g5 runs on Spot, the others on demand; gpu-p5 carries its extra label', () => {
    const byName = Object.fromEntries(Object.values(template.findResources('AWS::EKS::Nodegroup')).map((r) => [r.Properties.NodegroupName, r.Properties]));
    expect(byName['gpu-g5'].CapacityType).toBe('SPOT');
    expect(byName['gpu-p4d'].CapacityType).toBe('ON_DEMAND');
    expect(byName['gpu-p5'].Labels).toEqual({ 'gpu-model': 'h100', 'node-class': 'gpu' });
  });

  it('no node group without node groups in the config', () => {
    expect(Object.keys(example.template.findResources('AWS::EKS::Nodegroup'))).toEqual([]);
  });
});

describe('Runbooks: watching themselves', () => {
  const template = synth(exampleConfig(), 'production').template;

  it('alarms on failed, timed-out or aborted executions of every runbook', () => {
    for (const name of ['scale-for-event', 'emergency-scale-up']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `pipestream-production-${name}-failed`,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' })]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^NotificationsTopic') }],
      });
    }
  });

  it('retries the steps that put things back for minutes, on any error, after the transient retrier', () => {
    const patient = (rb: ReturnType<typeof runbook>, state: string) => {
      const retry = (rb.states[state] as unknown as { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }).Retry ?? [];
      return retry[retry.length - 1];
    };
    const emergency = runbook(template, 'pipestream-production-emergency-scale-up');
    for (const state of ['Resume autoscaler', 'Resume after failure']) {
      expect(patient(emergency, state)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 6 });
    }
    const event = runbook(template, 'pipestream-production-scale-for-event');
    for (const state of ['Restore limits', 'Restore desired count', 'Restore after failure limits']) {
      expect(patient(event, state)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 6 });
    }
    // A step that changes capacity forward does not retry every error (it would mask a real refusal).
    expect(patient(event, 'Raise limits')?.ErrorEquals).not.toEqual(['States.ALL']);
  });
});
