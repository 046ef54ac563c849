/**
 * A blank page with the client library on `window.tidekvClient`, for browser
 * tests that open their own stores (see ../client-page.ts).
 */
import * as client from '@tidekv/client'

declare global {
  interface Window {
    tidekvClient?: typeof client
  }
}

window.tidekvClient = client
document.title = 'ready'
