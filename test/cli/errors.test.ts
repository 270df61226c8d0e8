import { DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { DescribeServicesCommand, ListClustersCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeNodegroupCommand } from '@aws-sdk/client-eks';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { CredentialsProviderError } from '@smithy/core/config';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureRetries, retryPolicy } from '../../lambdas/aws/retry';
import { awsError } from '../handlers/aws-errors';
import { autoscaling, ecs, eks, expectNothingChanged, expectOneLineError, nodegroup, resetAws, run, service, sfn, target, world } from './harness';

const saved = { ...retryPolicy };
beforeAll(() => configureRetries({ baseDelayMs: 0, maxDelayMs: 0 }));
afterAll(() => configureRetries(saved));

/** What the SDK's node HTTP handler rejects with when nothing listens (seen from a real client). */
function connectionRefused(address = '127.0.0.1', port = 4566): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${address}:${port}`), {
    errno: -111,
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address,
    port,
    $metadata: { attempts: 3, totalRetryDelay: 105 },
  });
}
const noCredentials = () => new CredentialsProviderError('Could not load credentials from any providers', { tryNextLink: false });
const accessDenied = (action: string) =>
  awsError('AccessDeniedException', 400, `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ${action} on resource: *`);

beforeEach(() => {
  resetAws();
  vi.unstubAllEnvs();
  vi.stubEnv('AWS_ENDPOINT_URL', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_ECS', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_SFN', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING', undefined);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  world.ecs = { pipestream: [service('engine', 4)] };
  world.targets = [target('pipestream', 'engine', 2, 10)];
  world.eks = { 'ml-prod': [nodegroup('ml-prod', 'gpu-workers', 0, 1, 4)] };
  world.stateMachines = ['pipestream-production-emergency-scale-up'];
});
afterEach(() => vi.unstubAllEnvs());

describe('connection failures', () => {
  it('names the endpoint from AWS_ENDPOINT_URL and the reason, and changes nothing', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://localhost:4566');
    ecs.on(DescribeServicesCommand).rejects(connectionRefused());
    autoscaling.on(DescribeScalableTargetsCommand).rejects(connectionRefused());
    const r = await run('scale', 'engine', '--replicas', '6', '-n', 'pipestream');
    expectOneLineError(r, 'Error: Connection failed to http://localhost:4566: connect ECONNREFUSED 127.0.0.1:4566');
    expectNothingChanged();
  });

  it('prefers the service’s own AWS_ENDPOINT_URL_<SERVICE>', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://localhost:4566');
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', 'http://localhost:8083');
    sfn.on(ListStateMachinesCommand).rejects(connectionRefused('127.0.0.1', 8083));
    const r = await run('emergency', 'engine', '--config', 'test/cli/fixtures/mlscale.json');
    expectOneLineError(r, 'Error: Connection failed to http://localhost:8083: connect ECONNREFUSED 127.0.0.1:8083');
    expectNothingChanged();
  });

  it('without an endpoint variable, names the endpoint the client resolves for its region', async () => {
    ecs.on(ListClustersCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND ecs.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND', $metadata: {} }));
    const r = await run('get', 'services', '-A');
    expectOneLineError(r, 'Error: Connection failed to https://ecs.eu-west-1.amazonaws.com: getaddrinfo ENOTFOUND ecs.eu-west-1.amazonaws.com');
  });

  it('retries a refused connection before giving up (the adapters’ retry policy)', async () => {
    eks.on(DescribeNodegroupCommand).rejects(connectionRefused());
    const r = await run('get', 'nodegroups', 'gpu-workers', '-n', 'ml-prod');
    expect(r.code).toBe(1);
    expect(eks).toHaveReceivedCommandTimes(DescribeNodegroupCommand, retryPolicy.attempts);
  });
});

describe('credentials and access', () => {
  it('reports missing credentials in one line and changes nothing', async () => {
    ecs.on(DescribeServicesCommand).rejects(noCredentials());
    autoscaling.on(DescribeScalableTargetsCommand).rejects(noCredentials());
    const r = await run('scale', 'engine', '--replicas', '6', '-n', 'pipestream');
    expectOneLineError(r, /^Error: No AWS credentials found .*Could not load credentials from any providers$/);
    expectNothingChanged();
  });

  it('reports missing credentials for node groups and runbooks too', async () => {
    eks.on(DescribeNodegroupCommand).rejects(noCredentials());
    expectOneLineError(await run('pause', 'nodegroup/gpu-workers', '-n', 'ml-prod'), /^Error: No AWS credentials found /);
    sfn.on(ListStateMachinesCommand).rejects(noCredentials());
    expectOneLineError(await run('emergency', 'engine', '--config', 'test/cli/fixtures/mlscale.json'), /^Error: No AWS credentials found /);
    expectNothingChanged();
  });

  it('reports access denied on a read in one line and changes nothing', async () => {
    ecs.on(DescribeServicesCommand).rejects(accessDenied('ecs:DescribeServices'));
    const r = await run('get', 'services', 'engine', '-n', 'pipestream');
    expectOneLineError(r, 'Error: Access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecs:DescribeServices on resource: *');
  });

  it('stops at the first denied change: min not raised means desired not sent', async () => {
    autoscaling.on(RegisterScalableTargetCommand).rejects(accessDenied('application-autoscaling:RegisterScalableTarget'));
    const r = await run('scale', 'engine', '--replicas', '6', '-n', 'pipestream');
    expectOneLineError(r, /^Error: Access denied: .*application-autoscaling:RegisterScalableTarget/);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('reports a 403 without an AccessDenied name as access denied', async () => {
    sfn.on(ListStateMachinesCommand).rejects(awsError('Forbidden', 403, 'Forbidden'));
    expectOneLineError(await run('emergency', 'engine', '--config', 'test/cli/fixtures/mlscale.json'), 'Error: Access denied: Forbidden');
  });

  it('reports a missing region in one line', async () => {
    ecs.on(ListClustersCommand).rejects(new Error('Region is missing'));
    expectOneLineError(await run('get', 'services', '-A'), /^Error: No AWS region configured/);
  });

  it('names any other AWS error by its name, in one line', async () => {
    ecs.on(UpdateServiceCommand).rejects(awsError('InvalidParameterException', 400, 'desiredCount is invalid\nsee the docs'));
    expectOneLineError(await run('scale', 'engine', '--replicas', '5', '-n', 'pipestream'), 'Error: InvalidParameterException: desiredCount is invalid see the docs');
  });
});

describe('bad arguments', () => {
  it.each([
    [['get', 'pods'], "Error: Unknown resource type 'pods' (use services or nodegroups)"],
    [['scale', 'deployment/engine', '--replicas', '1'], "Error: Unknown resource kind 'deployment' in 'deployment/engine' (use service/NAME or nodegroup/NAME)"],
    [['scale', 'engine', '--replicas', '1', '-n', 'bad namespace'], "Error: Invalid namespace 'bad namespace': letters, digits, '-' and '_' only"],
    [['pause', 'engine/x/y'], "Error: Unknown resource kind 'engine' in 'engine/x/y' (use service/NAME or nodegroup/NAME)"],
    [['frobnicate'], "Error: unknown command 'frobnicate'"],
    [['get', 'services', 'x', '-A'], 'Error: names need a namespace: use -n NAMESPACE instead of -A'],
  ])('%j fails in one line before any AWS call', async (argv, message) => {
    expectOneLineError(await run(...argv), message);
    for (const m of [ecs, autoscaling, eks, sfn]) expect(m.calls()).toHaveLength(0);
  });
});
