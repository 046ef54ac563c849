/**
 * The inspector's styles, scoped by its shadow root: light by default, dark
 * where the system asks for it, or as the `theme` attribute says. Colors
 * pass WCAG AA contrast in both (text 4.5:1, the muted text included).
 */
export const STYLES = `
:host { --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f3f5f7; --accent: #0b5cad; --danger: #b3261e;
  --local: #e8f0fe; --tab: #fff4d6; --remote: #e3f6e8; --badge: #eef1f4;
  display: block; font: 13px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
:host([theme='dark']) { --bg: #0d1117; --fg: #e6edf3; --muted: #9aa4af; --line: #30363d; --soft: #161b22; --accent: #79b8ff; --danger: #ff938a;
  --local: #17304f; --tab: #3a2f12; --remote: #153624; --badge: #21262d; }
@media (prefers-color-scheme: dark) { :host(:not([theme='light'])) { --bg: #0d1117; --fg: #e6edf3; --muted: #9aa4af; --line: #30363d; --soft: #161b22; --accent: #79b8ff; --danger: #ff938a;
  --local: #17304f; --tab: #3a2f12; --remote: #153624; --badge: #21262d; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
header { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; padding: 8px 12px; background: var(--soft); border-bottom: 1px solid var(--line); }
header h2 { font-size: 13px; margin: 0; }
.muted, .note { color: var(--muted); }
.status { font-weight: 600; }
.bar { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; padding: 8px 12px; }
label { display: grid; gap: 2px; color: var(--muted); font-size: 12px; }
input, textarea { font: 12px ui-monospace, monospace; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 4px 6px; }
textarea { width: 100%; min-height: 72px; resize: vertical; }
button { font: inherit; color: var(--accent); background: transparent; border: 1px solid var(--line); border-radius: 6px; padding: 3px 8px; cursor: pointer; }
button:hover { background: var(--soft); }
button.danger { color: var(--danger); }
button:disabled { color: var(--muted); cursor: default; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-top: 1px solid var(--line); }
thead th { color: var(--muted); font-weight: 600; font-size: 12px; border-top: 0; }
code { font: 12px ui-monospace, monospace; overflow-wrap: anywhere; }
td[data-testid='inspector-row-ttl'], .type { white-space: nowrap; }
.key { border: 0; padding: 0; text-align: left; color: var(--accent); }
.key code { color: inherit; }
tr.picked { background: var(--soft); }
.type { display: inline-block; padding: 0 6px; border-radius: 9px; background: var(--badge); font-size: 11px; }
.origin { margin-left: 6px; font-size: 11px; color: var(--muted); }
[class*='flash-'] { animation: var(--flash) 1.2s; }
.flash-local { --flash: flash-local; } .flash-local-again { --flash: flash-local-again; } .flash-tab { --flash: flash-tab; } .flash-tab-again { --flash: flash-tab-again; }
.flash-remote { --flash: flash-remote; } .flash-remote-again { --flash: flash-remote-again; }
@keyframes flash-local { from { background: var(--local); } } @keyframes flash-local-again { from { background: var(--local); } }
@keyframes flash-tab { from { background: var(--tab); } } @keyframes flash-tab-again { from { background: var(--tab); } }
@keyframes flash-remote { from { background: var(--remote); } } @keyframes flash-remote-again { from { background: var(--remote); } }
@media (prefers-reduced-motion: reduce) { [class*='flash-'] { animation: none; } }
.pager { display: flex; gap: 8px; align-items: center; padding: 6px 12px; border-top: 1px solid var(--line); }
.detail { padding: 8px 12px 12px; border-top: 1px solid var(--line); display: grid; gap: 8px; }
.detail h3 { font-size: 13px; margin: 0; }
.members th, .members td { font-size: 12px; }
.tree ul { list-style: none; margin: 0; padding-left: 14px; }
.tree summary { cursor: pointer; }
.json.string { color: var(--fg); } .json.number, .json.boolean, .json.null { color: var(--accent); }
.hex { margin: 0; font: 12px ui-monospace, monospace; white-space: pre; overflow-x: auto; }
.error { color: var(--danger); }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`
