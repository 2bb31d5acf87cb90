#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('hub: dist/ is missing. Run `npm run build` (or `npm ci`) in the project folder first.');
  process.exit(1);
}
await import(entry.href);
