import { defineConfig } from 'vitest/config';

// CI sets VITEST_JSON to a file path to get a machine-readable count of the tests that ran.
const json = process.env.VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Synthesize each test config once per run (test/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    // Synthesising CDK apps is CPU-bound; two workers fit the 2-core machines this runs on.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
