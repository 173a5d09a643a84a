import { defineConfig } from 'vitest/config';

// One vitest project per package, all built from this. Workspace packages resolve to their
// TypeScript sources through the `source` export condition, so tests never need a prior build.
export function keelVitestConfig(options: { testTimeout?: number; fileParallelism?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] } },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 60_000,
      fileParallelism: options.fileParallelism ?? true,
      reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    },
  });
}
