import type { TestStep } from './types';

/** upsertStep replaces the step with the same id (running → done) or appends it. */
export function upsertStep(steps: TestStep[], s: TestStep): TestStep[] {
  const i = steps.findIndex((x) => x.id === s.id);
  if (i < 0) return [...steps, s];
  const next = steps.slice();
  next[i] = s;
  return next;
}
