import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@vmalab/source'] },
  ssr: { resolve: { conditions: ['@vmalab/source'] } },
  // Tests never assert on time; the timeout only catches a hang. CI machines
  // have 2 cores shared by every package's tests.
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000 },
});
