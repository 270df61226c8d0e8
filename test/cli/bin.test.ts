import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');

/** An endpoint nobody listens on (the discard port on loopback): nothing here may reach AWS. */
const NOWHERE = 'http://127.0.0.1:9';

function mlscale(...args: string[]) {
  return mlscaleWith({}, ...args);
}

function mlscaleWith(env: Record<string, string | undefined>, ...args: string[]) {
  const base: Record<string, string | undefined> = { ...process.env, AWS_ENDPOINT_URL: NOWHERE, AWS_REGION: 'eu-west-1', ...env };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return spawnSync(process.execPath, [path.join(ROOT, 'bin', 'mlscale.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: base });
}

/** No credentials anywhere the default chain looks (env, files, SSO, container, instance metadata). */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_CONFIG_FILE: path.join(ROOT, 'no-such-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(ROOT, 'no-such-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('bin/mlscale.js', () => {
  it('--help lists every command and exits 0', () => {
    const r = mlscale('--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const command of ['get', 'scale', 'pause', 'resume', 'emergency', 'prescale', 'plan', 'simulate']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('scale --help shows the usage and options and exits 0', () => {
    const r = mlscale('scale', '--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Usage: mlscale scale [options] <resource> [name]');
    for (const option of ['--replicas <count>', '-n, --namespace <namespace>', '--raise-max', '-o, --output <format>']) expect(r.stdout).toContain(option);
  });

  it('every command has --help', () => {
    for (const command of ['get', 'pause', 'resume', 'emergency', 'prescale', 'plan']) {
      const r = mlscale(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout).toContain(`Usage: mlscale ${command}`);
    }
  });

  it('a bad argument is one Error line and a non-zero exit', () => {
    const r = mlscale('scale', 'engine', '--replicas', '-1');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("Error: --replicas must be a whole number >= 0, got '-1'\n");
  });

  it('with the real SDK clients: a refused connection is one line naming AWS_ENDPOINT_URL', () => {
    const r = mlscaleWith({ AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' }, 'scale', 'engine', '--replicas', '2', '-n', 'pipestream');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Error: Connection failed to ${NOWHERE}: connect ECONNREFUSED 127.0.0.1:9\n`);
  });

  it('with the real SDK clients: no credentials is one line', () => {
    const r = mlscaleWith(NO_CREDENTIALS, 'get', 'services', '-A');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: No AWS credentials found .*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});
