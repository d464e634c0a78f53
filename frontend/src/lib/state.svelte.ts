// Application-wide state shared by screens: who is signed in, the
// connector list (kept live), the approval queue, settings and toasts.

import { api, ApiError, onUnauthorized, toApiError } from './api';
import * as events from './events';
import { inWindow, reportAttention } from './native';
import type { Approval, ConnectorStatus, ConnectorView, Settings } from './types';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success';
  message: string;
  fix?: string;
}

class AppState {
  auth = $state<'checking' | 'ok' | 'signin' | 'down'>('checking');
  bootError = $state<ApiError | null>(null);
  version = $state('');
  stream = $state<events.StreamState>('connecting');
  connectors = $state<ConnectorView[] | null>(null);
  connectorsError = $state<ApiError | null>(null);
  approvals = $state<Approval[]>([]);
  settings = $state<Settings | null>(null);
  toasts = $state<Toast[]>([]);
  readonly window = inWindow();
}

export const app = new AppState();

let toastSeq = 0;

export function toast(kind: Toast['kind'], message: string, fix?: string) {
  const id = ++toastSeq;
  app.toasts = [...app.toasts, { id, kind, message, fix }];
  setTimeout(() => dismissToast(id), kind === 'error' ? 12000 : 5000);
}

export function toastError(err: unknown) {
  const e = toApiError(err);
  toast('error', e.message, e.fix);
}

export function dismissToast(id: number) {
  app.toasts = app.toasts.filter((t) => t.id !== id);
}

/** applyTheme sets light or dark, or follows the system when "system". */
export function applyTheme(theme: string | undefined) {
  const root = document.documentElement;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
}

/** setSettings keeps the settings the API answered with and applies the theme. */
export function setSettings(s: Settings) {
  app.settings = s;
  applyTheme(s.theme);
}

let reloadTimer: ReturnType<typeof setTimeout> | undefined;

export async function loadConnectors() {
  try {
    app.connectors = await api.listConnectors();
    app.connectorsError = null;
  } catch (err) {
    app.connectorsError = toApiError(err);
  }
}

/**
 * putConnector and dropConnector show a change the API just answered with;
 * its change event reloads the list soon after.
 */
export function putConnector(v: ConnectorView) {
  if (!app.connectors) return;
  const i = app.connectors.findIndex((c) => c.id === v.id);
  if (i < 0) app.connectors.push(v);
  else app.connectors[i] = v;
}

export function dropConnector(id: string) {
  app.connectors = app.connectors?.filter((c) => c.id !== id) ?? null;
}

/** reloadConnectors coalesces bursts of change events into one request. */
export function reloadConnectors() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadConnectors, 120);
}

function patchStatus(s: ConnectorStatus) {
  if (!app.connectors) return;
  const c = app.connectors.find((c) => c.id === s.connector_id);
  if (!c) return reloadConnectors();
  c.status = s;
  // A connection that lists tools changes the counts too.
  if (s.tool_count !== c.tools.total) reloadConnectors();
}

export async function loadApprovals() {
  try {
    const list = await api.listApprovals();
    app.approvals = list.sort((a, b) => a.created_at.localeCompare(b.created_at));
  } catch {
    // The prompt is best effort on load; live events still arrive.
  }
}

export async function loadSettings() {
  try {
    setSettings(await api.getSettings());
  } catch {
    // Settings screen shows its own error.
  }
}

function onEvent(e: { type: string; data: any }) {
  switch (e.type) {
    case events.RESYNC:
      reloadConnectors();
      loadApprovals();
      break;
    case 'connector.changed':
    case 'tools.changed':
      reloadConnectors();
      break;
    case 'connector.status':
      patchStatus(e.data as ConnectorStatus);
      break;
    case 'approval.requested': {
      const a = e.data as Approval;
      if (!app.approvals.some((x) => x.id === a.id)) app.approvals = [...app.approvals, a];
      break;
    }
    case 'approval.resolved':
      app.approvals = app.approvals.filter((x) => x.id !== e.data?.id);
      break;
    case 'settings.changed':
      setSettings(e.data as Settings);
      break;
  }
}

let booted = false;

/** boot checks that the API answers and we may use it, then goes live. */
export async function boot() {
  onUnauthorized(() => {
    app.auth = 'signin';
  });
  try {
    const h = await api.health();
    app.version = h.version;
  } catch (err) {
    app.bootError = toApiError(err);
    app.auth = 'down';
    return;
  }
  try {
    app.connectors = await api.listConnectors();
  } catch (err) {
    const e = toApiError(err);
    if (e.status === 401) {
      app.auth = 'signin';
      return;
    }
    app.connectorsError = e;
  }
  app.auth = 'ok';
  app.bootError = null;
  if (booted) return;
  booted = true;
  events.on(onEvent);
  events.start((s) => (app.stream = s));
  reportAttention();
  loadApprovals();
  loadSettings();
}
