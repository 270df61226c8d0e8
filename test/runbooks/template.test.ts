import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_NAMES, type RunbookName } from '../../lib/constructs/runbooks/runbooks';
import { authorize, topics } from '../iam/kms';
import { ACCOUNT, evaluate, principalOfStateMachine, REGION, resourcesOf, type Principal } from '../iam/policy';
import { NODEGROUP_UUID } from '../iam/requests';
import { logicalId, ROOT } from '../util';
import { functionId, placeholderArn, taskStates } from './definition';
import { callFor, deployment, runbookOf, type Deployment } from './harness';

interface EksExample {
  eks: {
    clusterName: string;
    subnetIds: string[];
    nodeGroups: { name: string; instanceTypes: string[]; minSize: number; maxSize: number; desiredSize: number; capacityType?: string; diskSizeGiB?: number; labels?: Record<string, string> }[];
  };
}

const eksExample = JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as EksExample;
const example = deployment('default');
const eks = deployment('eks');
const NAMES = RUNBOOK_NAMES.map((n) => `pipestream-production-${n}`);

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (d: Deployment) => resourcesOf(d.template) as Readonly<Record<string, Resource>>;
const role = (d: Deployment, runbook: RunbookName) => principalOfStateMachine(d.template, runbookOf(d, runbook).name);
const allowed = (p: Principal, action: string, resource: string, context: Record<string, string> = {}) => evaluate(p, { action, resources: [resource], context }).allowed;
const serviceArn = (cluster: string, service: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${service}`;
const nodegroupArn = (cluster: string, nodegroup: string) => `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${cluster}/${nodegroup}/${NODEGROUP_UUID}`;

describe('runbook state machines', () => {
  it('the four runbooks exist under <pipeline>-<environment>-<runbook> when there are node groups', () => {
    const names = Object.values(eks.template.findResources('AWS::StepFunctions::StateMachine')).map((r) => r.Properties.StateMachineName);
    expect(names.sort()).toEqual([...NAMES].sort());
  });

  it('gpu-nodegroup-scale exists only when the config has EKS node groups', () => {
    const names = Object.values(example.template.findResources('AWS::StepFunctions::StateMachine')).map((r) => r.Properties.StateMachineName);
    expect(names.sort()).toEqual(['pipestream-production-emergency-scale-up', 'pipestream-production-rollout', 'pipestream-production-scale-for-event']);
  });

  it.each(RUNBOOK_NAMES)('%s is a Standard state machine with X-Ray tracing and every event logged with its data to its own log group', (name) => {
    const rb = runbookOf(eks, name);
    const props = resources(eks)[rb.logicalId]!.Properties;
    expect(props).toMatchObject({ StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true } });
    const destinations = (props.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[] }).Destinations;
    expect(destinations).toHaveLength(1);
    const logGroup = destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(resources(eks)[logGroup]!.Type).toBe('AWS::Logs::LogGroup');
    // The machine's own group (<machine path>Logs), not another construct's.
    expect(logGroup.startsWith(rb.logicalId.replace(/StateMachine[0-9A-F]{8}$/, 'StateMachineLogs'))).toBe(true);
  });

  it.each(RUNBOOK_NAMES)('%s changes nothing directly: its only Tasks are Lambda invocations, reads and notifications', (name) => {
    const calls = new Set(taskStates(runbookOf(eks, name)).map(([, s]) => callFor(eks, s.Resource!)));
    expect([...calls].filter((c) => !/^lambda:|^sns:publish$|:describe[A-Z]/.test(c))).toEqual([]);
  });
});

describe('IAM of the state machine roles', () => {
  it.each(RUNBOOK_NAMES)('%s may not change capacity or holds: no Application Auto Scaling, ECS or EKS writes, no holds table', (name) => {
    const p = role(eks, name);
    expect(p.statements.flatMap((s) => s.actions).filter((a) => /^(application-autoscaling|applicationautoscaling|dynamodb):|^\*$|:\*$/.test(a))).toEqual([]);
    const denied = eks.doc.targets.flatMap((t) =>
      t.kind === 'ecs-service'
        ? [
            allowed(p, 'ecs:UpdateService', serviceArn(t.cluster, t.service)) && `ecs:UpdateService ${t.name}`,
            allowed(p, 'application-autoscaling:RegisterScalableTarget', '*', { 'application-autoscaling:service-namespace': 'ecs', 'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount' }) &&
              'application-autoscaling:RegisterScalableTarget',
          ]
        : [allowed(p, 'eks:UpdateNodegroupConfig', nodegroupArn(t.cluster, t.nodegroup)) && `eks:UpdateNodegroupConfig ${t.name}`],
    );
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${eks.holdsTable}`;
    expect([...denied, allowed(p, 'dynamodb:PutItem', table) && 'dynamodb:PutItem', allowed(p, 'dynamodb:DeleteItem', table) && 'dynamodb:DeleteItem'].filter(Boolean)).toEqual([]);
  });

  it.each([
    ['scale-for-event', () => eks.doc.targets],
    ['emergency-scale-up', () => eks.doc.targets.filter((t) => t.emergencyEnabled)],
    ['gpu-nodegroup-scale', () => eks.doc.targets.filter((t) => t.kind === 'eks-nodegroup')],
    ['rollout', () => eks.doc.targets],
  ] as const)('%s reads only the targets it may run on', (name, targets) => {
    const p = role(eks, name);
    const mine = new Set(targets().map((t) => t.name));
    const reads = eks.doc.targets.map((t) =>
      t.kind === 'ecs-service' ? [t.name, allowed(p, 'ecs:DescribeServices', serviceArn(t.cluster, t.service))] : [t.name, allowed(p, 'eks:DescribeNodegroup', nodegroupArn(t.cluster, t.nodegroup))],
    );
    expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(eks.doc.targets.map((t) => [t.name, mine.has(t.name)])));
    expect(allowed(p, 'ecs:DescribeServices', serviceArn('pipestream-production', 'not-managed'))).toBe(false);
  });

  it.each([
    ['scale-for-event', ['runbook']],
    ['emergency-scale-up', ['runbook', 'emergency']],
    ['gpu-nodegroup-scale', ['runbook']],
    ['rollout', ['runbook']],
  ] as const)('%s invokes only its Lambdas (%s)', (name, lambdas) => {
    const p = role(eks, name);
    const functions = Object.keys(eks.template.findResources('AWS::Lambda::Function')).map((id) => placeholderArn(eks.template, id));
    const mine = lambdas.map((l) => eks.lambdaArns[l]);
    expect(functions.filter((arn) => allowed(p, 'lambda:InvokeFunction', arn)).sort()).toEqual([...mine].sort());
  });

  it.each(RUNBOOK_NAMES)('%s may publish to the KMS-encrypted topic: sns:Publish, and kms:GenerateDataKey and kms:Decrypt on its key', (name) => {
    const encrypted = [...topics(eks.template).values()].filter((t) => t.key?.kind === 'template');
    expect(encrypted).toHaveLength(1);
    const topic = encrypted[0]!;
    const a = authorize(role(eks, name), { action: 'sns:Publish', resources: [topic.arn], context: {} });
    expect(a.allowed, a.reason).toBe(true);
    expect(a.checks.map((c) => [c.action, c.resource, c.decision.allowed])).toEqual([
      ['sns:Publish', topic.arn, true],
      ['kms:GenerateDataKey', topic.key!.kind === 'template' ? topic.key!.arn : '', true],
      ['kms:Decrypt', topic.key!.kind === 'template' ? topic.key!.arn : '', true],
    ]);
  });

  it('the emergency runbook does not read alarms itself: the runbook Lambda does, under its own role', () => {
    const p = role(example, 'emergency-scale-up');
    const alarms = example.doc.targets.flatMap((t) => t.alarms);
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(allowed(p, 'cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarm}`)).toBe(false);
    const task = taskStates(runbookOf(example, 'emergency-scale-up')).find(([n]) => n === 'Read alarm states')!;
    expect(callFor(example, task[1].Resource!)).toBe('lambda:runbook');
  });

  it("the rollout's health gates: the runbook Lambda may read every target's health alarms, the state machine none", () => {
    const alarm = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
    const health = example.doc.targets.flatMap((t) => t.healthAlarms);
    expect(health.length).toBeGreaterThan(3);
    expect(health.filter((a) => !allowed(example.principals.runbook, 'cloudwatch:DescribeAlarms', alarm(a)))).toEqual([]);
    expect(health.filter((a) => allowed(role(example, 'rollout'), 'cloudwatch:DescribeAlarms', alarm(a)))).toEqual([]);
    expect(allowed(example.principals.runbook, 'cloudwatch:DescribeAlarms', alarm('someone-elses-alarm'))).toBe(false);
    const task = taskStates(runbookOf(example, 'rollout')).find(([n]) => n === 'Read alarm states')!;
    expect(callFor(example, task[1].Resource!)).toBe('lambda:runbook');
  });
});

