import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { fraction, holdDuration, interval, parseSpan } from '../../src/cli/args';
import { renderTable } from '../../src/cli/output';
import { FIXTURE, expectOneLineError, lines, run } from './harness';

describe('tables', () => {
  it('are left-aligned, three spaces apart, with one-word UPPERCASE headers', () => {
    expect(renderTable(['NAME', 'TASK_MIN', 'REASON'], [['engine', 12, 'a reason with words'], ['cpu-modules', 3, 'short']]).split('\n')).toEqual([
      'NAME          TASK_MIN   REASON',
      'engine        12         a reason with words',
      'cpu-modules   3          short',
    ]);
    expect(() => renderTable(['TASK MIN'], [])).toThrow(/one UPPERCASE word/);
    expect(() => renderTable(['x Oracle'], [])).toThrow(/one UPPERCASE word/);
  });

  it('keep every column but the last one token, so awk counts fields right', () => {
    const table = renderTable(['A', 'B', 'C'], [['two words', '', 'free text here']]);
    expect(table.split('\n')[1]!.split(/\s+/)).toEqual(['two_words', '-', 'free', 'text', 'here']);
  });
});

describe('argument parsing', () => {
  it('durations for holds: compound units, at most 7d', () => {
    expect(parseSpan('1h30m')).toBe(5400);
    expect(parseSpan('2d')).toBe(172_800);
    expect(parseSpan('45s')).toBe(45);
    expect(parseSpan('1.5h')).toBeUndefined();
    expect(parseSpan('0h')).toBeUndefined();
    expect(holdDuration('7d')).toBe(604_800);
    expect(() => holdDuration('7d1m')).toThrow(/at most 7d/);
  });

  it('intervals: at least 1s; a bare number is seconds', () => {
    expect(interval('5')).toBe(5000);
    expect(interval('2s')).toBe(2000);
    expect(interval('1500ms')).toBe(1500);
    expect(interval('1m')).toBe(60_000);
    expect(() => interval('999ms')).toThrow(/at least 1s/);
    expect(() => interval('-1')).toThrow(/must be a duration/);
  });

  it('fractions: (0, 1], or a percentage with its sign; never a bare number above 1', () => {
    expect(fraction('0.7', '--f')).toBe(0.7);
    expect(fraction('1', '--f')).toBe(1);
    expect(fraction('70%', '--f')).toBeCloseTo(0.7);
    for (const bad of ['1.5', '70', '0', '-0.2', '', 'x', '101%']) expect(() => fraction(bad, '--f'), bad).toThrow(/must be a fraction in \(0, 1\], e\.g\. 0\.7/);
  });
});

describe('mlscale simulate output', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlscale-cli-sim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const trace = path.join(dir, 'small.csv');
  writeFileSync(trace, ['timestamp,rps', ...Array.from({ length: 30 }, (_, m) => `2026-06-02T10:${String(m).padStart(2, '0')}:00Z,${m < 15 ? 80 : 300}`)].join('\n'));

  it('the table: single-word headers, one row per policy, awk-friendly', async () => {
    const r = await run('simulate', '--trace', trace, '--policy', 'target-tracking,oracle');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^mlscale simulation: engine \(production\) on small\.csv: 30 minutes/);
    expect(out[1]!.split(/\s+/)).toEqual(['POLICY', 'TASK_MIN', 'X_ORACLE', 'COST_USD', 'VIOLATION_MIN', 'VIOLATION_PCT', 'PEAK_BACKLOG', 'SCALE_ACTIONS', 'COLD_STARTS', 'EMERGENCIES', 'FLAPS']);
    expect(out.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['target-tracking', 'oracle']);
    expect(out.slice(2).every((l) => l.split(/\s+/).length === 11)).toBe(true);
  });

  it('-o json is the --json document; -o yaml the same document', async () => {
    const json = await run('simulate', '--trace', trace, '--policy', 'oracle', '-o', 'json');
    const alias = await run('simulate', '--trace', trace, '--policy', 'oracle', '--json');
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(alias.stdout));
    expect(JSON.parse(json.stdout)).toMatchObject({ minutes: 30, pool: { name: 'engine' }, policies: { oracle: { taskMinutes: expect.any(Number) } } });
    const yaml = await run('simulate', '--trace', trace, '--policy', 'oracle', '-o', 'yaml');
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it('rejects another format and a missing config in one line', async () => {
    expectOneLineError(await run('simulate', '--trace', trace, '-o', 'pretty'), /^Error: option '-o, --output <format>' argument 'pretty' is invalid\. Allowed choices are table, wide, json, yaml, name\.$/);
    expectOneLineError(await run('simulate', '--trace', trace, '--config', 'nope.json'), 'Error: cannot read config nope.json (ENOENT; see --config)');
  });
});

