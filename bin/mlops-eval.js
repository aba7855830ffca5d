#!/usr/bin/env node
// Runs the repository's self-contained CLI bundle (dist/cli/, built by `npm run build`); the tests use it.
// `npx mlops-eval` runs the npm package's bin instead (packages/mlops-eval, an npm workspace).
'use strict';
require('../dist/cli/mlops-eval.js');
