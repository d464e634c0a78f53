// The few things that differ between the desktop window and a browser tab:
// opening links in the system browser, the clipboard, live events, and
// telling the app whether the person is looking (for native notifications).
// In the window Wails injects window.runtime; in a browser it is absent.

interface WailsRuntime {
  EventsOn(name: string, cb: (...data: unknown[]) => void): () => void;
  EventsEmit(name: string, ...data: unknown[]): void;
  BrowserOpenURL(url: string): void;
  ClipboardSetText(text: string): Promise<boolean>;
}

declare global {
  interface Window {
    runtime?: WailsRuntime;
  }
}

/** The Wails event that carries backend hub events into the window. */
export const WAILS_EVENT = 'patchbay:event';
/** The Wails event the window listens to for focus and visibility. */
export const WAILS_ATTENTION = 'patchbay:attention';

export function wails(): WailsRuntime | undefined {
  const rt = typeof window !== 'undefined' ? window.runtime : undefined;
  return rt && typeof rt.EventsOn === 'function' ? rt : undefined;
}

/** inWindow reports whether the UI runs inside the desktop app. */
export function inWindow(): boolean {
  return wails() !== undefined;
}

/** safeExternalURL accepts only http(s) URLs: servers choose these links. */
export function safeExternalURL(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** openExternal opens url in the system browser (window) or a new tab. */
export function openExternal(url: string): boolean {
  const safe = safeExternalURL(url);
  if (!safe) return false;
  const rt = wails();
  if (rt) {
    rt.BrowserOpenURL(safe);
    return true;
  }
  // With noopener, window.open returns null even when the tab opened.
  window.open(safe, '_blank', 'noopener,noreferrer');
  return true;
}

/**
 * copyText puts text on the clipboard and reports whether it could. The
 * window's WebView may have no async clipboard: there Wails' native one
 * does it; an old browser gets the selection trick.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // fall through
  }
  const rt = wails();
  if (rt) return rt.ClipboardSetText(text);
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand('copy');
  ta.remove();
  return ok;
}

/**
 * reportAttention tells the window whether the person can see the UI, so
 * that approval requests raise a native notification only when they cannot.
 */
export function reportAttention() {
  const rt = wails();
  if (!rt) return;
  const send = () =>
    rt.EventsEmit(WAILS_ATTENTION, {
      focused: document.hasFocus(),
      visible: document.visibilityState === 'visible',
    });
  window.addEventListener('focus', send);
  window.addEventListener('blur', send);
  document.addEventListener('visibilitychange', send);
  send();
}
