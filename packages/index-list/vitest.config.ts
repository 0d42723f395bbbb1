import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@vmalab/source'] },
  ssr: { resolve: { conditions: ['@vmalab/source'] } },
  test: { include: ['src/**/*.test.ts'] },
});
