import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambdas/core/config';
import { buildApp } from '../lib/app';
import { MlscaleStack } from '../lib/mlscale-stack';
import { nagFindings } from './nag-util';
import { CDK_CONTEXT, exampleConfig, ROOT } from './util';

/** config/examples/batch.json as plain JSON, to alter before parsing. */
const batchExample = () => JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'batch.json'), 'utf8')) as { pools: Record<string, unknown>[] };

/** Findings of every stack of `config`, templates only (no bundling: cdk-nag reads no code). */
function templateFindings(config: unknown): string[] {
  const { app } = buildApp({ config: parseConfig(config), appProps: { context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false }, nag: false });
  app.synth();
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any stack of the example config', () => {
    expect(nagFindings(exampleConfig())).toEqual([]);
  });

  it('finds nothing in an existing VPC with a Fargate scale-to-zero pool', () => {
    const config = exampleConfig();
    config.network = { vpcId: 'vpc-0abc1234def567890', privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'], availabilityZones: ['eu-west-1a', 'eu-west-1b'] };
    config.pools = config.pools.map((p) => (p.kind === 'scale-to-zero' ? { ...p, cpu: 1024, memoryMiB: 2048, compute: { type: 'fargate' as const } } : p));
    expect(nagFindings(config)).toEqual([]);
  });

  it('finds nothing in a stack on an existing cluster and topic, in a known account and region', () => {
    const config = exampleConfig();
    config.pools = config.pools.map((p) => (p.kind === 'scale-to-zero' ? { ...p, cpu: 1024, memoryMiB: 2048, compute: { type: 'fargate' as const } } : p));
    const environment = parseConfig(config).environments.find((e) => e.name === 'production')!;
    // Templates are all cdk-nag needs: no bundling.
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const env = { account: '123456789012', region: 'eu-west-1' };
    const shared = new Stack(app, 'Shared', { env });
    const vpc = ec2.Vpc.fromVpcAttributes(shared, 'Vpc', {
      vpcId: 'vpc-0abc1234def567890',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
    });
    new MlscaleStack(app, 'Inference', {
      env,
      environment,
      cluster: ecs.Cluster.fromClusterAttributes(shared, 'Cluster', { clusterName: 'pipestream-production', vpc }),
      topic: sns.Topic.fromTopicArn(shared, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
    });
    app.synth();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`))).toEqual([]);
  });

  it('finds nothing in the batch example: a batch pool with its queue, dead-letter queue and task protection, and scaleOnLagGrowth', () => {
    expect(templateFindings(batchExample())).toEqual([]);
  });

  it('finds nothing with an existing queue, or a batch pool on GPU capacity', () => {
    const existing = batchExample();
    existing.pools = existing.pools.map((p) => (p.kind === 'batch' ? { ...p, queue: { name: 'jobs', existing: true } } : p));
    expect(templateFindings(existing)).toEqual([]);
    const gpu = batchExample();
    gpu.pools = gpu.pools.map((p) => (p.kind === 'batch' ? { ...p, cpu: 3072, memoryMiB: 12288, compute: { type: 'ec2-gpu' } } : p));
    expect(templateFindings(gpu)).toEqual([]);
  });

  it('finds nothing for a batch pool on an existing cluster, topic and queue', () => {
    const config = batchExample();
    config.pools = config.pools.map((p) => (p.kind === 'batch' ? { ...p, queue: { name: 'jobs', existing: true } } : p));
    const environment = parseConfig(config).environments.find((e) => e.name === 'production')!;
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const env = { account: '123456789012', region: 'eu-west-1' };
    const shared = new Stack(app, 'Shared', { env });
    const vpc = ec2.Vpc.fromVpcAttributes(shared, 'Vpc', {
      vpcId: 'vpc-0abc1234def567890',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
    });
    new MlscaleStack(app, 'Inference', {
      env,
      environment,
      cluster: ecs.Cluster.fromClusterAttributes(shared, 'Cluster', { clusterName: 'pipestream-production', vpc }),
      topic: sns.Topic.fromTopicArn(shared, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
    });
    app.synth();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`))).toEqual([]);
  });

  it('reports an unacknowledged finding (the check is live)', () => {
    const findings = nagFindings(exampleConfig(), (stacks) => {
      // A topic without encryption or an SSL-only policy: AwsSolutions-SNS2 and SNS3.
      new sns.Topic(stacks[0]!, 'PlainTopic');
    });
    expect(findings.some((f) => f.startsWith('AwsSolutions-SNS3') && f.includes('PlainTopic'))).toBe(true);
  });
});
