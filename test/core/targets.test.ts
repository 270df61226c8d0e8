import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/config';
import { describeTarget, emergencyCeiling, parseTargetsDocument, parseTargetsJson } from '../../lambdas/core/config/document';
import { designExample as designExampleDoc } from '../fixtures/design-example';

type Doc = { targets: Record<string, unknown>[] } & Record<string, unknown>;

/**
 * The example of DESIGN.md ("Managed targets"). Its third target says
 * `"work": { "...": "same shape" }`; here that shape is written out.
 */
function designExample(): Doc {
  return designExampleDoc() as Doc;
}

/** The one-line ConfigError message for `doc` after `mutate` (fails the test if it parses). */
function errorFor(mutate: (doc: Doc) => void): string {
  const doc = designExample();
  mutate(doc);
  let error: unknown;
  try {
    parseTargetsDocument(doc);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message.startsWith('Invalid MLSCALE_CONFIG: ')).toBe(true);
  return message;
}

describe('Function: parseTargetsDocument', () => {
  it('parses the DESIGN.md example', () => {
    const doc = parseTargetsDocument(designExample());
    expect(doc.targets.map((t) => [t.name, t.kind, t.pool, t.minCapacity, t.maxCapacity])).toEqual([
      ['engine', 'ecs-service', 'always-on', 2, 10],
      ['embedder', 'ecs-service', 'scale-to-zero', 0, 5],
      ['gpu-workers', 'eks-nodegroup', 'scale-to-zero', 0, 4],
    ]);
    const gpu = doc.targets[2]!;
    expect(gpu.kind === 'eks-nodegroup' && gpu.nodegroup).toBe('gpu-workers');
    expect(doc.targets[1]!.work).toEqual({ namespace: 'Pipestream/Kafka', metricName: 'ConsumerLag', dimensions: { ConsumerGroup: 'embedder' }, statistic: 'Maximum' });
  });

  it('fills in the documented defaults', () => {
    const [engine, embedder] = parseTargetsDocument(designExample()).targets;
    expect(engine).toMatchObject({ idleMinutes: 5, scaleFromZeroTo: 1, missingDataIsIdle: false, alarms: [], emergencyEnabled: true, plannedEvents: [], peakHours: [] });
    expect(engine!.emergencyCeiling).toBeUndefined();
    expect(embedder!.inFlight).toBeUndefined();
  });

  it('defaults the dimensions of a metric to none', () => {
    const doc = designExample();
    doc.targets[1]!.work = { namespace: 'Pipestream/Queue', metricName: 'Pending', statistic: 'Sum' };
    expect(parseTargetsDocument(doc).targets[1]!.work!.dimensions).toEqual({});
  });

  it('allows extra fields on the document and on targets', () => {
    const doc = designExample();
    doc.version = 3;
    doc.targets[0]!.owner = 'platform-team';
    const parsed = parseTargetsDocument(doc) as unknown as { version: number; targets: { owner?: string }[] };
    expect(parsed.version).toBe(3);
    expect(parsed.targets[0]!.owner).toBe('platform-team');
  });

  it('accepts alarms, planned events, peak hours and predictive settings', () => {
    const doc = designExample();
    Object.assign(doc.targets[0]!, {
      alarms: ['x-engine-emergencyLatency'],
      emergencyCeiling: 16,
      plannedEvents: [{ name: 'launch', start: '2026-06-01T14:00:00Z', end: '2026-06-01T15:00:00+02:00', multiplier: 2 }],
      peakHours: [{ name: 'office', startCron: '0 9 ? * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 4, timezone: 'Europe/Berlin' }],
      predictive: { load: { namespace: 'Pipestream/Engine', metricName: 'Requests', statistic: 'Sum' }, targetPerReplica: 35 },
    });
    const engine = parseTargetsDocument(doc).targets[0]!;
    expect(engine.alarms).toEqual(['x-engine-emergencyLatency']);
    expect(engine.plannedEvents[0]).toMatchObject({ leadMinutes: 30, cooldownMinutes: 20, multiplier: 2 });
    expect(engine.peakHours[0]!.timezone).toBe('Europe/Berlin');
    expect(engine.predictive).toMatchObject({ headroom: 0.1, leadMinutes: 10, mode: 'forecast-and-scale', historyDays: 14, horizonHours: 6 });
  });

  it('accepts an empty target list', () => {
    expect(parseTargetsDocument({ targets: [] }).targets).toEqual([]);
  });

  it.each<[string, (d: Doc) => void, RegExp]>([
    ['a scale-to-zero target without work', (d) => delete d.targets[1]!.work, /targets\[1\]\.work: required for a scale-to-zero target/],
    ['min above max', (d) => (d.targets[0]!.minCapacity = 11), /targets\[0\]\.minCapacity: must be <= maxCapacity, got 11 > 10/],
    ['a duplicate name', (d) => (d.targets[2]!.name = 'engine'), /targets\[2\]\.name: duplicate target name 'engine'/],
    [
      'an alarm listed by two targets',
      (d) => {
        d.targets[0]!.alarms = ['shared-p95'];
        d.targets[1]!.alarms = ['own', 'shared-p95'];
      },
      /targets\[1\]\.alarms\[1\]: alarm 'shared-p95' is listed by targets 'engine' and '[a-z-]+'; an alarm starts the emergency of one target/,
    ],
    ['an unknown kind', (d) => (d.targets[0]!.kind = 'lambda'), /targets\[0\]\.kind: /],
    ['an ECS target without service', (d) => delete d.targets[0]!.service, /targets\[0\]\.service: /],
    ['a node group target without nodegroup', (d) => delete d.targets[2]!.nodegroup, /targets\[2\]\.nodegroup: /],
    ['a target without cluster', (d) => delete d.targets[1]!.cluster, /targets\[1\]\.cluster: /],
    ['an empty name', (d) => (d.targets[0]!.name = ''), /targets\[0\]\.name: /],
    ['a negative minCapacity', (d) => (d.targets[0]!.minCapacity = -1), /targets\[0\]\.minCapacity: /],
    ['a maxCapacity of 0', (d) => (d.targets[0]!.maxCapacity = 0), /targets\[0\]\.maxCapacity: /],
    ['a fractional maxCapacity', (d) => (d.targets[0]!.maxCapacity = 2.5), /targets\[0\]\.maxCapacity: /],
    ['a capacity given as a string', (d) => (d.targets[0]!.maxCapacity = '10'), /targets\[0\]\.maxCapacity: /],
    ['an unknown statistic', (d) => ((d.targets[1]!.work as Record<string, unknown>).statistic = 'Median'), /targets\[1\]\.work\.statistic: must be one of/],
    ['idleMinutes of 0', (d) => (d.targets[1]!.idleMinutes = 0), /targets\[1\]\.idleMinutes: /],
    ['an emergency ceiling below max', (d) => (d.targets[0]!.emergencyCeiling = 9), /targets\[0\]\.emergencyCeiling: must be >= maxCapacity, got 9 < 10/],
    ['alarms that are not a list', (d) => (d.targets[0]!.alarms = 'x-engine-cpu'), /targets\[0\]\.alarms: /],
    [
      'a planned event without a time zone',
      (d) => (d.targets[0]!.plannedEvents = [{ name: 'e', start: '2026-06-01T14:00:00', end: '2026-06-01T15:00:00Z', replicas: 3 }]),
      /targets\[0\]\.plannedEvents\[0\]\.start: /,
    ],
    [
      'a peak-hours minCapacity of 0',
      (d) => (d.targets[0]!.peakHours = [{ name: 'p', startCron: '0 9 ? * MON-FRI *', endCron: '0 17 ? * MON-FRI *', minCapacity: 0 }]),
      /targets\[0\]\.peakHours\[0\]\.minCapacity: /,
    ],
    ['no targets', (d) => delete (d as Record<string, unknown>).targets, /targets: /],
  ])('names the field for %s', (_, mutate, message) => {
    expect(errorFor(mutate)).toMatch(message);
  });

  it('names every bad field in one line', () => {
    const message = errorFor((d) => {
      d.targets[0]!.minCapacity = 11;
      delete d.targets[1]!.work;
    });
    expect(message).toMatch(/targets\[0\]\.minCapacity: .*; targets\[1\]\.work: /);
  });

  it('rejects a document that is not an object', () => {
    for (const value of [null, [], 'targets', 3]) expect(() => parseTargetsDocument(value)).toThrow(ConfigError);
  });

  it('names the source it was given', () => {
    expect(() => parseTargetsDocument({}, 'rendered targets document')).toThrow(/^Invalid rendered targets document: targets: /);
  });
});

describe('Function: parseTargetsJson', () => {
  it('parses the DESIGN.md example from JSON', () => {
    expect(parseTargetsJson(JSON.stringify(designExample())).targets).toHaveLength(3);
  });

  it.each([undefined, '', '   '])('says the variable is not set for %j', (json) => {
    expect(() => parseTargetsJson(json)).toThrow(/^Invalid MLSCALE_CONFIG: is not set; it must hold the managed-targets JSON document$/);
  });

  it('says the text is not JSON, on one line', () => {
    let message = '';
    try {
      parseTargetsJson('{"targets": [');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid MLSCALE_CONFIG: is not valid JSON \(/);
    expect(message).not.toContain('\n');
  });

  it('checks the parsed document like parseTargetsDocument', () => {
    const doc = designExample();
    delete doc.targets[2]!.work;
    expect(() => parseTargetsJson(JSON.stringify(doc))).toThrow(/targets\[2\]\.work: required for a scale-to-zero target/);
  });
});

describe('Function: emergencyCeiling', () => {
  it('is the target own ceiling, or twice its maximum', () => {
    const doc = designExample();
    doc.targets[1]!.emergencyCeiling = 7;
    const [engine, embedder] = parseTargetsDocument(doc).targets;
    expect(emergencyCeiling(engine!)).toBe(20);
    expect(emergencyCeiling(embedder!)).toBe(7);
  });
});

describe('Function: describeTarget', () => {
  it('names the ECS service or the node group', () => {
    const [engine, , gpu] = parseTargetsDocument(designExample()).targets;
    expect(describeTarget(engine!)).toBe('service/pipestream/engine');
    expect(describeTarget(gpu!)).toBe('nodegroup/ml-prod/gpu-workers');
  });
});
