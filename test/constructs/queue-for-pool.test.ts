import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig, selectEnvironment, type ResolvedPool } from '../../lambdas/core/config';
import { queueForPool } from '../../lib/pool-from-config';
import { ACCOUNT, freshStack, REGION } from './fixtures';

type BatchPool = Extract<ResolvedPool, { kind: 'batch' }>;

/** The batch pool of config/examples/batch.json (production), its queue changed by `queue`. */
function batchPool(queue?: Record<string, unknown>): BatchPool {
  const config = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'config', 'examples', 'batch.json'), 'utf8')) as { pools: Record<string, unknown>[] };
  if (queue) config.pools = config.pools.map((p) => (p.kind === 'batch' ? { ...p, queue } : p));
  const pool = selectEnvironment(parseConfig(config), 'production').pools.find((p) => p.kind === 'batch');
  return pool as BatchPool;
}

describe('Function: queueForPool', () => {
  it('checks at deploy time that an existing queue exists: GetQueueUrl on that queue alone, so a missing one fails the deploy (#11)', () => {
    const stack = freshStack();
    const { queue, existsCheck } = queueForPool(stack, batchPool({ name: 'embed-jobs', existing: true }));
    expect(existsCheck).toBeDefined();
    expect(queue.queueName).toBe('embed-jobs');
    const t = Template.fromStack(stack);
    const checks = Object.values(t.findResources('Custom::AWS'));
    expect(checks).toHaveLength(1);
    const create = JSON.parse(JSON.stringify(checks[0]!.Properties.Create)) as string;
    expect(JSON.parse(create)).toMatchObject({ service: 'SQS', action: 'getQueueUrl', parameters: { QueueName: 'embed-jobs' } });
    // The same check on every update, so renaming the queue in the config is checked too.
    expect(checks[0]!.Properties.Update).toEqual(checks[0]!.Properties.Create);
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: string }[]);
    expect(statements).toEqual([{ Action: 'sqs:GetQueueUrl', Effect: 'Allow', Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:embed-jobs` }]);
  });

  it('a queue it creates needs no check', () => {
    const stack = freshStack();
    const { existsCheck, batchQueue } = queueForPool(stack, batchPool());
    expect(existsCheck).toBeUndefined();
    expect(batchQueue).toBeDefined();
    expect(Template.fromStack(stack).findResources('Custom::AWS')).toEqual({});
  });
});
