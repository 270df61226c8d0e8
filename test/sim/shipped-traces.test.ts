import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestLog } from '../../scripts/azure-request-log';
import { parseTrace } from '../../src/sim/trace';

const TRACES = path.join(__dirname, '..', '..', 'traces');

describe('scripts/azure-request-log.ts', () => {
  const dataset = 'TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.9799600,4808,10\r\n2023-11-16 18:17:04.0319600,3180,8\r\n2023-11-16 18:18:30.5000000,110,27\r\n';

  it("keeps the time column of every request, in order, and drops the token counts (CRLF or LF)", () => {
    const expected = 'timestamp\n2023-11-16 18:17:03.9799600\n2023-11-16 18:17:04.0319600\n2023-11-16 18:18:30.5000000\n';
    expect(requestLog(dataset, 'code.csv')).toBe(expected);
    expect(requestLog(dataset.replace(/\r\n/g, '\n'), 'code.csv')).toBe(expected);
  });

  it('what it writes is a request log the simulator counts per minute', () => {
    const trace = parseTrace(requestLog(dataset, 'code.csv'), 'code.csv');
    expect(trace.rps.length).toBe(2);
    expect(trace.rps[0]! * 60).toBeCloseTo(2);
    expect(trace.rps[1]! * 60).toBeCloseTo(1);
  });

  it.each([
    ['timestamp,value\n2023-11-16 18:17:03,4\n', "code.csv: expected the header 'TIMESTAMP,ContextTokens,GeneratedTokens', got 'timestamp,value'"],
    ['TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,48x8,10\n', "code.csv: line 2 is not 'TIMESTAMP,ContextTokens,GeneratedTokens': '2023-11-16 18:17:03.97,48x8,10'"],
  ])('refuses a file that is not the dataset, naming the line', (csv, message) => {
    expect(() => requestLog(csv, 'code.csv')).toThrow(message);
  });
});

describe('the Azure LLM request logs in traces/', () => {
  it.each([
    ['azure_llm_code.csv', 8_819],
    ['azure_llm_conv.csv', 19_366],
  ])('%s: every request of the hour, counted per minute', (file, requests) => {
    const trace = parseTrace(readFileSync(path.join(TRACES, file), 'utf8'), file);
    const counted = Array.from(trace.rps).reduce((sum, rps) => sum + rps * 60, 0);
    expect(Math.round(counted)).toBe(requests);
    expect(trace.rps.length).toBeGreaterThanOrEqual(55);
    expect(trace.rps.length).toBeLessThanOrEqual(62);
  });
});
