import { CredentialsProviderError } from '@smithy/core/config';
import { describe, expect, it, vi } from 'vitest';
import { retryPolicy } from '../../lambdas/aws/retry';
import { CLUSTER, cli, expectNoAwsCalls, expectOneLineError, run, storedHolds, useFixtureAccount } from './harness';

const fake = useFixtureAccount();

/** What the SDK's node HTTP handler rejects with when nothing listens. */
const refused = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
const failWith = (call: string, error: () => Error) => {
  // `before` runs once: arm it for every attempt the retry policy makes.
  for (let i = 0; i < retryPolicy.attempts; i++) fake().before(call, async () => Promise.reject(error()));
};

describe('AWS errors: one line, said once', () => {
  it('throttling: gives up after the retry policy’s attempts and says so', async () => {
    fake().fail({ call: 'ecs:describeServices', error: 'ThrottlingException', cause: 'Rate exceeded' });
    const r = await cli('scale', 'engine', '--replicas', '6');
    expectOneLineError(r, `Error: ECS DescribeServices: ThrottlingException: Rate exceeded (gave up after ${retryPolicy.attempts} attempts)`);
    expect(fake().callsOf('ecs:describeServices')).toHaveLength(retryPolicy.attempts);
    // Nothing was held: the read failed before the hold was written.
    expect(storedHolds(fake(), 'engine')).toEqual([]);
  });

  it('throttling that clears within the retries is not an error', async () => {
    fake().fail({ call: 'ecs:describeServices', error: 'ThrottlingException', times: retryPolicy.attempts - 1 });
    expect((await cli('get', 'services', 'engine')).code).toBe(0);
  });

  it('access denied on a read', async () => {
    fake().fail({ call: 'applicationautoscaling:describeScalableTargets', error: 'AccessDeniedException', cause: 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: application-autoscaling:DescribeScalableTargets' });
    expectOneLineError(
      await cli('describe', 'engine'),
      'Error: Access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: application-autoscaling:DescribeScalableTargets',
    );
  });

  it('access denied on the hold write: nothing held, nothing changed', async () => {
    fake().fail({ call: 'dynamodb:putItem', error: 'AccessDeniedException', cause: 'not authorized to perform: dynamodb:PutItem' });
    expectOneLineError(await cli('scale', 'engine', '--replicas', '6'), 'Error: Access denied: not authorized to perform: dynamodb:PutItem');
    expect(fake().changes()).toEqual([]);
  });

  it('a reconcile pass that fails after the hold is written says both, once', async () => {
    fake().fail({ call: 'applicationautoscaling:registerScalableTarget', error: 'AccessDeniedException', cause: 'not authorized to perform: application-autoscaling:RegisterScalableTarget' });
    const r = await cli('scale', 'engine', '--replicas', '6');
    expectOneLineError(
      r,
      'Error: hold manual is written, but applying it failed: service/pipestream-production/engine: AccessDeniedException: not authorized to perform: application-autoscaling:RegisterScalableTarget (the reconciler Lambda applies it on its next pass, within a minute)',
    );
    expect(storedHolds(fake(), 'engine').map((h) => h.holder)).toEqual(['manual']);
    expect(fake().callsOf('ecs:updateService')).toHaveLength(0);
  });

  it('a refused connection names the endpoint: AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://localhost:4566');
    failWith('ecs:describeServices', () => refused(4566));
    expectOneLineError(await cli('get', 'services', 'engine'), 'Error: Connection failed to http://localhost:4566: connect ECONNREFUSED 127.0.0.1:4566');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', 'http://localhost:8000');
    failWith('dynamodb:query', () => refused(8000));
    expectOneLineError(await cli('holds', 'engine'), 'Error: Connection failed to http://localhost:8000: connect ECONNREFUSED 127.0.0.1:8000');
  });

  it('without an endpoint variable, names the endpoint the client resolves for its region', async () => {
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    failWith('ecs:listClusters', () => Object.assign(new Error('getaddrinfo ENOTFOUND ecs.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }));
    expectOneLineError(await cli('get', 'services', '-A'), 'Error: Connection failed to https://ecs.eu-west-1.amazonaws.com: getaddrinfo ENOTFOUND ecs.eu-west-1.amazonaws.com');
  });

  it('no credentials, rejected credentials, no region', async () => {
    fake().before('ecs:describeServices', async () => Promise.reject(new CredentialsProviderError('Could not load credentials from any providers', { tryNextLink: false })));
    expectOneLineError(await cli('scale', 'engine', '--replicas', '6'), /^Error: No AWS credentials found \(set AWS_PROFILE, .*\): Could not load credentials from any providers$/);
    fake().fail({ call: 'dynamodb:query', error: 'UnrecognizedClientException', cause: 'The security token included in the request is invalid.', times: 1 });
    expectOneLineError(await cli('holds', 'engine'), 'Error: AWS credentials rejected by DynamoDB Query (UnrecognizedClientException): The security token included in the request is invalid.');
    fake().before('ecs:listClusters', async () => Promise.reject(new Error('Region is missing')));
    expectOneLineError(await cli('get', 'services', '-A'), 'Error: No AWS region configured (set AWS_REGION, or a region in your AWS profile)');
    expect(storedHolds(fake(), 'engine')).toEqual([]);
  });

  it('any other AWS error by service, operation and name, in one line', async () => {
    fake().fail({ call: 'ecs:describeServices', error: 'InvalidParameterException', cause: 'cluster is invalid\nsee the docs' });
    expectOneLineError(await cli('get', 'services', 'engine'), 'Error: ECS DescribeServices: InvalidParameterException: cluster is invalid see the docs');
  });
});

describe('bad arguments and configs: one line, before any AWS call', () => {
  it.each([
    [['get', 'pods'], "Error: Unknown resource type 'pods' (use services or nodegroups)"],
    [['get', 'services', 'x', '-A'], 'Error: names need a namespace: use -n NAMESPACE instead of -A'],
    [['get', 'services', 'bad name'], "Error: Invalid name 'bad name': letters, digits, '-' and '_' only"],
    [['pause', 'engine/x/y'], "Error: Unknown resource kind 'engine' in 'engine/x/y' (use service/NAME or nodegroup/NAME)"],
    [['describe', 'service', 'a/b'], "Error: Invalid name 'a/b': letters, digits, '-' and '_' only"],
    [['holds', 'engine', '-o', 'csv'], /^Error: option '-o, --output <format>' argument 'csv' is invalid\. Allowed choices are table, wide, json, yaml, name\.$/],
    [['frobnicate'], /^Error: unknown command 'frobnicate'/],
    [['scale', 'engine', '--replicas', '2', '--env', 'qa'], "Error: Unknown environment 'qa' in test/cli/fixtures/mlscale.json (known: staging, production; see --env)"],
  ])('%j', async (argv, message) => {
    expectOneLineError(await cli(...argv), message);
    expectNoAwsCalls(fake());
  });

  it('names a missing config as it was given, absolute or relative', async () => {
    expectOneLineError(await run('holds', '--config', '/nowhere/mlscale.json'), 'Error: cannot read config /nowhere/mlscale.json (ENOENT; see --config)');
    expectOneLineError(await run('holds', '--config', '../elsewhere/mlscale.json'), 'Error: cannot read config ../elsewhere/mlscale.json (ENOENT; see --config)');
    expectOneLineError(await run('get', '--config', 'package.json'), /^Error: Invalid package\.json: /);
    expectNoAwsCalls(fake());
  });

  it('an unmanaged service is still listed by get, but cannot be held', async () => {
    expect((await cli('get', 'services', 'reranker', '-n', CLUSTER)).code).toBe(0);
    expectOneLineError(await cli('holds', 'reranker'), /^Error: reranker is not managed by mlscale in production/);
  });
});
