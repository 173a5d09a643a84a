export { type CatchUpTransferOutcome, catchUpTransfer } from './catchUpTransfer.js';
export { describeMessage, describeReady } from './describe.js';
export { InvariantChecker, type InvariantViolation, Property } from './invariants.js';
export { ALL_FAULTS, Fault, FaultMix, Nemesis, type NemesisTarget } from './Nemesis.js';
export {
  decodeCommand,
  encodeCommand,
  type RegisterCommand,
  RegisterMachine,
  type RegisterOp,
  type RegisterResult,
} from './RegisterMachine.js';
export { nodesForSeed, runSeed, type SimOptions, type SimResult, type SimStats } from './runSeed.js';
export { SimCluster, type SimClusterOptions, type TransferStats } from './SimCluster.js';
export { SimDisk } from './SimDisk.js';
export { SimHost } from './SimHost.js';
export { type NetworkFaults, type NetworkStats, SimNetwork, type SimNetworkOptions } from './SimNetwork.js';
export { SimScheduler, SimTimer } from './SimScheduler.js';
export { deriveSeed } from './simRng.js';
export { type ClientGateway, Workload, type WorkloadOptions } from './Workload.js';
