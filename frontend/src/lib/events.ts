// Live updates from the backend's event hub, behind one small interface:
// server-sent events (/api/v1/events) in a browser, Wails events in the
// window (its asset server cannot stream, so app/window.go forwards the hub).

import { WAILS_EVENT, wails } from './native';
import type { LiveEvent } from './types';

/** Every event type the backend publishes (backend/event.go). */
export const EVENT_TYPES = [
  'connector.changed',
  'connector.status',
  'tools.changed',
  'conversation.changed',
  'sessions.changed',
  'approval.requested',
  'approval.resolved',
  'activity',
  'oauth.progress',
  'connector.test',
  'settings.changed',
  'tokens.changed',
  'clients.changed',
] as const;

/**
 * A synthetic event sent when the stream (re)connects: events may have been
 * missed, so screens reload what they show.
 */
export const RESYNC = 'resync';

export type Listener = (e: LiveEvent) => void;
export type StreamState = 'connecting' | 'live' | 'reconnecting';

const listeners = new Set<Listener>();
let stop: (() => void) | undefined;

/** on registers fn for every live event; it returns the unsubscribe. */
export function on(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** onType registers fn for events of one type. */
export function onType(type: string, fn: (data: any) => void): () => void {
  return on((e) => {
    if (e.type === type) fn(e.data);
  });
}

function dispatch(e: LiveEvent) {
  for (const fn of [...listeners]) {
    try {
      fn(e);
    } catch (err) {
      console.error('event listener failed', e.type, err);
    }
  }
}

/** start opens the stream once; onState follows its health. */
export function start(onState: (s: StreamState) => void = () => {}) {
  if (stop) return;
  const rt = wails();
  if (rt) {
    const off = rt.EventsOn(WAILS_EVENT, (raw: unknown) => {
      const e = raw as LiveEvent;
      if (e && typeof e.type === 'string') dispatch(e);
    });
    onState('live');
    stop = () => off();
    return;
  }
  let es: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const open = (first: boolean) => {
    onState(first ? 'connecting' : 'reconnecting');
    es = new EventSource('/api/v1/events');
    es.onopen = () => {
      onState('live');
      dispatch({ type: RESYNC, data: null });
    };
    es.onerror = () => {
      onState('reconnecting');
      // A closed stream (for example after a 401 or a restart) is not
      // retried by the browser: reopen it after a pause.
      if (es && es.readyState === EventSource.CLOSED) {
        es.close();
        retry = setTimeout(() => open(false), 3000);
      }
    };
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (m) => {
        let data: unknown = null;
        try {
          data = JSON.parse((m as MessageEvent).data);
        } catch {
          return;
        }
        dispatch({ type, data });
      });
    }
  };
  open(true);
  stop = () => {
    clearTimeout(retry);
    es?.close();
  };
}
