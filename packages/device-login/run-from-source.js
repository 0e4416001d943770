#!/usr/bin/env node
// `npm run devicegate` in the devicegate repository: the compiled CLI (dist/cli/main.js), built first by tsc
// when a source file is newer than the build, so every other start is plain Node.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = __dirname;
const entry = join(root, 'dist', 'cli', 'main.js');

function newestSource(folder) {
  let newest = 0;
  for (const item of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = Math.max(newestSource(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stderr.write('Building the devicegate CLI (once per change)…\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
require(entry);