const completionDir = mkdtempSync(path.join(tmpdir(), 'mlscale-completion-'));
afterAll(() => rmSync(completionDir, { recursive: true, force: true }));

/** Complete `line` (the word under the cursor last) with the bash script; PATH has a stand-in `mlscale` that prints the targets. */
async function complete(line: string[]): Promise<string[]> {
  const script = path.join(completionDir, 'mlscale.bash');
  writeFileSync(script, (await run('completion', 'bash')).stdout);
  const bin = path.join(completionDir, 'mlscale');
  writeFileSync(bin, '#!/bin/sh\n[ "$1 $2" = "__complete targets" ] && printf "engine\\ncpu-modules\\nnodegroup/gpu-workers\\n"\n');
  chmodSync(bin, 0o755);
  const words = line.map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _mlscale; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${completionDir}:${process.env.PATH}` },
  });
  expect(r.stderr).toBe('');
  return lines(r.stdout);
}

describe('mlscale completion', () => {
  it('bash: commands, flags, -o formats, resource kinds and target names', async () => {
    expect(await complete(['mlscale', ''])).toEqual(expect.arrayContaining(['get', 'scale', 'pause', 'resume', 'holds', 'release', 'describe', 'emergency', 'prescale', 'plan', 'simulate', 'completion']));
    expect(await complete(['mlscale', 'sc'])).toEqual(['scale']);
    expect(await complete(['mlscale', 'scale', 'engine', '--r'])).toEqual(['--replicas', '--raise-max']);
    expect(await complete(['mlscale', 'get', '-o', ''])).toEqual(['table', 'wide', 'json', 'yaml', 'name']);
    expect(await complete(['mlscale', 'simulate', '-o', ''])).toEqual(['table', 'wide', 'json', 'yaml', 'name']);
    expect(await complete(['mlscale', 'get', 'n'])).toEqual(['nodegroup', 'nodegroups', 'ng']);
    expect(await complete(['mlscale', 'scale', ''])).toEqual(['engine', 'cpu-modules', 'nodegroup/gpu-workers']);
    expect(await complete(['mlscale', 'describe', 'cp'])).toEqual(['cpu-modules']);
  });

  it('zsh: a #compdef script with every command described and the same flags', async () => {
    const r = await run('completion', 'zsh');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#compdef mlscale\n')).toBe(true);
    expect(r.stdout).toContain("'scale:set the replicas of a managed ECS service");
    expect(r.stdout).toMatch(/^ {8}scale\) compadd -- .*--replicas .*--raise-max/m);
    expect(r.stdout).toContain('compdef _mlscale mlscale');
    expect(r.stdout).toContain('mlscale __complete targets');
    expect(r.stdout).not.toContain('__complete:');
  });

  it('__complete targets prints the managed targets of the config, one per line', async () => {
    const r = await run('__complete', 'targets', '--config', FIXTURE);
    expect(lines(r.stdout)).toEqual(['engine', 'cpu-modules', 'gpu-modules', 'nodegroup/gpu-workers', 'nodegroup/gpu-batch']);
    expect((await run('--help')).stdout).not.toContain('__complete');
  });

  it('an unknown shell is one Error line', async () => {
    expectOneLineError(await run('completion', 'fish'), "Error: completion: unknown shell 'fish' (use bash or zsh)");
  });
});
