import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/main';
import { FIXTURE, run } from './harness';
import { closedPort, mlscale } from './spawn';

const COMMANDS = ['get', 'describe', 'scale', 'pause', 'resume', 'holds', 'release', 'emergency', 'prescale', 'plan', 'simulate', 'completion'];

describe('bin/mlscale.js', () => {
  it('--version prints package.json’s version; bare `mlscale` prints the help and exits 0; a bad argument is one line', async () => {
    const [version, bare, bad] = await Promise.all([
      mlscale({}, '--version'),
      mlscale({}),
      mlscale({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, 'scale', 'engine', '--replicas', '-1'),
    ]);
    expect(version).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(bare.status).toBe(0);
    expect(bare.stderr).toBe('');
    expect(bare.stdout).toMatch(/^Usage: mlscale \[options\] \[command\]/);
    expect(bad).toEqual({ status: 1, stdout: '', stderr: "Error: --replicas must be a whole number >= 0, got '-1'\n" });
  });

  it('with the real SDK clients: a refused connection on localhost is one line naming AWS_ENDPOINT_URL', async () => {
    const port = await closedPort();
    const r = await mlscale({ AWS_ENDPOINT_URL: `http://localhost:${port}` }, 'holds', 'engine', '--config', FIXTURE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^Error: Connection failed to http://localhost:${port}: connect ECONNREFUSED (127\\.0\\.0\\.1|::1):${port}\\n$`));
    expect(r.status).toBe(1);
  });
});

describe('help', () => {
  it('--help, `help` and bare `mlscale` list every command and exit 0', async () => {
    for (const argv of [['--help'], ['help'], []]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
      for (const command of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('every command has --help with its options and examples', async () => {
    for (const command of COMMANDS) {
      const r = await run(command, '--help');
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: mlscale ${command}`);
      expect(r.stdout, command).toContain('Examples:');
    }
    const scale = (await run('scale', '--help')).stdout;
    for (const option of ['--replicas <count>', '--min <count>', '--raise-max', '--for <duration>', '--config <file>', '--env <name>', '-n, --namespace <namespace>', '-o, --output <format>']) {
      expect(scale).toContain(option);
    }
    expect(scale).toContain("(default: \"1h\")");
  });

  it('-V prints the version in-process too', async () => {
    expect((await run('-V')).stdout).toBe(`${VERSION}\n`);
  });
});
