export { JobQueueDecodeError } from './bytes.js';
export {
  type Claimed,
  JobQueueClient,
  type JobQueueClientOptions,
  JobQueueProtocolError,
  JobQueueSessionError,
  type Propose,
} from './client.js';
export { CODEC_VERSION, decodeCommand, decodeResult, encodeCommand, encodeResult } from './codec.js';
export type {
  Command,
  CommandKind,
  Job,
  JobResult,
  Refusal,
  SessionCommand,
  SessionRef,
} from './commands.js';
export { Limits } from './commands.js';
export { OutcomeUnknownError, UnavailableError } from './errors.js';
export {
  type InProcessCluster,
  type InProcessClusterOptions,
  type InProcessMember,
  startInProcessCluster,
} from './inProcess.js';
export { JobQueue, type QueueView } from './JobQueue.js';
export {
  type ClientAddress,
  RemoteJobQueue,
  type RemoteJobQueueOptions,
} from './RemoteJobQueue.js';
export {
  commandRequest,
  decodeReply,
  type JobQueueReply,
  jobQueueService,
  type ServedResult,
  viewRequest,
} from './service.js';
