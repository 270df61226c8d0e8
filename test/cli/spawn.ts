import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** A localhost port nothing listens on: bound, then closed. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Spawned {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/mlscale.js ...args` as a child process, as a user runs it, with dummy credentials and an endpoint. */
export function mlscale(env: Record<string, string | undefined>, ...args: string[]): Promise<Spawned> {
  const base: Record<string, string | undefined> = {
    ...process.env,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mlscale.js'), ...args], { cwd: ROOT, env: base as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

