import { defineConfig } from 'vitest/config';

// One vitest project per package, all built from this. Workspace packages resolve to their
// TypeScript sources through the `source` export condition, so tests never need a prior build.
export function keelVitestConfig(options: { testTimeout?: number; fileParallelism?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] } },
    test: {
      include: ['test/**/*.test.ts'],
      // A timeout only decides how long a real failure takes to report, never whether a test passes
      // on a slow or busy machine: CPU-bound simulations that take 5 s on a quiet machine took
      // over 30 s beside other jobs on two cores, so the default leaves room for that.
      testTimeout: options.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      fileParallelism: options.fileParallelism ?? true,
      reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    },
  });
}
