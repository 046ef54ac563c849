/**
 * The relay as a separate process, started through its CLI (`cli.ts` under
 * tsx) on 127.0.0.1 port 0, so a test can kill it for real: SIGKILL (a
 * crash), SIGSTOP/SIGCONT (a stall), SIGTERM (a graceful shutdown). The port
 * is read from the CLI's "listening on http://HOST:PORT" line (see
 * `relay-cli.ts`). A process still running after the test is SIGKILLed.
 */
import { onCleanup } from './relay.js'
import { type RelayProcess, spawnRelay } from './relay-cli.js'

export type { RelayProcess } from './relay-cli.js'

/**
 * Starts `tidekv-relay --port 0 --host 127.0.0.1 --data <dataDir> --allow-anonymous ...args`;
 * resolves once it listens; killed after the test.
 */
export async function startRelayProcess(dataDir: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<RelayProcess> {
  const relay = await spawnRelay({ dataDir, args, env })
  onCleanup(() => relay.kill())
  return relay
}
