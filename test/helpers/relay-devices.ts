/**
 * The clients of the seeded convergence runs through the real relay
 * (relay/convergence.test.ts, relay/structures.test.ts): devices in one room,
 * each with its own fake IndexedDB and skewed clock, that go offline, come
 * back, are closed and reopened on their IndexedDB, and at the end all sync
 * and meet a brand-new client. Every error event they report is kept. The
 * tests draw what happens (seeded); these helpers only do it, drawing nothing.
 */
import { IDBFactory } from 'fake-indexeddb'
import { expect, vi } from 'vitest'
import type { Store, TideKVError } from '@tidekv/client'
import { newClient, statusIs } from './relay.js'
import { within } from './waiting.js'

export interface Device {
  readonly id: number
  readonly idb: IDBFactory
  readonly clock: () => number
  store: Store
  online: boolean
  readonly errors: TideKVError[]
}

/** The steps a run draws for one device (or, for allOffline and pause, for all of them). */
export type DeviceStep = 'disconnect' | 'connect' | 'reopen' | 'allOffline' | 'whenSynced' | 'pause'

export class RelayDevices {
  readonly all: Device[] = []

  /**
   * @param url the relay's WebSocket URL (a relay restarted on the same port keeps it), or
   *   several relays that share rooms: device i starts on the i-th (its list rotated by i)
   * @param deadlineMs how long any wait may take before it fails the run
   */
  constructor(
    private readonly url: string | readonly string[],
    private readonly room: string,
    private readonly deadlineMs: number,
  ) {}

  /** Opens `count` online devices; device i's clock runs `skews[i % skews.length]` ms off. */
  static async open(url: string | readonly string[], room: string, count: number, skews: readonly number[], deadlineMs: number): Promise<RelayDevices> {
    const devices = new RelayDevices(url, room, deadlineMs)
    for (let id = 0; id < count; id++) {
      const skew = skews[id % skews.length]!
      const errors: TideKVError[] = []
      const d = { id, idb: new IDBFactory(), clock: () => Date.now() + skew, errors }
      devices.#ids.set(d.idb, id)
      devices.all.push({ ...d, store: await devices.openStore(d, true), online: true })
    }
    return devices
  }

  readonly #ids = new Map<IDBFactory, number>()

  /** The relay URL(s) of device `id`: with several relays, its list starts at relay `id`. */
  #urlOf(id: number): string | readonly string[] {
    if (typeof this.url === 'string') return this.url
    const at = id % this.url.length
    return [...this.url.slice(at), ...this.url.slice(0, at)]
  }

  private async openStore(d: Pick<Device, 'idb' | 'clock' | 'errors'>, online: boolean): Promise<Store> {
    const store = await newClient(this.#urlOf(this.#ids.get(d.idb) ?? 0), this.room, { idb: d.idb, clock: d.clock })
    // Before the sync link exists: the reopened device stays offline if it was.
    if (!online) store.disconnect()
    store.on('error', (e) => d.errors.push(e))
    return store
  }

  disconnect(d: Device): void {
    d.store.disconnect()
    d.online = false
  }

  connect(d: Device): void {
    d.store.connect()
    d.online = true
  }

  /** Closes the device's store and reopens it on its IndexedDB, online or not as it was. */
  async reopen(d: Device): Promise<void> {
    await within(d.store.close(), this.deadlineMs, `close c${d.id}`)
    d.store = await this.openStore(d, d.online)
  }

  /** Every device disconnects; resolves once the relay has unloaded every room. */
  async allOffline(relay: { readonly rooms: ReadonlyMap<string, unknown> }): Promise<void> {
    for (const d of this.all) this.disconnect(d)
    await vi.waitFor(() => expect(relay.rooms.size).toBe(0), { timeout: this.deadlineMs, interval: 5 })
  }

  /** Resolves once every online device's status is 'synced'; fails naming `what` after the deadline. */
  async onlineSynced(what: string): Promise<void> {
    await within(Promise.all(this.all.filter((d) => d.online).map((d) => statusIs(d.store, 'synced'))), this.deadlineMs, what)
  }

  /** Every device connects and waits for `whenSynced`; then a brand-new client syncs, and is returned. */
  async syncAll(): Promise<Store> {
    for (const d of this.all) this.connect(d)
    await within(Promise.all(this.all.map((d) => d.store.whenSynced())), this.deadlineMs, 'final whenSynced')
    const fresh = await newClient(this.#urlOf(this.all.length), this.room)
    await within(statusIs(fresh, 'synced'), this.deadlineMs, 'fresh client synced')
    return fresh
  }

  /**
   * Takes one device step on `d` (allOffline and pause: on every device),
   * writing what it does to `log` first; `at` (e.g. 'step 12') starts the
   * message of a wait that runs out.
   */
  async step(kind: DeviceStep, d: Device, relay: { readonly rooms: ReadonlyMap<string, unknown> }, at: string, log: (line: string) => void): Promise<void> {
    switch (kind) {
      case 'disconnect':
        log(`c${d.id} disconnect`)
        this.disconnect(d)
        return
      case 'connect':
        log(`c${d.id} connect`)
        this.connect(d)
        return
      case 'reopen':
        log(`c${d.id} close and reopen (${d.online ? 'online' : 'offline'})`)
        await this.reopen(d)
        return
      case 'allOffline':
        log('everyone disconnects; the room unloads')
        await this.allOffline(relay)
        return
      case 'whenSynced':
        if (!d.online) return
        log(`c${d.id} whenSynced`)
        await within(d.store.whenSynced(), this.deadlineMs, `${at}: c${d.id} whenSynced`)
        return
      case 'pause':
        log('pause until the online clients are synced')
        await this.onlineSynced(`${at}: online clients synced`)
        return
    }
  }

  stores(): Store[] {
    return this.all.map((d) => d.store)
  }

  /** Every error event, as `c<id>: <code> <message>`. */
  errors(): string[] {
    return this.all.flatMap((d) => d.errors.map((e) => `c${d.id}: ${e.code} ${e.message}`))
  }
}
