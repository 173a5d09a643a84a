import { keelVitestConfig } from '../../vitest.shared.js';

// Real member processes: generous bounds, since CI shares two cores between packages.
export default keelVitestConfig({ testTimeout: 120_000 });
