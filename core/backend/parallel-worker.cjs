// Worker-thread entry: registers tsx so the TypeScript worker runs as is (a compiled .js sibling also works).
const path = require('node:path');
const fs = require('node:fs');
if (!fs.existsSync(path.join(__dirname, 'parallel-worker.js'))) require('tsx/cjs');
require(path.join(__dirname, 'parallel-worker'));
