import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share one Redis and one PostgreSQL, each with its own prefix or schema; two files at a time
    // keeps a 2-core machine from timing out the end-to-end tests.
    maxWorkers: 2,
  },
});
