/**
 * An accessibility scan with axe-core (WCAG 2.1 A and AA rules) of a page in
 * Chromium, shadow roots included. No test framework in here.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** One violation, as a line a failing test can print: rule, impact, and the elements it found. */
export interface Violation {
  rule: string
  impact: string
  help: string
  targets: string[]
}

interface AxeRun {
  run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown[] }[] }[] }>
}

/** Scans the page (or the part `include` selects) and returns its violations; empty when it passes. */
export async function axeViolations(page: Page, include?: string): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE })
  return page.evaluate(async (selector) => {
    // reason: axe-core's script defines window.axe; its result is read for the fields of AxeRun only
    const axe = (window as unknown as { axe: AxeRun }).axe
    const result = await axe.run(selector ?? document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
    return result.violations.map((v) => ({ rule: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }))
  }, include)
}
