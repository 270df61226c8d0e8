#!/usr/bin/env node
// The `mlscale` command: runs the TypeScript CLI through tsx (no build step).
const fail = (err) => {
  console.error(`Error: ${err && err.message ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
};
try {
  require('tsx/cjs');
  require('../src/cli/main.ts')
    .main(process.argv)
    .then((code) => process.exit(code), fail);
} catch (err) {
  // A broken install (a module that does not load) is one line too, not a stack trace.
  fail(err);
}
