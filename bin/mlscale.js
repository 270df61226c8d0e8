#!/usr/bin/env node
// The `mlscale` command: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('../src/cli/main.ts').main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`Error: ${err && err.message ? err.message.split('\n')[0] : String(err)}`);
    process.exit(1);
  },
);
