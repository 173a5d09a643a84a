import { describe, expect, it } from 'vitest';
import { isMissingPackage, loadTool, MissingToolError } from '../src/optionalTool.js';

describe('optional tool packages', () => {
  it('turns a missing package into an error that says what to install', async () => {
    const load = () => import('@keel/not-a-package' as string);
    const error = await loadTool('@keel/not-a-package', 'bench', load).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toContain('npm install -g @keel/not-a-package');
  });

  it('passes through a module error that is not the package itself', async () => {
    const inner = Object.assign(new Error("Cannot find package 'left-pad' imported from x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(isMissingPackage(inner, '@keel/bench')).toBe(false);
    const error = await loadTool('@keel/bench', 'bench', () => Promise.reject(inner)).catch(
      (e: unknown) => e,
    );
    expect(error).toBe(inner);
  });
});
