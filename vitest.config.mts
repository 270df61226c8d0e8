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
    // Test files share a worker's module cache (aws-cdk-lib and the SDK load once per worker, not once per
    // file: vitest 127 s -> 70 s here, 1,396 tests either way). They share no state: every suite sets up its
    // mocks, env and temp dirs in its own hooks, checked by running the files in shuffled orders
    // (--sequence.shuffle.files, seeds 7 and 99) with all tests passing.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
  },
});
