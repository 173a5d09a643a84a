export { checkRelease, type PackedPackage } from './check.js';
export { npmEnv, npmInstall } from './install.js';
export { installedKeel, type RunResult, runIn } from './installed.js';
export { publintProblems, typesProblems } from './lint.js';
export { packPackage, pnpmCommand } from './pack.js';
export {
  brokenRepoLinks,
  NODE_ENGINES,
  packedManifestProblems,
  relativeLinks,
  repoWebUrl,
  sourceManifestProblems,
  tarballProblems,
} from './rules.js';
export { readTarball, type Tarball } from './tarball.js';
export {
  type Manifest,
  publicPackages,
  type WorkspacePackage,
  workspacePackages,
  workspaceRoot,
} from './workspace.js';
