/**
 * The rules that keep mlscale's spine simple, checked on the source itself
 * (ESLint's no-restricted-imports says the same while editing):
 * - one owner of capacity: only the reconciler (lambdas/reconcile) imports
 *   lambdas/aws/limits-writer.ts, and only limits-writer sends the commands
 *   that change limits, suspension or desired;
 * - only lambdas/aws imports the AWS SDK;
 * - lambdas/core is pure: no CDK, no SDK, no adapters, no handlers;
 * - every SDK call goes through lambdas/aws/send.ts (retries, typed errors, the IAM harness).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './util';

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(ROOT, rel)).isDirectory() ? files(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

const SOURCE = ['bin', 'lib', 'lambdas', 'src', 'bench', 'scripts'].flatMap(files);
const source = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const imports = (file: string) => [...source(file).matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
const resolved = (file: string, spec: string) => (spec.startsWith('.') ? path.join(path.dirname(file), spec) : spec);

describe('Architecture', () => {
  it('lets only the reconciler import the capacity writer', () => {
    const importers = SOURCE.filter((f) => imports(f).some((spec) => resolved(f, spec) === path.join('lambdas', 'aws', 'limits-writer')));
    expect(importers.length).toBeGreaterThan(0);
    for (const f of importers) expect(f, `${f} imports limits-writer`).toMatch(/^lambdas[\\/]reconcile[\\/]/);
  });

  it('sends the commands that change capacity from limits-writer.ts only', () => {
    const writers = SOURCE.filter((f) => /new (RegisterScalableTargetCommand|UpdateServiceCommand|UpdateNodegroupConfigCommand|DeregisterScalableTargetCommand|PutScheduledActionCommand)\(/.test(source(f)));
    expect(writers).toEqual([path.join('lambdas', 'aws', 'limits-writer.ts')]);
  });

  it('lets only lambdas/aws import the AWS SDK', () => {
    for (const f of SOURCE.filter((f) => !f.startsWith(path.join('lambdas', 'aws')) && !f.startsWith('bench'))) {
      expect(imports(f).filter((spec) => spec.startsWith('@aws-sdk/') || spec.startsWith('@smithy/')), f).toEqual([]);
    }
  });

  it('keeps lambdas/core pure', () => {
    for (const f of SOURCE.filter((f) => f.startsWith(path.join('lambdas', 'core')))) {
      for (const spec of imports(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(/^(aws-cdk-lib|constructs|@aws-sdk\/|@smithy\/)/);
        if (spec.startsWith('.')) expect(resolved(f, spec), `${f} imports ${spec}`).toMatch(/^lambdas[\\/]core[\\/]/);
      }
    }
  });

  it('sends every SDK command through send()', () => {
    for (const f of SOURCE.filter((f) => f.startsWith(path.join('lambdas', 'aws')) && !f.endsWith('send.ts'))) {
      expect(source(f), f).not.toMatch(/\.send\(/);
    }
  });
});
