import { describe, expect, it } from 'vitest';
import { alarmSpecsForPool } from '../lambdas/core/config/alarm-specs';
import { ConfigError, type ConfigInput, documentFor, parseConfig, selectEnvironment } from '../lambdas/core/config';
import { isScaleToZero } from '../lambdas/core/config/document';
import { exampleConfig } from './util';

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The example config with a batch pool added. */
function withBatch(batch: Mutable = {}): Mutable {
  const config = exampleConfig() as Mutable;
  config.pools.push({ name: 'embed-batch', kind: 'batch', maxCapacity: 8, containers: [{ name: 'worker', image: 'public.ecr.aws/docker/library/busybox:1.36' }], ...batch });
  return config;
}

const production = (config: Mutable) => selectEnvironment(parseConfig(config as ConfigInput), 'production');
const batchPool = (config: Mutable) => production(config).pools.find((p) => p.name === 'embed-batch')!;

describe('config: batch pools', () => {
  it('works off a queue named after the pipeline, environment and pool, and goes to zero by default', () => {
    const p = batchPool(withBatch());
    expect(p).toMatchObject({
      kind: 'batch',
      minCapacity: 0,
      messagesPerTask: 10,
      idleMinutes: 5,
      missingDataIsIdle: true,
      queue: { name: 'pipestream-production-embed-batch', existing: false, maxReceiveCount: 5, visibilityTimeoutSeconds: 300 },
      emergency: { enabled: false },
    });
    expect(p.metrics.work).toEqual({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: 'pipestream-production-embed-batch' }, statistic: 'Maximum' });
    expect(p.metrics.inFlight).toMatchObject({ metricName: 'ApproximateNumberOfMessagesNotVisible' });
    expect(p.metrics.oldestMessageAge).toMatchObject({ metricName: 'ApproximateAgeOfOldestMessage' });
  });

  it('keeps the name of an existing queue and its own per-task target', () => {
    const p = batchPool(withBatch({ queue: { name: 'embeddings-in', existing: true }, messagesPerTask: 25 }));
    expect(p).toMatchObject({ queue: { name: 'embeddings-in', existing: true }, messagesPerTask: 25 });
    expect(p.metrics.work.dimensions).toEqual({ QueueName: 'embeddings-in' });
  });

  it('renders a scale-to-zero target whose in-flight messages keep it up', () => {
    const doc = documentFor(production(withBatch()));
    const t = doc.targets.find((x) => x.name === 'embed-batch')!;
    expect(t).toMatchObject({ pool: 'batch', minCapacity: 0, maxCapacity: 8, queue: 'pipestream-production-embed-batch', missingDataIsIdle: true, emergencyEnabled: false });
    expect(t.inFlight?.metricName).toBe('ApproximateNumberOfMessagesNotVisible');
    expect(isScaleToZero(t)).toBe(true);
  });

  it('alarms on the oldest message and on the backlog per task, never on silence', () => {
    const env = production(withBatch({ maxMessageAgeSeconds: 600 }));
    const specs = alarmSpecsForPool(batchPool(withBatch({ maxMessageAgeSeconds: 600 })), env.thresholds, env.clusterName);
    const kinds = specs.map((s) => s.kind);
    expect(kinds).toEqual(expect.arrayContaining(['oldestMessageAge', 'queueDepth', 'cpu', 'memory']));
    expect(kinds).not.toContain('noRequests');
    expect(specs.find((s) => s.kind === 'oldestMessageAge')).toMatchObject({ threshold: 600, treatMissingData: 'notBreaching' });
    expect(specs.find((s) => s.kind === 'cpu')?.treatMissingData).toBe('notBreaching');
  });

  it.each([
    ['an existing queue without a name', { queue: { existing: true } }, /pools\[3\]\.queue\.name: required when queue\.existing is true/],
    ['a queue name SQS refuses', { queue: { name: 'has space' } }, /pools\[3\]\.queue\.name: must be an SQS queue name/],
    ['a zero per-task target', { messagesPerTask: 0 }, /pools\[3\]\.messagesPerTask/],
    ['a wake size above max', { scaleFromZeroTo: 9 }, /pools\[3\]\.scaleFromZeroTo: must be <= maxCapacity, got 9 > 8/],
  ])('refuses %s with one line', (_what, batch, message) => {
    let error: unknown;
    try {
      parseConfig(withBatch(batch) as ConfigInput);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(message);
  });
});
