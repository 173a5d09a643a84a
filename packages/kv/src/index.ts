export type { KeyCheck } from './keys.js';
export { checkKey, KeyLimits } from './keys.js';
