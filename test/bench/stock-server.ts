/**
 * The stock y-websocket server for `npm run bench:relay`: @y/websocket-server's
 * `setupWSConnection` on a `ws` WebSocketServer (the same `ws` the TideKV
 * relay uses, per-message deflate off as in both), port 0 on 127.0.0.1. It
 * prints `listening on http://HOST:PORT` like the TideKV relay's CLI.
 *
 * As shipped: documents in memory only (no YPERSISTENCE), never unloaded, no
 * auth, no limits, no acknowledgements. SIGTERM/SIGINT close it.
 */
import { createServer } from 'node:http'
import { setupWSConnection } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'

const host = '127.0.0.1'
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
wss.on('connection', setupWSConnection)

const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end('okay')
})
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy())
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
})
server.listen(0, host, () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  console.log(`stock-server: listening on http://${host}:${port}`)
})

function stop(): void {
  for (const ws of wss.clients) ws.terminate()
  wss.close()
  server.closeAllConnections()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2_000).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
