import { keelVitestConfig } from '../../vitest.shared.js';

// The real-cluster runs take ~30 s each and want the machine's cores: one file at a time.
export default keelVitestConfig({ testTimeout: 300_000, fileParallelism: false });
