import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The addon starts native threads: each test file gets its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
