export type { ParseResult, PeerAddress } from './peers.js';
export { parseAddress, parsePeers } from './peers.js';
