/**
 * Drives `main([...argv])` in-process with stdout/stderr captured and AWS
 * mocked by aws-sdk-client-mock over a small fake account: ECS clusters and
 * services, their scalable targets, EKS clusters and node groups, and the
 * runbook state machines. Tests change `world` before a run and read the
 * mocks' calls after it.
 */
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  type ScalableTarget,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand as ListEcsClustersCommand,
  ListServicesCommand,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand as ListEksClustersCommand,
  ListNodegroupsCommand,
  type Nodegroup,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateNodegroupConfigCommand,
} from '@aws-sdk/client-eks';
import { ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { expect } from 'vitest';
import type { RunResult } from '../cli-runner';
import { awsError } from '../handlers/aws-errors';

export const ecs = mockClient(ECSClient);
export const autoscaling = mockClient(ApplicationAutoScalingClient);
export const eks = mockClient(EKSClient);
export const sfn = mockClient(SFNClient);
export const allMocks = [ecs, autoscaling, eks, sfn];

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const stateMachineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

export interface SuspendedState {
  DynamicScalingInSuspended: boolean;
  DynamicScalingOutSuspended: boolean;
  ScheduledScalingSuspended: boolean;
}
export const NONE: SuspendedState = { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false };
export const ALL: SuspendedState = { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: true };

export interface World {
  /** ECS clusters and their services. */
  ecs: Record<string, Service[]>;
  /** Scalable targets by resource ID. */
  targets: ScalableTarget[];
  /** EKS clusters and their node groups. */
  eks: Record<string, Nodegroup[]>;
  stateMachines: string[];
}

export const world: World = { ecs: {}, targets: [], eks: {}, stateMachines: [] };

export function service(name: string, desired: number, running = desired, extra: Partial<Service> = {}): Service {
  return { serviceName: name, status: 'ACTIVE', desiredCount: desired, runningCount: running, pendingCount: 0, ...extra };
}

export function target(cluster: string, name: string, min: number, max: number, suspended: SuspendedState = NONE): ScalableTarget {
  return {
    ServiceNamespace: 'ecs',
    ScalableDimension: 'ecs:service:DesiredCount',
    ResourceId: `service/${cluster}/${name}`,
    MinCapacity: min,
    MaxCapacity: max,
    RoleARN: 'arn:aws:iam::123456789012:role/aws-service-role',
    CreationTime: new Date('2026-01-01T00:00:00Z'),
    SuspendedState: suspended,
  };
}

export function nodegroup(cluster: string, name: string, min: number, desired: number, max: number, extra: Partial<Nodegroup> = {}): Nodegroup {
  return {
    nodegroupName: name,
    clusterName: cluster,
    nodegroupArn: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${cluster}/${name}/0c1`,
    status: 'ACTIVE',
    scalingConfig: { minSize: min, desiredSize: desired, maxSize: max },
    tags: {},
    ...extra,
  };
}

const clusterNotFound = () => awsError('ClusterNotFoundException', 400, 'Cluster not found.');
const eksNotFound = (what: string) => awsError('ResourceNotFoundException', 404, `No ${what} found`);

/** Reads answer from `world`; writes succeed. Every test starts from here. */
export function resetAws(): void {
  for (const m of allMocks) m.reset();
  world.ecs = {};
  world.targets = [];
  world.eks = {};
  world.stateMachines = [];

  ecs.on(ListEcsClustersCommand).callsFake(async () => ({ clusterArns: Object.keys(world.ecs).map((c) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${c}`) }));
  ecs.on(ListServicesCommand).callsFake(async ({ cluster }: { cluster: string }) => {
    const services = world.ecs[cluster];
    if (!services) throw clusterNotFound();
    return { serviceArns: services.map((s) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${s.serviceName}`) };
  });
  ecs.on(DescribeServicesCommand).callsFake(async ({ cluster, services }: { cluster: string; services: string[] }) => {
    const known = world.ecs[cluster ?? 'default'];
    if (!known) throw clusterNotFound();
    return {
      services: known.filter((s) => services.includes(s.serviceName!)),
      failures: services.filter((n) => !known.some((s) => s.serviceName === n)).map((n) => ({ arn: n, reason: 'MISSING' })),
    };
  });
  ecs.on(UpdateServiceCommand).resolves({});

  autoscaling.on(DescribeScalableTargetsCommand).callsFake(async ({ ResourceIds }: { ResourceIds?: string[] }) => ({
    ScalableTargets: world.targets.filter((t) => !ResourceIds || ResourceIds.includes(t.ResourceId!)),
  }));
  autoscaling.on(RegisterScalableTargetCommand).resolves({});

  eks.on(ListEksClustersCommand).callsFake(async () => ({ clusters: Object.keys(world.eks) }));
  eks.on(ListNodegroupsCommand).callsFake(async ({ clusterName }: { clusterName: string }) => {
    const groups = world.eks[clusterName];
    if (!groups) throw eksNotFound(`cluster ${clusterName}`);
    return { nodegroups: groups.map((g) => g.nodegroupName) };
  });
  eks.on(DescribeNodegroupCommand).callsFake(async ({ clusterName, nodegroupName }: { clusterName: string; nodegroupName: string }) => {
    const ng = world.eks[clusterName]?.find((g) => g.nodegroupName === nodegroupName);
    if (!ng) throw eksNotFound(`node group ${nodegroupName}`);
    return { nodegroup: ng };
  });
  eks.on(UpdateNodegroupConfigCommand).resolves({ update: { id: 'u-1', status: 'InProgress' } });
  eks.on(TagResourceCommand).resolves({});
  eks.on(UntagResourceCommand).resolves({});

  sfn.on(ListStateMachinesCommand).callsFake(async () => ({
    stateMachines: world.stateMachines.map((name) => ({ name, stateMachineArn: stateMachineArn(name), type: 'STANDARD', creationDate: new Date() })),
  }));
}

export { run, type RunResult } from '../cli-runner';

export const lines = (text: string) => text.split('\n').filter((l) => l !== '');

/** No call that changes anything reached AWS. */
export function expectNothingChanged(): void {
  expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  expect(autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  expect(autoscaling).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
  expect(autoscaling).not.toHaveReceivedCommand(PutScheduledActionCommand);
  expect(eks).not.toHaveReceivedCommand(UpdateNodegroupConfigCommand);
  expect(eks).not.toHaveReceivedCommand(TagResourceCommand);
  expect(eks).not.toHaveReceivedCommand(UntagResourceCommand);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
}

/** No call at all reached AWS (arguments are checked first). */
export function expectNoAwsCalls(): void {
  for (const m of allMocks) expect(m.calls()).toHaveLength(0);
}

/** One line, `Error: ...`, non-zero exit, nothing on stdout. */
export function expectOneLineError(result: RunResult, message: string | RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(lines(result.stderr)).toHaveLength(1);
  expect(result.stderr.startsWith('Error: ')).toBe(true);
  if (typeof message === 'string') expect(result.stderr.trim()).toBe(message);
  else expect(result.stderr.trim()).toMatch(message);
}
