// Browser end-to-end tests of the web UI against the real thing: the
// headless `patchbay serve` binary (PATCHBAY_TEST_BINARY), a real upstream
// (@modelcontextprotocol/server-everything), a real MCP client (the
// TypeScript SDK) and Debian's chromium driven by playwright-core.
//
//   make test-e2e        (runs: PATCHBAY_TEST_BINARY=… .ci/with-keyring node frontend/e2e/run.mjs)
//
// The tests also write the README's screenshots to frontend/screenshots/.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import {
  cleanup,
  fatal,
  freePort,
  here,
  requireFile,
  run,
  serve,
  start,
  tempDir,
  testpeer,
  waitPort,
} from './lib.mjs';
import { tests } from './tests.mjs';

const binary = process.env.PATCHBAY_TEST_BINARY;
if (!binary || !existsSync(binary)) {
  fatal('set PATCHBAY_TEST_BINARY to the headless binary (run `make test-e2e`, which builds bin/patchbay-headless)');
}
const chromiumPath = process.env.PATCHBAY_CHROMIUM || '/usr/bin/chromium';
requireFile(chromiumPath, 'install Debian\'s chromium (run `make test-deps`)');
const everything = requireFile(
  join(testpeer, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'),
  'run `make test-deps` (npm ci in backend/internal/testpeer/node)',
);
const sdkESM = join(testpeer, 'node_modules/@modelcontextprotocol/sdk/dist/esm');
requireFile(join(sdkESM, 'client/index.js'), 'run `make test-deps` (npm ci in backend/internal/testpeer/node)');
if (process.env.PATCHBAY_PRIVATE_KEYRING !== '1') {
  fatal('run inside .ci/with-keyring (connector secrets go to the keychain); `make test-e2e` does this');
}

const shots = join(here, '..', 'screenshots');
const failures = join(here, '..', 'test-results');
mkdirSync(shots, { recursive: true });
mkdirSync(failures, { recursive: true });

const logDir = tempDir('patchbay-e2e-logs-');
let ctx;
let failed = 0;

process.on('SIGINT', () => cleanup().finally(() => process.exit(130)));

try {
  const evPort = await freePort();
  const ev = start('server-everything', process.execPath, [everything, 'streamableHttp'], {
    env: { PORT: String(evPort) },
    cwd: testpeer,
    logDir,
  });
  const xssPort = await freePort();
  const xss = start('xss-server', process.execPath, [join(here, 'xss-server.mjs')], {
    env: { PORT: String(xssPort), MCP_SDK_ESM: sdkESM },
    logDir,
  });
  // A real OAuth authorization server (oidc-provider, logging in and
  // consenting by itself) with an MCP resource server in front of
  // server-everything; $BROWSER makes the backend's "open the browser" follow
  // the sign-in like a person's browser would.
  const issuerPort = await freePort();
  const rsPort = await freePort();
  const oauth = start('oauth-server', process.execPath, [requireFile(join(testpeer, 'oauth-server.mjs'), 'the OAuth test server is missing')], {
    env: {
      PATCHBAY_OAUTH_CONFIG: JSON.stringify({
        issuerPort, rsPort, upstream: `http://127.0.0.1:${evPort}`, resourcePath: '/mcp',
        accessTTL: 3600, clients: [], registration: true,
      }),
    },
    cwd: testpeer,
    logDir,
  });
  await waitPort(evPort, 30000, ev);
  await waitPort(xssPort, 30000, xss);
  await waitPort(issuerPort, 30000, oauth);
  await waitPort(rsPort, 30000, oauth);

  const home = tempDir('patchbay-e2e-home-');
  // Client setup reads and writes the person's client settings files: give
  // serve a home of its own so that the tests never touch the real ones.
  const userHome = tempDir('patchbay-e2e-user-');
  const srv = await serve(binary, {
    home,
    logDir,
    env: {
      HOME: userHome,
      XDG_CONFIG_HOME: join(userHome, '.config'),
      CODEX_HOME: '',
      BROWSER: `${process.execPath} ${join(testpeer, 'headless-browser.mjs')} %s`,
    },
  });
  const adminToken = (await run(binary, ['admin-token'], { PATCHBAY_HOME: home })).trim();

  ctx = await chromium.launchPersistentContext(tempDir('patchbay-e2e-chromium-'), {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 820 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(15000);
  const seen = { dialogs: [], pageErrors: [], consoleErrors: [] };
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => seen.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.consoleErrors.push(m.text());
  });

  const api = async (method, path, body) => {
    const res = await fetch(srv.base + path, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  const { Client } = await import(pathToFileURL(join(sdkESM, 'client/index.js')).href);
  const { StreamableHTTPClientTransport } = await import(
    pathToFileURL(join(sdkESM, 'client/streamableHttp.js')).href
  );
  /** mcpClient connects the TypeScript SDK client to a conversation's endpoint. */
  const mcpClient = async (token, path = '/mcp') => {
    const client = new Client({ name: 'e2e-ts-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(srv.base + path), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return client;
  };

  const env = {
    page,
    base: srv.base,
    link: srv.link,
    api,
    mcpClient,
    everythingURL: `http://127.0.0.1:${evPort}/mcp`,
    xssURL: `http://127.0.0.1:${xssPort}/mcp`,
    userHome,
    oauthIssuer: `http://127.0.0.1:${issuerPort}`,
    oauthURL: `http://127.0.0.1:${rsPort}/mcp`,
    shot: async (name) => {
      await page.waitForTimeout(150); // let transitions settle
      await page.screenshot({
        path: join(shots, `${name}.png`),
        animations: 'disabled',
        caret: 'hide',
        style: '[data-testid="toast"] { visibility: hidden; }',
      });
    },
    seen,
    state: {},
  };

  for (const [name, fn] of tests) {
    const t0 = Date.now();
    try {
      await fn(env);
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(err?.stack ?? err).split('\n').join('\n     ')}`);
      const file = join(failures, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
      await page.screenshot({ path: file }).catch(() => {});
      console.log(`     screenshot: ${file}`);
    }
  }
  if (failed) {
    console.log(`\n--- patchbay serve log (tail) ---\n${srv.proc.tail(4000)}`);
  }
} catch (err) {
  failed++;
  console.error(`e2e setup failed: ${err?.stack ?? err}`);
} finally {
  await ctx?.close().catch(() => {});
  await cleanup();
}

if (failed) {
  console.log(`e2e: ${failed} test(s) failed`);
  process.exit(1);
}
console.log('e2e: all browser tests passed');
