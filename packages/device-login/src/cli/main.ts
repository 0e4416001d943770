#!/usr/bin/env node
import { runCli } from './cli';

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // The first Ctrl-C cancels the wait cleanly; a second one leaves at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  platform: process.platform,
  signal: controller.signal,
}).then((code) => {
  process.exitCode = code;
});
