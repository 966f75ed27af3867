import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        // Integration tests build dist/ (CLI tests) and a Postgres template database first.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] },
      },
      {
        extends: true,
        // Faults injected against real components (own Postgres database, own redis-server, SMTP
        // sink, child processes); `npx vitest run --project fault` runs them alone.
        test: { name: 'fault', include: ['test/fault/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        // The web UI in Debian's chromium (playwright-core); it makes and drops its own Postgres database.
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 240_000 },
      },
    ],
  },
});
