/**
 * Serve every AWS SDK call of the code under test from a FakeAws, through
 * aws-sdk-client-mock (the SDK's commands are built and sent as in
 * production; only the transport is replaced). `installFakeAws` returns the
 * mocks, so a test can still assert on the commands sent.
 */
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand as ListEcsClustersCommand,
  ListServicesCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeNodegroupCommand, EKSClient, ListClustersCommand as ListEksClustersCommand, ListNodegroupsCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { FakeAws } from './aws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = new (input: any) => any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = new (config: any) => any;

/** Every command mlscale sends, by client, with the fake's name for it. */
const COMMANDS: readonly [AnyClient, string, readonly [AnyCommand, string][]][] = [
  [ECSClient, 'ecs', [[DescribeServicesCommand, 'describeServices'], [UpdateServiceCommand, 'updateService'], [ListEcsClustersCommand, 'listClusters'], [ListServicesCommand, 'listServices'], [DescribeTaskDefinitionCommand, 'describeTaskDefinition']]],
  [
    ApplicationAutoScalingClient,
    'applicationautoscaling',
    [[DescribeScalableTargetsCommand, 'describeScalableTargets'], [RegisterScalableTargetCommand, 'registerScalableTarget'], [DeregisterScalableTargetCommand, 'deregisterScalableTarget']],
  ],
  [
    EKSClient,
    'eks',
    [[DescribeNodegroupCommand, 'describeNodegroup'], [UpdateNodegroupConfigCommand, 'updateNodegroupConfig'], [ListEksClustersCommand, 'listClusters'], [ListNodegroupsCommand, 'listNodegroups']],
  ],
  [CloudWatchClient, 'cloudwatch', [[GetMetricDataCommand, 'getMetricData'], [PutMetricDataCommand, 'putMetricData'], [DescribeAlarmsCommand, 'describeAlarms']]],
  [DynamoDBClient, 'dynamodb', [[QueryCommand, 'query'], [ScanCommand, 'scan'], [PutItemCommand, 'putItem'], [DeleteItemCommand, 'deleteItem']]],
  [
    SFNClient,
    'sfn',
    [[StartExecutionCommand, 'startExecution'], [ListStateMachinesCommand, 'listStateMachines'], [DescribeExecutionCommand, 'describeExecution'], [GetExecutionHistoryCommand, 'getExecutionHistory']],
  ],
  [SNSClient, 'sns', [[PublishCommand, 'publish']]],
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Mocks = Record<string, AwsStub<any, any, any>>;

let installed: Mocks | undefined;

/** Route every SDK call to `fake` (replacing a fake installed before). */
export function installFakeAws(fake: FakeAws): Mocks {
  installed ??= Object.fromEntries(COMMANDS.map(([client, prefix]) => [prefix, mockClient(client)]));
  for (const [, prefix, commands] of COMMANDS) {
    const mock = installed[prefix]!;
    mock.reset();
    for (const [command, name] of commands) mock.on(command).callsFake((input: unknown) => fake.handle(`${prefix}:${name}`, structuredClone(input), 'sdk'));
  }
  return installed;
}

/** Stop routing SDK calls to a fake (calls then reach nothing: the mocks answer undefined). */
export function resetFakeAws(): void {
  for (const mock of Object.values(installed ?? {})) mock.reset();
}
