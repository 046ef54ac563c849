// @tidekv/core/wire: the relay protocol constants and the error type, as an
// entry of their own. The client's sync code (a chunk loaded with import())
// needs only these; importing them from the package index would make a
// bundler put the whole engine in a chunk shared with it.
export { MessageType, CloseCode, QueryParam, PubSubOp } from './layout/protocol.js'
export { TideKVError, ErrorCode } from './errors.js'
export { readSafeVarUint } from './layout/varint.js'
export { encodePieces, PIECE_LIMITS, type PieceLimits, stepTwoMessages, syncMessage } from './layout/update-pieces.js'
