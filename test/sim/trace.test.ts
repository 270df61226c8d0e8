import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare } from '../../src/sim/compare';
import { htmlReport } from '../../src/sim/html';
import {
  INTERPOLATE_ABOVE_SECONDS,
  materialize,
  MAX_GAP_HOURS,
  maxOf,
  openTraceFile,
  parseTimestamp,
  parseTrace,
  rescaleStream,
  rescaleToPeak,
  shown,
  sliceTrace,
  TraceError,
} from '../../src/sim/trace';
import { DAY, MINUTE_MS, minuteTrace, simPool } from './helpers';

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;

/** The TraceError `parseTrace` throws for `text`. */
function traceError(text: string, source = 'x.csv'): TraceError {
  try {
    parseTrace(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(TraceError);
    return err as TraceError;
  }
  throw new Error('parseTrace did not throw');
}

describe('parseTimestamp', () => {
  it('reads ISO-8601 with Z, with an offset, and without a zone as UTC', () => {
    expect(parseTimestamp('2026-06-02T10:00:00Z')).toBe(DAY + 10 * 60 * MINUTE_MS);
    expect(parseTimestamp('2026-06-02T12:00:00+02:00')).toBe(DAY + 10 * 60 * MINUTE_MS);
    expect(parseTimestamp('2026-06-02T10:00:00')).toBe(DAY + 10 * 60 * MINUTE_MS);
  });

  it('reads YYYY-MM-DD HH:MM:SS as UTC', () => {
    expect(parseTimestamp('2026-06-02 10:00:00')).toBe(DAY + 10 * 60 * MINUTE_MS);
  });

  it('reads epoch seconds and epoch milliseconds as the same instant', () => {
    expect(parseTimestamp(String(DAY / 1000))).toBe(DAY);
    expect(parseTimestamp(String(DAY))).toBe(DAY);
    expect(parseTimestamp('"1780358400"')).toBe(DAY);
  });

  it('is NaN for text that is no time', () => {
    expect(parseTimestamp('abc')).toBeNaN();
    expect(parseTimestamp('')).toBeNaN();
    expect(parseTimestamp('02/06/2026 10:00')).toBeNaN();
  });
});

describe('parseTrace: rate series', () => {
  const expected = { start: DAY, rps: [10, 20, 30], shape: 'rate series', intervalSeconds: 60, gapsFilled: 0 };

  it('reads ISO times', () => {
    const t = parseTrace(csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:01:00Z,20', '2026-06-02T00:02:00Z,30'), 'iso.csv');
    expect(t).toMatchObject({ name: 'iso.csv', ...expected });
  });

  it('reads YYYY-MM-DD HH:MM:SS times and any known value column name', () => {
    const t = parseTrace(csv('time,requests', '2026-06-02 00:00:00,10', '2026-06-02 00:01:00,20', '2026-06-02 00:02:00,30'));
    expect(t).toMatchObject(expected);
  });

  it('reads epoch seconds and epoch milliseconds to the same trace', () => {
    const s = DAY / 1000;
    const seconds = parseTrace(csv('ts,value', `${s},10`, `${s + 60},20`, `${s + 120},30`));
    const millis = parseTrace(csv('ts,value', `${DAY},10`, `${DAY + 60_000},20`, `${DAY + 120_000},30`));
    expect(seconds).toMatchObject(expected);
    expect(millis).toMatchObject(expected);
  });

  it('matches header names case-insensitively, ignores other columns, quotes, comments, blank lines and CRLF', () => {
    const text = '# exported by a tool\r\nHost,"Timestamp",Load\r\na,"2026-06-02T00:00:00Z",10\r\n\r\nb,2026-06-02T00:01:00Z,20\r\nc,2026-06-02T00:02:00Z,30\r\n';
    expect(parseTrace(text)).toMatchObject(expected);
  });

  it('sorts rows that are out of order', () => {
    const t = parseTrace(csv('timestamp,rps', '2026-06-02T00:02:00Z,30', '2026-06-02T00:00:00Z,10', '2026-06-02T00:01:00Z,20'));
    expect(t.rps).toEqual([10, 20, 30]);
  });

  it('spreads 5-minute rows over 5 equal minutes', () => {
    const t = parseTrace(csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:05:00Z,20', '2026-06-02T00:10:00Z,30'));
    expect(t.intervalSeconds).toBe(300);
    expect(t.gapsFilled).toBe(0);
    expect(t.rps).toEqual([10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 30, 30, 30, 30, 30]);
  });

  it('averages a 30-second series per minute', () => {
    const t = parseTrace(
      csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:00:30Z,20', '2026-06-02T00:01:00Z,30', '2026-06-02T00:01:30Z,50'),
    );
    expect(t.intervalSeconds).toBe(30);
    expect(t.rps).toEqual([15, 40]);
  });

  it('holds the previous value over a gap and counts the missing intervals', () => {
    const t = parseTrace(
      csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:01:00Z,20', '2026-06-02T00:04:00Z,40', '2026-06-02T00:05:00Z,50'),
    );
    expect(t.gapsFilled).toBe(2);
    expect(t.rps).toEqual([10, 20, 20, 20, 40, 50]);
  });

  it('counts a missing 5-minute row as one gap', () => {
    const t = parseTrace(
      csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:05:00Z,20', '2026-06-02T00:15:00Z,30', '2026-06-02T00:20:00Z,40'),
    );
    expect(t.intervalSeconds).toBe(300);
    expect(t.gapsFilled).toBe(1);
    expect(t.rps).toHaveLength(25);
    expect(t.rps.slice(5, 15)).toEqual(Array(10).fill(20));
  });
});

describe('parseTrace: request log', () => {
  it('counts one row per request per minute, as req/s (count / 60), when the header is the time column alone', () => {
    const t = parseTrace(
      csv(
        'timestamp',
        '2026-06-02T00:00:05Z,/a,200',
        '2026-06-02T00:00:10Z,/b,200',
        '2026-06-02T00:00:10Z,/b,200',
        '2026-06-02T00:00:59.900Z,/a,500',
        '2026-06-02T00:01:30Z,/a,200',
        '2026-06-02T00:03:00Z,/a,200',
      ),
    );
    expect(t.shape).toBe('request log');
    expect(t.start).toBe(DAY);
    expect(t.intervalSeconds).toBe(60);
    expect(t.gapsFilled).toBe(0);
    expect(t.rps).toEqual([4 / 60, 1 / 60, 0, 1 / 60]);
  });

  it('sorts a log out of time order (the one case held in memory)', () => {
    const t = parseTrace(csv('time', '2026-06-02T00:03:00Z', '2026-06-02T00:00:05Z', '2026-06-02T00:00:05Z', '2026-06-02T00:01:30Z'));
    expect(t.rps).toEqual([2 / 60, 1 / 60, 0, 1 / 60]);
  });

  it('counts a log of 200,000 requests without overflowing the stack', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => String(DAY / 1000 + Math.floor(i / 100)));
    const t = parseTrace(`timestamp\n${rows.join('\n')}\n`);
    expect(t.rps).toHaveLength(Math.ceil(200_000 / 100 / 60));
    expect(t.rps[0]).toBeCloseTo((60 * 100) / 60, 9);
  });
});

describe('parseTrace errors: one line naming the file and the line', () => {
  it('a bad time', () => {
    const err = traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,1', 'abc,2'));
    expect(err.name).toBe('TraceError');
    expect(err.message).toBe("trace x.csv: line 3: cannot read time 'abc' (ISO-8601 or epoch seconds)");
  });

  it('counts lines in the file, comments and blank lines included', () => {
    const err = traceError(csv('# from the load balancer', 'timestamp,rps', '2026-06-02T00:00:00Z,1', '', 'abc,2'));
    expect(err.message).toMatch(/^trace x\.csv: line 5: cannot read time 'abc'/);
  });

  it('a negative value', () => {
    const err = traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,1', '2026-06-02T00:01:00Z,-5'));
    expect(err.message).toBe("trace x.csv: line 3: rps must be a number >= 0, got '-5'");
  });

  it('a value that is no number', () => {
    expect(traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,lots', '2026-06-02T00:01:00Z,1')).message).toMatch(/^trace x\.csv: line 2: rps must be a number/);
  });

  it('no time column', () => {
    const err = traceError(csv('when,rps', '2026-06-02T00:00:00Z,1'));
    expect(err.message).toMatch(/^trace x\.csv: no time column \(one of timestamp, time, ts, datetime, date, minute\)/);
    expect(err.message).toContain("'when,rps'");
  });

  it('only a header; an empty file', () => {
    expect(traceError(csv('timestamp,rps')).message).toBe('trace x.csv: needs a header row and at least one data row');
    expect(traceError(csv('# only a comment', 'timestamp')).message).toBe('trace x.csv: needs a header row and at least one data row');
    expect(traceError('').message).toBe('trace x.csv: is empty');
    expect(traceError('\n  \n\r\n').message).toBe('trace x.csv: is empty');
  });

  it('a header with a time column but no value column is not taken for a request log', () => {
    const err = traceError(csv('timestamp,latency_ms', '2026-06-02T00:00:00Z,12', '2026-06-02T00:01:00Z,15'));
    expect(err.message).toBe(
      "trace x.csv: no value column (one of rps, requests, value, load, count, requests_per_second) in header 'timestamp,latency_ms'; a request log (one row per request) has the time column alone",
    );
    expect(traceError(csv('timestamp,path,status', '2026-06-02T00:00:05Z,/a,200')).message).toMatch(/no value column/);
  });

  it('a rate series of one row, or with duplicate times (named by line, in or out of order)', () => {
    expect(traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,1')).message).toBe('trace x.csv: a rate series needs at least two rows');
    expect(traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,1', '2026-06-02T00:00:00Z,2')).message).toBe(
      'trace x.csv: duplicate timestamp 2026-06-02T00:00:00Z on lines 2 and 3: the rows must be one per interval',
    );
    const shuffled = csv('timestamp,rps', '2026-06-02T00:02:00Z,1', '2026-06-02T00:00:00Z,1', '2026-06-02T00:01:00Z,2', '2026-06-02T00:02:00Z,2');
    expect(traceError(shuffled).message).toBe('trace x.csv: duplicate timestamp 2026-06-02T00:02:00Z on lines 2 and 5: the rows must be one per interval');
    // The same instant written two ways is a duplicate too.
    expect(traceError(csv('timestamp,rps', '2026-06-02T00:00:00Z,1', String(DAY / 1000) + ',2')).message).toMatch(/^trace x\.csv: duplicate timestamp/);
  });

  it(`a gap of more than ${MAX_GAP_HOURS} hours is an error naming the lines`, () => {
    const rows = (gapHours: number) => [
      'timestamp,rps',
      '2026-06-02T00:00:00Z,1',
      '2026-06-02T00:05:00Z,1',
      `${new Date(DAY + 5 * MINUTE_MS + gapHours * 3_600_000 + 5 * MINUTE_MS).toISOString()},1`,
      `${new Date(DAY + 5 * MINUTE_MS + gapHours * 3_600_000 + 10 * MINUTE_MS).toISOString()},1`,
    ];
    expect(traceError(csv(...rows(6.5))).message).toBe(
      'trace x.csv: a gap of 6.5 hours with no rows between line 3 (2026-06-02T00:05:00Z) and line 4: gaps of up to 6 hours are filled, longer ones are an outage, not load (split the trace there or fill the gap)',
    );
    // Up to the threshold, the gap is filled and counted.
    const t = parseTrace(csv(...rows(6)));
    expect(t.gapsFilled).toBe(72);
    expect([t.gapMinutes, t.largestGap]).toEqual([360, { minutes: 360, from: DAY + 10 * MINUTE_MS }]);
  });

  it('a binary file: one line, none of its bytes', () => {
    const err = traceError('timestamp,rps\n\u0000\u0001\u00ff\u0007PNG\n');
    expect(err.message).toBe('trace x.csv: is not a text CSV: it holds binary data (a NUL byte at character 15)');
  });

  it('shows a bad cell without control characters, cut to 40 characters', () => {
    const err = traceError(csv('timestamp,rps', `\u001b[31m${'x'.repeat(60)},1`));
    expect(err.message).toBe(`trace x.csv: line 2: cannot read time '?[31m${'x'.repeat(35)}…' (ISO-8601 or epoch seconds)`);
    expect(shown('a\tb\u007fc\ufffd')).toBe('a?b?c?');
  });

  it('every message is a single line', () => {
    const texts = [
      csv('timestamp,rps', 'abc,1'),
      csv('when,rps', 'a,1'),
      csv('timestamp,rps'),
      csv('timestamp,rps', '2026-06-02T00:00:00Z,-1'),
      csv('timestamp,latency', '2026-06-02T00:00:00Z,1'),
      csv('timestamp,rps', '2026-06-02T00:00:00Z,1', '2026-06-02T00:00:00Z,1'),
      '',
      'timestamp,rps\n\u0000\n',
    ];
    for (const text of texts) expect(traceError(text).message).not.toContain('\n');
  });
});

describe('parseTrace: coarse intervals are interpolated linearly', () => {
  it(`joins rows more than ${INTERPOLATE_ABOVE_SECONDS / 60} minutes apart: each row at its interval's middle, a minute at its start`, () => {
    const t = parseTrace(csv('timestamp,value', '2026-06-02 00:00:00,10', '2026-06-02 00:30:00,40'));
    expect(t).toMatchObject({ intervalSeconds: 1800, interpolated: true, gapsFilled: 0 });
    expect(t.rps).toHaveLength(60);
    // Row 1 (10) sits at 00:15, row 2 (40) at 00:45: 1 req/s more per minute in between.
    expect(t.rps.slice(0, 16)).toEqual(Array(16).fill(10));
    expect(t.rps[16]).toBeCloseTo(11, 12);
    expect(t.rps[30]).toBeCloseTo(25, 12);
    expect(t.rps[44]).toBeCloseTo(39, 12);
    expect(t.rps.slice(45)).toEqual(Array(15).fill(40));
    for (let m = 15; m <= 45; m++) expect(t.rps[m], `minute ${m}`).toBeCloseTo(10 + (m - 15), 9);
  });

  it('interpolates across a gap, and keeps the trace as long as held rows would', () => {
    const t = parseTrace(csv('timestamp,value', '2026-06-02 00:00:00,0', '2026-06-02 00:30:00,30', '2026-06-02 01:30:00,90', '2026-06-02 02:00:00,90'));
    expect(t).toMatchObject({ interpolated: true, gapsFilled: 1, gapMinutes: 30, largestGap: { minutes: 30, from: DAY + 60 * MINUTE_MS } });
    expect(t.rps).toHaveLength(150);
    // 30 at 00:45 to 90 at 01:45: a straight line over the missing row.
    expect(t.rps[75]).toBeCloseTo(60, 12);
    expect(t.rps[105]).toBe(90);
  });

  it(`holds rows up to ${INTERPOLATE_ABOVE_SECONDS / 60} minutes apart (a 5-minute series stays a step function)`, () => {
    const t = parseTrace(csv('timestamp,rps', '2026-06-02T00:00:00Z,10', '2026-06-02T00:05:00Z,20'));
    expect(t.interpolated).toBe(false);
    expect(t.rps).toEqual([10, 10, 10, 10, 10, 20, 20, 20, 20, 20]);
  });
});

describe('streaming a trace file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-trace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer) => {
    const f = path.join(dir, name);
    writeFileSync(f, content);
    return f;
  };
  const fileError = (f: string) => {
    try {
      openTraceFile(f, path.basename(f));
    } catch (err) {
      expect(err).toBeInstanceOf(TraceError);
      return (err as TraceError).message;
    }
    throw new Error('openTraceFile did not throw');
  };

  it('reads the same minutes as parseTrace, across 64 KiB chunks, CRLF, a BOM and comments, on every pass', () => {
    const lines = ['\ufeff# exported', 'timestamp,rps', ...Array.from({ length: 5000 }, (_, m) => `${new Date(DAY + m * MINUTE_MS).toISOString()},${(m * 7) % 101}`)];
    const text = lines.join('\r\n') + '\r\n';
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 * 65_536);
    const stream = openTraceFile(write('long.csv', text), 'long.csv');
    const inMemory = parseTrace(text, 'long.csv');
    expect(materialize(stream)).toEqual(inMemory);
    expect(materialize(stream).rps).toEqual(inMemory.rps);
    expect(stream.minutes).toBe(5000);
  });

  it('rescales a stream exactly as a trace in memory', () => {
    const text = csv('timestamp,value', '2026-06-02 00:00:00,3', '2026-06-02 00:30:00,7', '2026-06-02 01:00:00,5');
    const a = materialize(rescaleStream(openTraceFile(write('r.csv', text), 'r.csv'), 0.8, 500));
    const b = rescaleToPeak(parseTrace(text, 'r.csv'), 0.8, 500);
    expect(a).toEqual(b);
    expect(a.rescale).toEqual({ factor: 400 / 7, fraction: 0.8, fullCapacityRps: 500, rawPeak: 7 });
  });

  it('a binary file, and a file that is not UTF-8: one line, no raw bytes', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    expect(fileError(write('image.png', png))).toBe('trace image.png: is not a text CSV: it holds binary data (a NUL byte at byte 9)');
    const latin1 = Buffer.concat([Buffer.from('timestamp,rps\n2026-06-02T00:00:00Z,1\n'), Buffer.from([0xe9, 0xff, 0xfe, 0x0a])]);
    const msg = fileError(write('latin1.csv', latin1));
    expect(msg).toBe('trace latin1.csv: is not a text CSV: bytes 1-41 are not UTF-8 text');
    // Printable ASCII only: none of the file's bytes.
    expect(msg).toMatch(/^[\x20-\x7e]+$/);
    expect(fileError(write('empty.csv', ''))).toBe('trace empty.csv: is empty');
  });
});

