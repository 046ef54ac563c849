/**
 * Who is here: a device (one browser profile, remembered in localStorage,
 * shared by its tabs) and a tab (remembered in sessionStorage, so a reload
 * keeps it). Each device gets a friendly name derived from its id, so two
 * devices are easy to tell apart.
 */
export interface Identity {
  /** Stable for this browser profile. */
  readonly deviceId: string
  /** Kept across reloads of one tab (sessionStorage), so a reloaded tab is not counted twice. */
  readonly tabId: string
  /** "Teal Otter": a name made from the device id. */
  readonly deviceName: string
  /** A hue (0-359) made from the device id, for its avatar. */
  readonly hue: number
}

const DEVICE_KEY = 'tidekv-demo:device'
const TAB_KEY = 'tidekv-demo:tab'
const ID = /^[0-9a-f]{12}$/
const ADJECTIVES = [
  'Teal',
  'Coral',
  'Amber',
  'Indigo',
  'Jade',
  'Crimson',
  'Golden',
  'Silver',
  'Azure',
  'Violet',
  'Olive',
  'Scarlet',
  'Misty',
  'Sunny',
  'Quiet',
  'Swift',
  'Brave',
  'Lucky',
  'Gentle',
  'Bright',
]
const ANIMALS = [
  'Otter',
  'Heron',
  'Seal',
  'Puffin',
  'Dolphin',
  'Crab',
  'Gull',
  'Orca',
  'Pelican',
  'Walrus',
  'Manta',
  'Narwhal',
  'Tern',
  'Octopus',
  'Turtle',
  'Shrimp',
  'Starfish',
  'Lobster',
  'Albatross',
  'Seahorse',
]

/** `device` is localStorage (one per browser profile), `tab` sessionStorage (one per tab). */
export function createIdentity(device: Storage | null, tab: Storage | null): Identity {
  const deviceId = remembered(device, DEVICE_KEY)
  return { deviceId, tabId: claimTabId(tab), ...describeDevice(deviceId) }
}

/**
 * A reloaded tab keeps its id; a new tab gets a new one. sessionStorage alone
 * cannot tell them apart: a tab opened with window.open or duplicated by the
 * browser starts with a copy of its opener's. So the id is stored with a state,
 * 'live' while a page uses it and 'released' once that page is gone: only a
 * released id is taken over.
 */
function claimTabId(storage: Storage | null): string {
  const [stored, state] = (read(storage, TAB_KEY) ?? '').split(':')
  const id = stored !== undefined && ID.test(stored) && state === 'released' ? stored : randomId()
  const mark = (s: 'live' | 'released'): void => write(storage, TAB_KEY, `${id}:${s}`)
  mark('live')
  window.addEventListener('pagehide', () => mark('released'))
  window.addEventListener('pageshow', () => mark('live'))
  return id
}

/** The name and hue of a device, from its id (the same on every replica that sees it). */
export function describeDevice(deviceId: string): { deviceName: string; hue: number } {
  let hash = 2166136261
  for (let i = 0; i < deviceId.length; i++) hash = Math.imul(hash ^ deviceId.charCodeAt(i), 16777619) >>> 0
  const adjective = ADJECTIVES[hash % ADJECTIVES.length]!
  const animal = ANIMALS[Math.floor(hash / ADJECTIVES.length) % ANIMALS.length]!
  return { deviceName: `${adjective} ${animal}`, hue: (hash >>> 16) % 360 }
}

/** The id stored under `key`, or a new one, stored if the storage lets us. */
function remembered(storage: Storage | null, key: string): string {
  const id = read(storage, key)
  if (id !== null && ID.test(id)) return id
  const fresh = randomId()
  write(storage, key, fresh)
  return fresh
}

function read(storage: Storage | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null
  } catch {
    return null // reason: storage refused access (blocked by the browser's settings): ids are new on every load
  }
}

function write(storage: Storage | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value)
  } catch {
    // reason: storage refused (private mode, quota): ids are new on every load
  }
}

/** 12 hex digits. getRandomValues rather than randomUUID: the latter needs a secure context (a phone on http://192.168.x.x is not one). */
function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('')
}
