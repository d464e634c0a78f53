import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { TestRun } from './testRun.svelte';
import type { TestStep } from './types';

const step = (id: string, status: TestStep['status']): TestStep => ({ id, title: id, status, duration_ms: 1 });

describe('TestRun', () => {
  it('shows each step as it changes, then the steps of the result', async () => {
    const run = new TestRun();
    const seen: string[][] = [];
    await run.run(async (onStep) => {
      expect(run.running).toBe(true);
      for (const s of [step('resolve', 'running'), step('resolve', 'ok'), step('tools', 'running')]) {
        onStep(s);
        seen.push(run.steps.map((x) => `${x.id}:${x.status}`));
      }
      return { ok: true, steps: [step('resolve', 'ok'), step('tools', 'ok')] };
    });
    expect(seen).toEqual([['resolve:running'], ['resolve:ok'], ['resolve:ok', 'tools:running']]);
    expect(run.steps.map((x) => `${x.id}:${x.status}`)).toEqual(['resolve:ok', 'tools:ok']);
    expect(run.result?.ok).toBe(true);
    expect(run.running).toBe(false);
  });

  it('keeps the error of a failed start and forgets the last run', async () => {
    const run = new TestRun();
    await run.run(async () => ({ ok: true, steps: [step('resolve', 'ok')] }));
    await run.run(async (onStep) => {
      onStep(step('resolve', 'running'));
      throw new ApiError({ code: 'invalid', message: 'bad url' });
    });
    expect(run.result).toBeNull();
    expect(run.error?.message).toBe('bad url');
    expect(run.steps.map((x) => x.status)).toEqual(['running']);
    expect(run.running).toBe(false);
  });
});
