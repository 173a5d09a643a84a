export {
  PLANTED_BUGS,
  type PlantedBug,
  parseFaults,
  parseSimArgs,
  type SimArgs,
  USAGE,
  UsageError,
} from './args.js';
export {
  type ChunkDone,
  type ChunkJob,
  type RunSeedsOptions,
  runChunk,
  runSeeds,
  type SeedOutcome,
} from './runner.js';
