import type { ActivityEntry, ActivityFilter } from './types';

/**
 * entryMatches decides whether a live entry belongs in the list the person
 * is looking at. It mirrors the server's filter (ActivityFilter.Matches in
 * backend/activity.go), so that a live entry shows exactly when a reload
 * would show it.
 */
export function entryMatches(e: ActivityEntry, f: ActivityFilter): boolean {
  if (f.connector && e.connector_id !== f.connector) return false;
  if (f.tool && e.tool !== f.tool && e.exposed_name !== f.tool) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.conversation && e.conversation !== f.conversation) return false;
  const q = (f.q ?? '').trim().toLowerCase();
  if (!q) return true;
  return [
    e.tool,
    e.exposed_name,
    e.connector,
    e.client_name,
    e.token_label,
    e.error,
    e.conversation,
    jsonText(e.arguments),
    jsonText(e.result),
  ].some((s) => (s ?? '').toLowerCase().includes(q));
}

/**
 * jsonText returns the keys and values of a JSON value as plain text,
 * unescaped, so that a search for `say "hi"` finds {"m":"say \"hi\""}.
 */
function jsonText(v: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (v === undefined) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    } else out.push(String(v));
  };
  walk(v);
  return out.join(' ');
}
