/**
 * The contract of DESIGN.md "AWS clients", end to end: `mlscale` as a user
 * runs it (a child process, the real SDK clients, nothing mocked) against a
 * small HTTP server on localhost that speaks the AWS JSON protocols of the
 * calls `holds` and `describe` make, backed by a FakeAws. Only
 * AWS_ENDPOINT_URL points it there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAwsError, type Json } from '../fakes/aws';
import { mlscale } from './spawn';
import { CLUSTER, FIXTURE, SdkFakeAws, TABLE, lines, putHold } from './harness';

/** X-Amz-Target -> the fake's call. The JSON protocols put the operation there and the input in the body. */
const OPERATIONS: Record<string, string> = {
  'DynamoDB_20120810.Query': 'dynamodb:query',
  'DynamoDB_20120810.Scan': 'dynamodb:scan',
  'AmazonEC2ContainerServiceV20141113.DescribeServices': 'ecs:describeServices',
  'AnyScaleFrontendService.DescribeScalableTargets': 'applicationautoscaling:describeScalableTargets',
  // CloudWatch's SDK speaks JSON 1.0 (awsQueryCompatible) since 2025.
  'GraniteServiceVersion20100801.DescribeAlarms': 'cloudwatch:describeAlarms',
};

const fake = new SdkFakeAws();
const seen: string[] = [];
let server: Server;
let endpoint: string;
const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-endpoint-'));
let config: string;

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const target = String(req.headers['x-amz-target'] ?? '');
  seen.push(target);
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${seen.length}` });
    res.end(JSON.stringify(value));
  };
  const call = OPERATIONS[target];
  if (!call) return json(400, { __type: 'UnknownOperationException', message: `this endpoint does not serve ${target || req.url}` });
  try {
    json(200, await fake.handle(call, JSON.parse(body || '{}') as Json, 'sdk'));
  } catch (e) {
    const err = e as FakeAwsError;
    json(err.$metadata?.httpStatusCode ?? 500, { __type: err.name, message: err.message });
  }
}

beforeAll(async () => {
  const now = Math.floor(Date.now() / 1000);
  fake.addService({ cluster: CLUSTER, service: 'engine', desired: 4, min: 2, max: 10 });
  fake.addAlarm('pipestream-production-engine-emergencyLatency', ['ALARM']);
  fake.table(TABLE);
  putHold(fake, { target: 'engine', holder: 'emergency:inc-9', floor: 8, ceiling: 16, suspendScaleIn: true, reason: 'emergency doubling (inc-9)', createdAt: now - 60, expiresAt: now + 3 * 3600 });
  // The fixture with a planned event on engine that is on now (wall-clock time: this is a child process).
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { plannedEvents: unknown[] };
  const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  doc.plannedEvents = [{ name: 'launch', pool: 'engine', start: iso(now - 600), end: iso(now + 7200), replicas: 9 }];
  config = path.join(dir, 'mlscale.json');
  writeFileSync(config, JSON.stringify(doc));
  server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('mlscale against any AWS-compatible endpoint (AWS_ENDPOINT_URL)', () => {
  it('holds engine: reads the holds table with a DynamoDB Query and lists stored and config holds', async () => {
    const r = await mlscale({ AWS_ENDPOINT_URL: endpoint }, 'holds', 'engine', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]!.split(/\s+/)).toEqual(['HOLDER', 'FLOOR', 'CEILING', 'SUSPENDS', 'EXPIRES', 'REASON']);
    // Active holds, the oldest first: the event's window opened 40 min ago (10 min before its start, 30 min lead).
    expect(out[1]).toMatch(/^event:launch\s+9\s+-\s+-\s+\S+Z\(2h\d*m?\)\s+\(config\) planned event launch /);
    expect(out[2]).toMatch(/^emergency:inc-9\s+8\s+16\s+in\s+\S+Z\((2h59m|3h)\)\s+emergency doubling \(inc-9\)$/);
    expect(seen).toContain('DynamoDB_20120810.Query');
  });

  it('describe engine: service, scalable target, holds and alarms, and the reconciler’s verdict', async () => {
    seen.length = 0;
    const r = await mlscale({ AWS_ENDPOINT_URL: endpoint }, 'describe', 'engine', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out.slice(0, 3)).toEqual(['Name:         engine', 'Kind:         service (ECS service engine)', 'Namespace:    pipestream-production']);
    expect(out).toContain('  Desired:    4 (running 4, pending 0)');
    expect(out).toContain('  Limits:     min 2, max 10');
    expect(out).toContain('  pipestream-production-engine-emergencyLatency   ALARM');
    expect(out.find((l) => l.startsWith('  Min:'))).toMatch(/^ {2}Min: {8}9 \(event:launch: planned event launch \(\S+ to \S+, 30 min lead, 20 min cooldown\)\)$/);
    expect(out).toContain('  Max:        16 (emergency:inc-9: emergency doubling (inc-9))');
    expect(out).toContain('  Suspension: scale-in suspended by emergency:inc-9');
    expect(out.at(-1)).toBe('In line:      no: the next reconcile pass would change min 2 -> 9, max 10 -> 16, suspension none -> scale-in, desired 4 -> 9');
    expect([...new Set(seen)].sort()).toEqual([
      'AmazonEC2ContainerServiceV20141113.DescribeServices',
      'AnyScaleFrontendService.DescribeScalableTargets',
      'DynamoDB_20120810.Query',
      'GraniteServiceVersion20100801.DescribeAlarms',
    ]);
    // describe reads only: the fake saw no write.
    expect(fake.changes()).toEqual([]);
  });

  it('an error the endpoint returns is one line with its name', async () => {
    fake.fail({ call: 'dynamodb:query', error: 'AccessDeniedException', cause: 'not authorized to perform: dynamodb:Query', times: 1 });
    const r = await mlscale({ AWS_ENDPOINT_URL: endpoint }, 'holds', 'engine', '--config', config);
    expect(r).toEqual({ status: 1, stdout: '', stderr: 'Error: Access denied: not authorized to perform: dynamodb:Query\n' });
  });
});