describe('steps that release retry patiently and report when they cannot', () => {
  const RELEASES: readonly [RunbookName, readonly string[], readonly string[]][] = [
    ['scale-for-event', ['Release the hold', 'Release after failure'], ['Plan', 'Hold capacity for the event']],
    ['emergency-scale-up', ['Resume autoscaler', 'Resume after failure'], ['Plan', 'Double capacity']],
    ['gpu-nodegroup-scale', ['Release the hold'], ['Plan', 'Hold the size']],
    // Keeping the last healthy step puts a hold back as much as a release does.
    ['rollout', ['Keep the last healthy step', 'Release the hold'], ['Plan', 'Raise to the step']],
  ];

  it.each(RELEASES)('%s: a release retries any error for minutes, after the transient retrier; forward steps do not', (name, releases, forward) => {
    const rb = runbookOf(eks, name);
    for (const state of releases) expect(rb.states[state]!.Retry?.at(-1), state).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 6 });
    // A step that raises capacity does not retry every error: that would mask a real refusal.
    for (const state of forward) expect(rb.states[state]!.Retry?.some((r) => r.ErrorEquals.includes('States.ALL')), state).toBe(false);
  });

  it.each(RELEASES)('%s: a release that fails for good is reported through the topic, not silent', (name, releases) => {
    const rb = runbookOf(eks, name);
    for (const state of releases) {
      const next = rb.states[state]!.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next;
      expect(rb.states[next ?? '']?.Resource, state).toBe('arn:aws:states:::sns:publish');
      expect(JSON.stringify(rb.states[next!]!.Parameters), state).toMatch(/could not (release|keep)/);
    }
  });
});

