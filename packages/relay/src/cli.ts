#!/usr/bin/env node
/**
 * `tidekv-relay`: runs a relay. The only module that reads argv and the
 * environment.
 *
 *   tidekv-relay [--port 8787] [--host 127.0.0.1] [--data ./.tidekv-data]
 *                [--secret S | env TIDEKV_SECRET] [--allow-anonymous]
 *                [--static DIR] [--allowed-origin URL]...
 *                [--redis URL | env TIDEKV_REDIS_URL] [--redis-wait N]
 *                [--redis-cluster HOST:PORT,... | env TIDEKV_REDIS_CLUSTER]
 *                [--webhook URL]... [--webhook-secret S | env TIDEKV_WEBHOOK_SECRET]
 */
import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createRelay } from './relay.js'

const USAGE = `Usage: tidekv-relay [options]
  --port <n>              port to listen on (default 8787; env PORT)
  --host <addr>           interface to listen on (default 127.0.0.1)
  --data <dir>            data folder for the SQLite file (default ./.tidekv-data; env TIDEKV_DATA)
  --secret <s>            token secret (or env TIDEKV_SECRET)
  --allow-anonymous       let clients without a token read and write
  --static <dir>          serve this folder over HTTP
  --allowed-origin <url>  accept browser connections from this origin only (repeatable)
  --redis <url>           keep rooms in this Redis and share them with the other relays on it
                          (or env TIDEKV_REDIS_URL; --data is then unused)
  --redis-wait <n>        acknowledge an update only once n Redis replicas have it (WAIT)
  --redis-cluster <nodes> the same on a Redis Cluster: some of its nodes, HOST:PORT,HOST:PORT,...
                          (or env TIDEKV_REDIS_CLUSTER; an entry may be a redis:// or rediss:// URL)
  --webhook <url>         POST each room's changes there, signed, debounced 1 s (repeatable)
  --webhook-secret <s>    the webhooks' HMAC key (or env TIDEKV_WEBHOOK_SECRET); required with --webhook
  --help                  this text`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      secret: { type: 'string' },
      'allow-anonymous': { type: 'boolean', default: false },
      static: { type: 'string' },
      'allowed-origin': { type: 'string', multiple: true },
      redis: { type: 'string' },
      'redis-wait': { type: 'string' },
      'redis-cluster': { type: 'string' },
      webhook: { type: 'string', multiple: true },
      'webhook-secret': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  // An empty value (`--secret "$TIDEKV_SECRET"` with the variable unset) is no secret.
  const secret = values.secret || process.env.TIDEKV_SECRET || undefined
  const anonymous = values['allow-anonymous']
  if (secret === undefined && !anonymous) {
    console.error('tidekv-relay: refusing to start without a secret. Pass --secret (or set TIDEKV_SECRET), or --allow-anonymous for an open relay.')
    process.exitCode = 2
    return
  }
  const port = Number(values.port ?? process.env.PORT ?? 8787)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`tidekv-relay: --port must be a port number, got ${values.port}`)
    process.exitCode = 2
    return
  }
  const dataDir = values.data ?? process.env.TIDEKV_DATA ?? '.tidekv-data'
  mkdirSync(dataDir, { recursive: true })
  // Unlike an empty secret, an empty Redis (an unset variable in --redis "$URL") is refused: falling back to
  // this process's own SQLite would split a room between relays.
  for (const flag of ['redis', 'redis-cluster'] as const) {
    if (values[flag] === '') {
      console.error(`tidekv-relay: --${flag} is empty`)
      process.exitCode = 2
      return
    }
  }
  const redisUrl = values.redis || process.env.TIDEKV_REDIS_URL || undefined
  const redisCluster = values['redis-cluster'] || process.env.TIDEKV_REDIS_CLUSTER || undefined
  if (redisUrl !== undefined && redisCluster !== undefined) {
    console.error('tidekv-relay: give --redis (TIDEKV_REDIS_URL) or --redis-cluster (TIDEKV_REDIS_CLUSTER), not both')
    process.exitCode = 2
    return
  }
  if (redisCluster !== undefined && values['redis-wait'] !== undefined) {
    console.error('tidekv-relay: --redis-wait works with one Redis (--redis), not with --redis-cluster')
    process.exitCode = 2
    return
  }
  const hooks = values.webhook ?? []
  const webhookSecret = values['webhook-secret'] || process.env.TIDEKV_WEBHOOK_SECRET || undefined
  if (hooks.length > 0 && webhookSecret === undefined) {
    console.error('tidekv-relay: --webhook needs --webhook-secret (or TIDEKV_WEBHOOK_SECRET): receivers check the signature with it')
    process.exitCode = 2
    return
  }
  const waitReplicas = Number(values['redis-wait'] ?? 0)
  const redis = redisCluster !== undefined ? { cluster: redisCluster.split(',').map((node) => node.trim()) } : redisUrl === undefined ? undefined : { url: redisUrl, waitReplicas }
  const relay = await createRelay({
    port,
    redis,
    host: values.host ?? '127.0.0.1',
    dataDir,
    auth: { secret, anonymous: anonymous ? 'write' : 'none' },
    static: values.static,
    allowedOrigins: values['allowed-origin'],
    webhooks: webhookSecret === undefined ? [] : hooks.map((url) => ({ url, secret: webhookSecret })),
    onError: (error, room) => console.error(`tidekv-relay: ${room === undefined ? '' : `room ${room}: `}${error instanceof Error ? error.message : String(error)}`),
  })
  const where = redis === undefined ? `data in ${dataDir}` : redisCluster === undefined ? 'rooms in Redis' : 'rooms in a Redis Cluster'
  console.log(`tidekv-relay: listening on ${relay.url}${anonymous ? ' (anonymous access allowed)' : ''}, ${where}`)
  const stop = (signal: string) => {
    console.log(`tidekv-relay: ${signal}, closing`)
    relay.close().then(
      () => process.exit(0),
      (e) => {
        console.error(`tidekv-relay: close failed: ${e instanceof Error ? e.message : String(e)}`)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((e) => {
  console.error(`tidekv-relay: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
