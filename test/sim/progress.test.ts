import { describe, expect, it } from 'vitest';
import { minutesProgress, ProgressLine, progressLine } from '../../src/sim/progress';

/** A stream that records what is written, and a clock that moves `step` ms per reading. */
function fake(isTTY: boolean, step: number) {
  const written: string[] = [];
  let t = 0;
  return { stream: { isTTY, write: (s: string) => written.push(s) }, now: () => (t += step), written };
}

describe('the progress line', () => {
  it('says how far a long run is, in place, at most every 250 ms, and erases itself at the end', () => {
    const f = fake(true, 100);
    const p = new ProgressLine(f.stream, { now: f.now });
    for (let done = 0; done <= 100_000; done += 4_096) p.update(() => minutesProgress('simulating nyc_taxi.csv', done, 309_600));
    p.done();
    expect(f.written.length).toBeGreaterThan(1);
    // Nothing in the first 2 s (the 20th reading after the start); then every third reading (300 ms apart).
    expect(f.written[0]).toBe('\rsimulating nyc_taxi.csv: 25 % (77,824 of 309,600 minutes)');
    expect(f.written[1]).toBe('\rsimulating nyc_taxi.csv: 29 % (90,112 of 309,600 minutes)');
    expect(f.written.slice(0, -1).every((w) => w.startsWith('\r') && !w.includes('\n'))).toBe(true);
    expect(f.written[f.written.length - 1]).toMatch(/^\r {50,}\r$/);
  });

  it('writes nothing for a short run', () => {
    const f = fake(true, 1);
    const p = new ProgressLine(f.stream, { now: f.now });
    for (let i = 0; i < 1_000; i++) p.update(() => 'x');
    p.done();
    expect(f.written).toEqual([]);
  });

  it('is made only for a table on a terminal', () => {
    expect(progressLine('table', { isTTY: true, write: () => true })).toBeInstanceOf(ProgressLine);
    expect(progressLine('json', { isTTY: true, write: () => true })).toBeUndefined();
    expect(progressLine('yaml', { isTTY: true, write: () => true })).toBeUndefined();
    expect(progressLine('table', { isTTY: false, write: () => true })).toBeUndefined();
    expect(progressLine('table', { write: () => true })).toBeUndefined();
  });

  it('pads over a longer line it wrote before', () => {
    const f = fake(true, 1_000);
    const p = new ProgressLine(f.stream, { now: f.now });
    p.update(() => 'too early');
    p.update(() => 'a long line');
    p.update(() => 'short');
    p.done();
    expect(f.written).toEqual(['\ra long line', '\rshort      ', `\r${' '.repeat(11)}\r`]);
  });
});
