#!/usr/bin/env node
// Shim for the `mlops-eval` package bin: the command is built by `npm run build` into dist/cli/.
'use strict';
require('../dist/cli/mlops-eval.js');
