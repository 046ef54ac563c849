/**
 * A real Redis Cluster for tests: `masters` redis-server nodes (redis.ts,
 * `clusterNode`, durable: AOF with `appendfsync always`), joined by
 * `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, which
 * spreads the 16,384 slots evenly over them. Resolves once every node sees
 * `cluster_state:ok`. No test framework in here: the caller stops it.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { type RedisServer, startRedis } from './redis.js'

const run = promisify(execFile)
/** Longest wait for the nodes to agree that the cluster is up. */
const READY_TIMEOUT_MS = 20_000

export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** `127.0.0.1:PORT` of every node, for `--redis-cluster` / `{ cluster }`. */
  readonly addresses: readonly string[]
  /** The node that holds `key`'s slot now. */
  masterOf(key: string): Promise<RedisServer>
  /** Moves `slot` (with its keys) to `target`, as `redis-cli --cluster reshard` does one slot. */
  moveSlot(slot: number, target: RedisServer): Promise<void>
  /** Stops every node and removes their folders. */
  stop(): Promise<void>
}

/** Starts a cluster of `masters` nodes (at least 3, as Redis requires) on free ports. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startRedis({ durable: true, clusterNode: true }))
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    const cli = process.env.TIDEKV_REDIS_CLI ?? 'redis-cli'
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: READY_TIMEOUT_MS })
    await untilEveryNode(nodes, async (node) => /cluster_state:ok/.test(String(await node.client.call('CLUSTER', 'INFO'))))
    const idOf = async (node: RedisServer): Promise<string> => String(await node.client.call('CLUSTER', 'MYID'))
    const slotOf = async (key: string): Promise<number> => Number(await nodes[0]!.client.call('CLUSTER', 'KEYSLOT', key))
    const ownerOf = async (slot: number, asSeenBy: RedisServer): Promise<number> => {
      // reason: CLUSTER SLOTS replies [[start, end, [host, port, id], ...replicas], ...]
      const ranges = (await asSeenBy.client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][]
      const range = ranges.find(([start, end]) => slot >= start && slot <= end)
      if (range === undefined) throw new Error(`no node holds slot ${slot}`)
      return range[2][1]
    }
    return {
      nodes,
      addresses,
      async masterOf(key) {
        const port = await ownerOf(await slotOf(key), nodes[0]!)
        return nodes.find((node) => node.port === port)!
      },
      async moveSlot(slot, target) {
        const sourcePort = await ownerOf(slot, nodes[0]!)
        const source = nodes.find((node) => node.port === sourcePort)!
        if (source === target) return
        const [sourceId, targetId] = await Promise.all([idOf(source), idOf(target)])
        // The documented order (CLUSTER SETSLOT): importing on the target, migrating on the source, keys, then the new owner everywhere.
        await target.client.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId)
        await source.client.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId)
        for (;;) {
          const keys = (await source.client.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[] // reason: an array of key names
          if (keys.length === 0) break
          await source.client.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys)
        }
        await target.client.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
        await source.client.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
        for (const node of nodes) if (node !== source && node !== target) await node.client.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
        await untilEveryNode(nodes, async (node) => (await ownerOf(slot, node)) === target.port)
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

async function untilEveryNode(nodes: readonly RedisServer[], ok: (node: RedisServer) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const all = await Promise.all(nodes.map((node) => ok(node).catch(() => false)))
    if (all.every(Boolean)) return
    if (Date.now() > deadline) throw new Error(`the Redis Cluster did not settle within ${READY_TIMEOUT_MS} ms\n${nodes.map((node) => node.output()).join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
