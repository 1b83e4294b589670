#!/usr/bin/env node
// The `pixelllm` command: the sources are TypeScript run through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
// `pixelllm ... | head` closes the pipe early: that is not an error
process.stdout.on('error', (e) => (e.code === 'EPIPE' ? process.exit(0) : Promise.reject(e)));
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
