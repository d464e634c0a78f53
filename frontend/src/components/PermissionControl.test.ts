import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import PermissionControl from './PermissionControl.svelte';

afterEach(cleanup);

describe('PermissionControl', () => {
  it('is a labelled radio group with the current policy checked', () => {
    render(PermissionControl, { value: 'needs_approval', label: 'Permission for echo', onchange: () => {} });
    const group = screen.getByRole('radiogroup', { name: 'Permission for echo' });
    expect(group).toBeTruthy();
    const radios = screen.getAllByRole('radio') as HTMLInputElement[];
    expect(radios.map((r) => r.value)).toEqual(['always_allow', 'needs_approval', 'disabled']);
    expect((screen.getByLabelText('Needs approval') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Always allow') as HTMLInputElement).checked).toBe(false);
  });

  it('reports the chosen policy', async () => {
    const onchange = vi.fn();
    render(PermissionControl, { value: 'always_allow', label: 'p', onchange });
    await fireEvent.click(screen.getByLabelText('Disabled'));
    expect(onchange).toHaveBeenCalledWith('disabled');
  });

  it('does not report choosing the current policy again', async () => {
    const onchange = vi.fn();
    render(PermissionControl, { value: 'always_allow', label: 'p', onchange });
    await fireEvent.click(screen.getByLabelText('Always allow'));
    expect(onchange).not.toHaveBeenCalled();
  });

  it('can be disabled', () => {
    render(PermissionControl, { value: 'disabled', label: 'p', disabled: true, onchange: () => {} });
    for (const r of screen.getAllByRole('radio') as HTMLInputElement[]) expect(r.disabled).toBe(true);
  });

  it('keeps groups apart so two tools do not share one selection', () => {
    render(PermissionControl, { value: 'always_allow', label: 'first', onchange: () => {} });
    render(PermissionControl, { value: 'disabled', label: 'second', onchange: () => {} });
    const names = new Set((screen.getAllByRole('radio') as HTMLInputElement[]).map((r) => r.name));
    expect(names.size).toBe(2);
  });
});
