// The host APIs the engine may use: the few that every host it runs in has
// (browsers, workers, Node). The engine's tsconfig has no DOM lib and no Node
// types, so any other host API fails to compile here: the engine must stay
// free of IndexedDB, BroadcastChannel, WebSocket and the like (the client
// and the relay bring those). The root tsconfig, which has DOM and Node,
// leaves this file out.
/** A number in browsers, a Timeout object in Node. */
declare function setTimeout(callback: () => void, ms?: number): number | object
declare function clearTimeout(handle: unknown): void
declare function queueMicrotask(callback: () => void): void
declare class TextEncoder {
  encode(input?: string): Uint8Array
}
