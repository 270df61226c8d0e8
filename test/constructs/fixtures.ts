/**
 * What the construct suites share: a fresh Stack per test in an app with
 * cdk.json's feature flags, imported network, cluster and topic, and a
 * targets document. The app skips two things that cost time and assert
 * nothing here: Lambda bundling (the templates need no code; esbuild per
 * function would dominate the run, and test/bundle.test.ts bundles for real)
 * and CDK's built-in CloudFormation schema check, which takes ~5 s to load in
 * every test process (`cdk synth`, in `npm run synth` and test/app.test.ts,
 * still runs it over every template of the app).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type ResolvedEnvironment } from '../../lambdas/core/config';
import { parseTargetsDocument, type TargetsDocument } from '../../lambdas/core/config/document';
import { cdkJsonContext } from '../../lib/cdk-context';
import { designExample } from '../fixtures/design-example';

// Not test/util.ts: it loads the whole app (every construct, cdk-nag), and a suite here needs one construct.
const CDK_CONTEXT = cdkJsonContext();

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** A new stack in a new app, in a known account and region (so ARNs and AZs are plain strings). */
export function freshStack(id = 'Test'): Stack {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  return new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
}

/** The engine's ECS scalable target (2-10 tasks), for the step-policy constructs to change. */
export function engineScalableTarget(stack: Stack): appscaling.ScalableTarget {
  return new appscaling.ScalableTarget(stack, 'Target', {
    serviceNamespace: appscaling.ServiceNamespace.ECS,
    scalableDimension: 'ecs:service:DesiredCount',
    resourceId: 'service/pipestream/engine',
    minCapacity: 2,
    maxCapacity: 10,
  });
}

/** A VPC that exists already, by its IDs (no lookup, no credentials). */
export function existingVpc(stack: Stack): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'ExistingVpc', {
    vpcId: 'vpc-0abc1234def567890',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b2c3d4e5f6071829'],
  });
}

/** An ECS cluster that exists already: `pipestream` in the VPC above. */
export function existingCluster(stack: Stack, clusterName = 'pipestream'): ecs.ICluster {
  return ecs.Cluster.fromClusterAttributes(stack, 'ExistingCluster', { clusterName, vpc: existingVpc(stack) });
}

export function existingTopic(stack: Stack): sns.ITopic {
  return sns.Topic.fromTopicArn(stack, 'ExistingTopic', `arn:aws:sns:${REGION}:${ACCOUNT}:oncall`);
}

/** DESIGN.md's document (engine, embedder, gpu-workers) with its holds table; `alter` may change it first. */
export function designDocument(alter: (doc: ReturnType<typeof designExample> & Record<string, unknown>) => void = () => {}): TargetsDocument {
  const doc = { ...designExample(), holdsTable: 'pipestream-production-holds' };
  alter(doc);
  return parseTargetsDocument(doc, 'test document');
}

/** The example config's production environment, resolved. */
export function productionEnvironment(): ResolvedEnvironment {
  const config: unknown = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'config', 'mlscale.json'), 'utf8'));
  return parseConfig(config).environments.find((e) => e.name === 'production')!;
}

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every IAM statement of the stack's policies whose logical ID starts with `prefix`. */
export function statementsOf(template: { findResources(type: string): Record<string, unknown> }, prefix: string): Props[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, p]) => (p as { Properties: Props }).Properties.PolicyDocument.Statement as Props[]);
}

/** The statements that allow `action`. */
export const allowing = (statements: Props[], action: string) => statements.filter((s) => [s.Action].flat().includes(action));
