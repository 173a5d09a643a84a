import { mergeConfig } from 'vitest/config';
import { keelVitestConfig } from '../../vitest.shared.js';

// Two workers even on two cores: the kill test's worker mostly waits on its child processes, so the
// other files run beside it instead of after it.
export default mergeConfig(keelVitestConfig(), { test: { maxWorkers: 2, minWorkers: 1 } });
