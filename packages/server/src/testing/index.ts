export { checkExposition, namingProblems } from './exposition.js';
