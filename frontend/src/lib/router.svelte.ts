// Hash routing (#/connectors/abc): works the same from the window's asset
// server and from `serve`, and survives reloads without server help.

function current(): string {
  const h = typeof location !== 'undefined' ? location.hash.replace(/^#/, '') : '';
  return h.startsWith('/') ? h : '/connectors';
}

class Router {
  path = $state(current());
}

export const router = new Router();

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    router.path = current();
  });
}

export function navigate(path: string) {
  if (location.hash !== '#' + path) location.hash = path;
  router.path = path;
}

/** href returns the link for a route. */
export function href(path: string): string {
  return '#' + path;
}

/**
 * match compares a path with a pattern such as "/connectors/:id" and returns
 * the decoded parameters, or null when it does not match.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const [pathOnly] = path.split('?');
  const s = pathOnly.split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      if (!s[i]) return null;
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) {
      return null;
    }
  }
  return params;
}
