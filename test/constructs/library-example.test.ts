/**
 * The README's "Use as a library" example, as written there: a platform
 * team's own CDK app and stack, its existing network and cluster, and from
 * mlscale (imported by package name, through package.json "exports") an
 * InferencePool and the scalers that keep it in line. If this test has to
 * change, the README example changes with it (.scratch/library-readme.md).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmTopic, EmergencyScaler, HoldsTable, InferencePool, parseTargetsDocument, Reconciler } from 'mlscale';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../lib/cdk-context';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The example, verbatim from `const stack` on (the test's app skips bundling and the schema check, as every construct test does). */
function platformTeamApp() {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });

  // --- README example starts ---
  const stack = new Stack(app, 'MlPlatform', { env: { account: '123456789012', region: 'eu-west-1' } });

  // The platform's existing network and cluster, by their IDs: no lookups, so `cdk synth` needs no credentials.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0abc1234def567890',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
  });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'ml-prod', vpc });

  // An embedder on Fargate that scales to zero: pending Kafka lag per task above the floor the reconciler owns.
  const lag = { namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'embedder' }, statistic: 'Maximum' };
  const embedder = new InferencePool(stack, 'Embedder', {
    cluster,
    serviceName: 'embedder',
    minCapacity: 0,
    maxCapacity: 5,
    desiredCount: 0,
    minHealthyPercent: 0,
    maxHealthyPercent: 100,
    cpu: 2048,
    memoryLimitMiB: 4096,
    containers: [{ name: 'model', image: ecs.ContainerImage.fromRegistry('123456789012.dkr.ecr.eu-west-1.amazonaws.com/embedder:1.4.2'), containerPorts: [8080] }],
  });
  embedder.scaleOnQueuePerTask({
    queueMetric: new cloudwatch.Metric({ ...lag, dimensionsMap: lag.dimensions, period: Duration.minutes(1) }),
    targetPerTask: 100,
  });

  // What the scalers may touch (the managed-targets document), the holds table they share, and who hears about it.
  const document = parseTargetsDocument({
    holdsTable: 'ml-prod-holds',
    targets: [
      {
        name: 'embedder',
        kind: 'ecs-service',
        cluster: cluster.clusterName,
        service: embedder.serviceName,
        pool: 'scale-to-zero',
        minCapacity: 0,
        maxCapacity: 5,
        work: lag,
        idleMinutes: 5,
      },
    ],
  });
  const holds = new HoldsTable(stack, 'Holds', { tableName: document.holdsTable! });
  const topic = new AlarmTopic(stack, 'Alarms', { emails: ['ml-oncall@example.com'] });
  const scalers = { document, holds: holds.table, topic: topic.topic, namePrefix: 'ml-prod' };

  // The one writer of min, max and desired: every minute, and at once when work appears at zero.
  new Reconciler(stack, 'Reconciler', scalers);
  // Optional: incidents (doubling capacity, scale-in held) as emergency holds.
  new EmergencyScaler(stack, 'Emergency', scalers);
  // --- README example ends ---

  return { app, stack };
}

describe('Library: the README example', () => {
  it('adds a pool and the scalers to an existing app and cluster, and synthesizes', () => {
    const { app, stack } = platformTeamApp();
    expect(() => app.synth()).not.toThrow();
    const t = Template.fromStack(stack);
    // Nothing of the platform's own is created again.
    for (const type of ['AWS::EC2::VPC', 'AWS::ECS::Cluster']) t.resourceCountIs(type, 0);
    t.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'embedder', Cluster: 'ml-prod', DesiredCount: 0 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 5, ResourceId: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['service/ml-prod/'])] }) });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { PolicyName: 'embedder-queue-per-task' });
    t.hasResource('AWS::DynamoDB::Table', { Properties: Match.objectLike({ TableName: 'ml-prod-holds' }), DeletionPolicy: 'Retain' });
    t.resourceCountIs('AWS::Lambda::Function', 2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'ml-prod-embedder-work-present' });
  });

  it('lets the reconciler change that service only, and read and write its holds', () => {
    const t = Template.fromStack(platformTeamApp().stack);
    const statements = Object.entries(t.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('ReconcilerFunctionRole'))
      .flatMap(([, p]) => (p as { Properties: Props }).Properties.PolicyDocument.Statement as Props[]);
    const update = statements.find((s) => [s.Action].flat().includes('ecs:UpdateService'));
    expect(update!.Resource).toBe('arn:aws:ecs:eu-west-1:123456789012:service/ml-prod/embedder');
    expect(statements.some((s) => [s.Action].flat().includes('dynamodb:PutItem'))).toBe(true);
  });

  it('passes cdk-nag as it stands', () => {
    const { app } = platformTeamApp();
    app.synth();
    expect(new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