describe('rescaleToPeak', () => {
  const trace = minuteTrace([1, 2, 4, 0]);

  it('scales the busiest minute to fraction × full capacity, keeping the shape', () => {
    const scaled = rescaleToPeak(trace, 0.5, 100);
    expect(scaled.rps).toEqual([12.5, 25, 50, 0]);
    expect(scaled.start).toBe(trace.start);
    expect(trace.rps).toEqual([1, 2, 4, 0]);
  });

  it('refuses a fraction that is not > 0, and a trace with no load', () => {
    for (const f of [0, -0.5, Number.NaN]) expect(() => rescaleToPeak(trace, f, 100)).toThrow(TraceError);
    expect(() => rescaleToPeak(trace, 0, 100)).toThrow('--peak-utilization must be > 0, got 0');
    expect(() => rescaleToPeak(minuteTrace([0, 0]), 0.8, 100)).toThrow('has no load at all');
  });
});

describe('maxOf and long traces', () => {
  it('finds the maximum of 500,000 values without overflowing the stack', () => {
    const xs = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 100_003);
    xs[321_987] = 1e6;
    expect(maxOf(xs)).toBe(1e6);
    expect(maxOf(Float64Array.from(xs))).toBe(1e6);
    expect(maxOf([])).toBe(-Infinity);
  });

  it('rescales, compares and charts a 500,000-minute trace', () => {
    const rps = Array.from({ length: 500_000 }, (_, i) => (i % 1440) / 10);
    const sim = simPool('gpu-modules');
    const trace = rescaleToPeak(minuteTrace(rps), 0.5, sim.pool.maxCapacity * sim.pool.capacityPerTask);
    const c = compare(trace, sim, ['oracle']);
    expect(c.trace.peakRps).toBe(20);
    const html = htmlReport(c, ['oracle'], 'long');
    expect(html).toContain('id="chart-capacity"');
    // Bucketed for the page, and the page says so.
    expect(html).toMatch(/each point is the maximum of \d+ minutes/i);
  });
});

describe('sliceTrace', () => {
  it('keeps minutes [from, to) and moves the start', () => {
    const s = sliceTrace(minuteTrace([0, 1, 2, 3, 4]), 1, 3);
    expect(s.rps).toEqual([1, 2]);
    expect(s.start).toBe(DAY + MINUTE_MS);
  });
});
