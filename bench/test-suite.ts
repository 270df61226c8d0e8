/**
 * How long `npm test` takes and how much memory it needs: the README's test
 * command (type check, lint, every vitest test, a synth), run as CI runs it.
 * Memory is the peak of the summed resident set of the whole process tree
 * (npm, tsc, eslint, vitest and its workers, cdk), sampled from /proc every
 * 250 ms: what the machine must have free, not what one process used.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface SuiteRun {
  readonly seconds: number;
  readonly peakMiB: number;
  readonly exitCode: number;
}

const ROOT = path.join(__dirname, '..');

/** Parent pid and resident KiB of every process, from /proc (Linux only). */
function processTable(): Map<number, { ppid: number; rssKiB: number }> {
  const table = new Map<number, { ppid: number; rssKiB: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      table.set(Number(entry), { ppid, rssKiB });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return table;
}

/** Summed RSS (KiB) of `root` and all its descendants. */
function treeRssKiB(root: number): number {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += table.get(pid)?.rssKiB ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

export function measureTestSuite(): Promise<SuiteRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('npm', ['test'], { cwd: ROOT, stdio: 'ignore', env: process.env });
    let peakKiB = 0;
    const timer = setInterval(() => {
      if (child.pid) peakKiB = Math.max(peakKiB, treeRssKiB(child.pid));
    }, 250);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ seconds: (performance.now() - started) / 1000, peakMiB: peakKiB / 1024, exitCode: code ?? 1 });
    });
  });
}
