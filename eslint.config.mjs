import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'dist/', '.scratch/', 'report/', '.ci/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Async mistakes are the bugs that leave an autoscaler half-changed; these need type information.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The SDK boundary: only the adapters in lambdas/aws talk to AWS (tests mock the SDK, so they may import it).
    files: ['**/*.ts'],
    ignores: ['lambdas/aws/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', '@smithy/*'], message: 'Only lambdas/aws may import the AWS SDK: add or use an adapter there.' },
            { group: ['**/aws/limits-writer'], message: 'Only the reconciler (lambdas/reconcile) writes capacity: write a hold and reconcile instead.' },
          ],
        },
      ],
    },
  },
  {
    // The reconciler is the one writer of capacity.
    files: ['lambdas/reconcile/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*', '@smithy/*'], message: 'Only lambdas/aws may import the AWS SDK.' }] }],
    },
  },
  {
    // The decisions are pure: no CDK, no SDK, no adapters, no handlers.
    files: ['lambdas/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@aws-sdk/*', '@smithy/*'], message: 'lambdas/core is pure: no CDK and no AWS SDK.' },
            // Any depth (lambdas/core/config/… too): the adapters, the handlers, the CDK app, the CLI and the simulator.
            {
              group: ['**/aws', '**/aws/*', '**/reconcile', '**/reconcile/*', '**/shared/*', '**/emergency/*', '**/predictive/*', '**/runbook', '**/runbook/*', '**/scale-to-zero/*', '**/lib', '**/lib/*', '**/src/*', '**/bin/*'],
              message: 'lambdas/core depends on nothing but itself.',
            },
          ],
        },
      ],
    },
  },
  {
    // The one plain-JS file: the CommonJS shim behind the `mlscale` command.
    files: ['bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
