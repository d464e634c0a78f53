// A connection test as it runs: its steps as they arrive, then the result.
// The connector form (unsaved connector) and the Test dialog (saved one)
// both run tests this way.

import { toApiError, type ApiError } from './api';
import type { TestResult, TestStep } from './types';

export class TestRun {
  steps = $state<TestStep[]>([]);
  result = $state<TestResult | null>(null);
  error = $state<ApiError | null>(null);
  running = $state(false);

  /** reset forgets the last run. */
  reset() {
    this.steps = [];
    this.result = null;
    this.error = null;
  }

  /** run starts a test; start calls the API, which reports each step. */
  async run(start: (onStep: (s: TestStep) => void) => Promise<TestResult>) {
    this.reset();
    this.running = true;
    try {
      this.result = await start((s) => (this.steps = upsertStep(this.steps, s)));
      this.steps = this.result.steps;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.running = false;
    }
  }
}

/** upsertStep replaces the step with the same id (running → done) or appends it. */
function upsertStep(steps: TestStep[], s: TestStep): TestStep[] {
  const i = steps.findIndex((x) => x.id === s.id);
  if (i < 0) return [...steps, s];
  const next = steps.slice();
  next[i] = s;
  return next;
}
