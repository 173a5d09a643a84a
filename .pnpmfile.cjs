// pnpm hooks for this workspace.
// beforePacking: the published manifest of every package loses the `source` export condition. In the
// repository it points tsx and vitest at the TypeScript sources; a consumer whose toolchain also knows
// a `source` condition would otherwise load .ts files it cannot run. Scripts go too.
function withoutSource(node) {
  if (Array.isArray(node)) return node.map(withoutSource);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'source') out[key] = withoutSource(value);
  }
  return out;
}

module.exports = {
  hooks: {
    beforePacking(pkg) {
      if (pkg.exports !== undefined) pkg.exports = withoutSource(pkg.exports);
      // Scripts name files of the repository (../../scripts/prepack.mjs); a consumer runs none of them.
      delete pkg.scripts;
      return pkg;
    },
  },
};
