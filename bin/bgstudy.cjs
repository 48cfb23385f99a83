#!/usr/bin/env node
// Entry point of the `bgstudy` command: runs the TypeScript sources through tsx (no build step needed).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err) => {
      console.error(`bgstudy: ${err && err.message ? err.message : err}`);
      if (process.env.BGSTUDY_DEBUG) console.error(err);
      process.exitCode = 1;
    },
  );
