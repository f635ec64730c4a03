import { describe, expect, it } from 'vitest'
import { canReport, tripStep } from './trip'

describe('tripStep', () => {
  it.each([
    ['accepted', 'pickup', true],
    ['picked_up', 'deliver', true],
    ['delivered', 'done', false],
    ['completed', 'done', false],
    ['awaiting_courier', 'done', false],
  ])('%s -> %s (report %s)', (status, step, report) => {
    expect(tripStep(status)).toBe(step)
    expect(canReport(status)).toBe(report)
  })
})