describe('EventBridge wiring of the emergency runbook', () => {
  const template = example.template;
  const planner = functionId(template, 'RunbooksPlanner');
  const alarmIds = Object.entries(resources(example))
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

  it('the rule targets the runbook Lambda (which starts the runbook under an incident name), with retries and a bounded event age', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } });
    expect(Object.keys(rules)).toHaveLength(1);
    const [ruleId, rule] = Object.entries(rules)[0]!;
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [planner, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 } })]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [planner, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('the runbook Lambda may start exactly the emergency state machine', () => {
    const p = example.principals.runbook;
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).map((id) => placeholderArn(template, id));
    expect(machines.filter((arn) => allowed(p, 'states:StartExecution', arn))).toEqual([example.env.MLSCALE_EMERGENCY_RUNBOOK_ARN]);
  });

  it("the alarms in the runbook Lambda's document are the alarms the rule listens to", () => {
    const names = alarmIds.map((id) => String(resources(example)[id]!.Properties.AlarmName)).sort();
    expect(example.doc.targets.flatMap((t) => t.alarms).sort()).toEqual(names);
  });
});

describe('Runbooks: watching themselves', () => {
  it.each([
    [example, ['scale-for-event', 'emergency-scale-up', 'rollout']],
    [eks, RUNBOOK_NAMES],
  ] as const)('alarms on failed, timed-out or aborted executions of every runbook ($0.config)', (d, names) => {
    const topic = logicalId(d.template, 'AWS::SNS::Topic', 'NotificationsTopic');
    for (const name of names) {
      d.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `pipestream-production-${name}-failed`,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' })]),
        AlarmActions: [{ Ref: topic }],
      });
    }
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
