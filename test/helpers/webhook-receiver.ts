/**
 * A webhook receiver on 127.0.0.1, port 0, closed after the test: it answers
 * each POST with `status()` (200 by default) and keeps what it took (2xx),
 * with whether the signature checks out against `secret`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifyWebhook, type WebhookChange } from '@tidekv/relay'
import { onCleanup } from './relay.js'

export interface ReceivedWebhook {
  room: string
  changes: WebhookChange[]
  /** The body as posted. */
  raw: string
  signed: boolean
}

export async function webhookReceiver(secret: string, status: () => number = () => 200) {
  const got: ReceivedWebhook[] = []
  let attempts = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      attempts++
      const raw = Buffer.concat(chunks)
      const code = status()
      if (code < 300) {
        // reason: the relay posts JSON of this shape; the tests check it
        const posted = JSON.parse(raw.toString('utf8')) as Pick<ReceivedWebhook, 'room' | 'changes'>
        const signature = req.headers['x-tidekv-signature']
        got.push({ ...posted, raw: raw.toString('utf8'), signed: verifyWebhook(secret, raw, typeof signature === 'string' ? signature : undefined) })
      }
      res.writeHead(code).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())))
  // reason: listening on a TCP port gives an AddressInfo
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, got, attempts: () => attempts }
}

/** The keys of every change received, sorted. */
export function keysOf(got: readonly ReceivedWebhook[]): string[] {
  return got.flatMap((r) => r.changes.map((c) => c.key)).sort()
}
