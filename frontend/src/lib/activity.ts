import type { ActivityEntry, ActivityFilter } from './types';

/**
 * entryMatches decides whether a live entry belongs in the list the person
 * is looking at, mirroring the server's filter (backend ActivityFilter).
 */
export function entryMatches(e: ActivityEntry, f: ActivityFilter): boolean {
  if (f.connector && e.connector_id !== f.connector) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.conversation && e.conversation !== f.conversation) return false;
  if (f.tool && e.tool !== f.tool && e.exposed_name !== f.tool) return false;
  const q = (f.q ?? '').trim().toLowerCase();
  if (q) {
    const hay = [
      e.tool,
      e.exposed_name,
      e.connector,
      e.client_name,
      e.error,
      JSON.stringify(e.arguments ?? ''),
      JSON.stringify(e.result ?? ''),
    ]
      .join('\n')
      .toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}
