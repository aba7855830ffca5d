#!/usr/bin/env node
// The package's command. It is a committed file, not the bundle itself, so that `npm ci` in the repository
// links it into node_modules/.bin even before the first build (npm links a bin only if its file exists at
// install time); it runs dist/mlops-eval.js, which build.mjs makes and `npm pack` (prepack) rebuilds.
'use strict';
require('../dist/mlops-eval.js');
