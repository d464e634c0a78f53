// headless-browser.mjs URL: a stand-in for a person's browser in sign-in
// tests, used through $BROWSER ("node headless-browser.mjs %s"). It follows
// the URL and every redirect with a cookie jar, as a browser would when the
// authorization server logs in and consents by itself, until it lands on a
// page. When PATCHBAY_BROWSER_LOG is set, one JSON line
// {"url","status","body"} for that last page is appended to that file.

import { appendFileSync } from 'node:fs';

const jar = new Map(); // host → Map(name → value)

function cookieHeader(url) {
  const c = jar.get(url.host);
  return c ? [...c].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
}

function remember(url, res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const i = pair.indexOf('=');
    if (i < 0) continue;
    if (!jar.has(url.host)) jar.set(url.host, new Map());
    jar.get(url.host).set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
}

let url = new URL(process.argv[2]);
let out;
try {
  for (let i = 0; i < 25; i++) {
    const headers = {};
    const cookie = cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, { redirect: 'manual', headers });
    remember(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url);
      continue;
    }
    out = { url: url.href, status: res.status, body: (await res.text()).slice(0, 65536) };
    break;
  }
  if (!out) out = { url: url.href, status: 0, body: 'too many redirects' };
} catch (err) {
  out = { url: url.href, status: 0, body: String(err) };
}
if (process.env.PATCHBAY_BROWSER_LOG) appendFileSync(process.env.PATCHBAY_BROWSER_LOG, JSON.stringify(out) + '\n');
