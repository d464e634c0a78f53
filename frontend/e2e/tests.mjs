// The browser tests, in order: each builds on the state the previous one
// left (one server, one browser, like a person's first session).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PAYLOAD, sleep } from './lib.mjs';

// A small connector icon for the upload test (and the screenshots).
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="9" fill="#2f5fd0"/><circle cx="14" cy="20" r="5" fill="#fff"/><circle cx="26" cy="20" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M19 20h2" stroke="#fff" stroke-width="3"/></svg>`;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** eventually retries fn until it returns a truthy value or time runs out. */
async function eventually(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

async function visible(locator, what, timeout = 15000) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new Error(`not visible after ${timeout} ms: ${what}`);
  }
  return locator;
}

async function go(page, base, route) {
  await page.goto(`${base}/#${route}`);
}

export const tests = [
  [
    'a browser that is not signed in sees how to sign in',
    async ({ page, base, shot }) => {
      await page.goto(base + '/');
      await visible(page.getByRole('heading', { name: 'Sign in' }), 'sign-in heading');
      await visible(page.getByLabel('Admin token'), 'admin token field');
      const text = await page.textContent('body');
      assert(text.includes('patchbay serve'), 'the sign-in screen names `patchbay serve`');
      await shot('sign-in');
    },
  ],
  [
    'the one-time link printed by serve signs the browser in',
    async ({ page, link, base, shot }) => {
      await page.goto(link);
      await eventually('the UI after sign-in', async () => page.url().startsWith(base + '/'));
      await visible(page.getByRole('heading', { name: 'Connectors' }), 'Connectors heading');
      await visible(page.getByTestId('empty-state'), 'empty state on a fresh install');
      const empty = await page.getByTestId('empty-state').textContent();
      assert(/Add your first connector/.test(empty), `empty state explains the next step, got: ${empty}`);
      await shot('connectors-empty');
      // The link works once.
      const again = await fetch(link, { redirect: 'manual' });
      assert(again.status === 401, `a used login link must be refused, got ${again.status}`);
    },
  ],
  [
    'form validation shows the API messages next to the fields and saves nothing',
    async ({ page, base, api, shot }) => {
      await go(page, base, '/connectors/new');
      await visible(page.getByRole('heading', { name: 'Add a connector' }), 'form heading');
      await page.getByRole('button', { name: 'Add connector' }).click();
      await visible(page.getByTestId('error-banner'), 'error banner');
      const nameField = page.getByLabel('Name', { exact: true });
      await eventually('name marked invalid', async () => (await nameField.getAttribute('aria-invalid')) === 'true');
      const nameMsg = await page.locator('#f-name-msg').textContent();
      assert(/is required/.test(nameMsg), `name message: ${nameMsg}`);
      const urlMsg = await page.locator('#f-url-msg').textContent();
      assert(/is required/.test(urlMsg), `url message: ${urlMsg}`);

      await nameField.fill('Broken');
      await page.getByLabel('Server URL').fill('http://example.com/mcp');
      await page.getByRole('radio', { name: 'API key' }).check();
      await page.getByLabel('Header name').fill('');
      await page.getByRole('button', { name: 'Add connector' }).click();
      await eventually('url and header-name messages', async () => {
        const u = await page.locator('#f-url-msg').textContent();
        const h = await page.locator('#f-key-name-msg').textContent();
        return /https:\/\//.test(u) && /is required/.test(h);
      });
      const keyMsg = await page.locator('#f-key-value-msg').textContent();
      assert(/is required/.test(keyMsg), `API key value message: ${keyMsg}`);
      const fix = await page.getByTestId('error-banner').textContent();
      assert(/nothing was saved/i.test(fix), `banner shows the suggested fix, got: ${fix}`);
      await shot('connector-form-validation');
      const list = await api('GET', '/api/v1/connectors');
      assert(list.length === 0, `nothing may be saved, found ${list.length} connector(s)`);
    },
  ],
  [
    'add a connector through the form, test it and see it connect',
    async ({ page, base, api, everythingURL, shot, state }) => {
      await go(page, base, '/connectors');
      await page.getByRole('link', { name: 'Add connector' }).first().click();
      await visible(page.getByRole('heading', { name: 'Add a connector' }), 'form heading');
      await page.getByLabel('Name', { exact: true }).fill('Everything');
      await page.getByLabel('Server URL').fill(everythingURL);
      await page.getByLabel('Description').fill('The MCP reference test server: echo, add, long-running operations.');
      await page.locator('#f-icon').setInputFiles({ name: 'icon.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(ICON) });
      await visible(page.getByAltText('Current icon'), 'the icon preview');
      await page.getByRole('button', { name: 'Add header' }).click();
      await page.locator('#f-h0-name').fill('X-Patchbay-Demo');
      await page.locator('#f-h0-value').fill('hello');
      await page.getByRole('button', { name: 'Test connection' }).click();
      await visible(page.getByTestId('test-result'), 'test result', 30000);
      const result = await page.getByTestId('test-result').textContent();
      assert(/connection works/.test(result), `test result: ${result}`);
      const steps = await page.locator('[data-testid="test-steps"] li[data-status="ok"]').count();
      assert(steps >= 3, `expected several passed steps, got ${steps}`);
      await page.getByTestId('test-result').scrollIntoViewIfNeeded();
      await shot('connector-form');

      await page.getByRole('button', { name: 'Add connector' }).click();
      await eventually('the detail page', async () => /#\/connectors\/[^/]+$/.test(page.url()) && !page.url().endsWith('/new'));
      state.connectorId = decodeURIComponent(page.url().split('/').pop());
      await visible(page.locator('[data-state="connected"]'), 'Connected badge', 30000);
      await visible(page.locator('[data-testid="tool-row"][data-tool="echo"]'), 'echo tool', 30000);
      const c = await api('GET', `/api/v1/connectors/${state.connectorId}`);
      assert(c.headers?.[0]?.name === 'X-Patchbay-Demo', 'the custom header was saved');
      assert(c.icon?.startsWith('data:image/svg+xml;base64,'), 'the uploaded icon was saved');
      await go(page, base, '/connectors');
      await visible(page.locator('[data-testid="connector-row"][data-connector="Everything"] [data-state="connected"]'), 'connected in list');
      await eventually('tool counts', async () =>
        /\d+ tools\s+·\s+\d+ always allowed/.test(await page.locator('[data-testid="connector-row"] [data-testid="tool-counts"]').textContent()));
      await shot('connectors');
    },
  ],
  [
    'set a tool to Needs approval with the permission control',
    async ({ page, base, api, state, shot }) => {
      await go(page, base, `/connectors/${encodeURIComponent(state.connectorId)}`);
      const row = page.locator('[data-testid="tool-row"][data-tool="echo"]');
      await visible(row, 'echo row');
      await row.getByRole('radio', { name: 'Needs approval' }).check();
      await eventually('policy saved', async () => {
        const tools = await api('GET', `/api/v1/connectors/${state.connectorId}/tools`);
        return tools.find((t) => t.name === 'echo')?.policy === 'needs_approval';
      });
      await page.reload();
      const radio = page.locator('[data-testid="tool-row"][data-tool="echo"]').getByRole('radio', { name: 'Needs approval' });
      await visible(radio, 'echo radio after reload');
      assert(await radio.isChecked(), 'Needs approval stays checked after a reload');
      await page.locator('[data-testid="tool-row"][data-tool="echo"]').scrollIntoViewIfNeeded();
      await page.evaluate(() => document.querySelector('main')?.scrollTo(0, 0));
      await shot('connector-detail');
    },
  ],
  [
    'the connector is on in the default conversation, with its endpoint and snippets',
    async ({ page, base, state, shot }) => {
      await go(page, base, '/conversations');
      await visible(page.getByTestId('endpoint-url'), 'endpoint URL');
      const url = await page.getByTestId('endpoint-url').textContent();
      assert(url === `${base}/mcp`, `endpoint URL: ${url}`);
      const sw = page.locator(`#tg-${state.connectorId}`);
      await visible(sw, 'connector switch');
      assert(await sw.isChecked(), 'a new connector is on in the default conversation');
      const snippet = await page.getByTestId('snippet').textContent();
      assert(snippet.includes(`${base}/mcp`), 'the Claude Code snippet names the endpoint');
      await shot('conversations');
    },
  ],
  [
    'approve a call from an MCP client in the prompt',
    async ({ page, base, api, mcpClient, shot, state }) => {
      await go(page, base, '/connectors');
      const issued = await api('POST', '/api/v1/tokens', { label: 'e2e TypeScript client' });
      const client = await mcpClient(issued.token);
      state.client = client;
      state.token = issued.token;
      const { tools } = await client.listTools();
      const echo = tools.find((t) => t.name.endsWith('_echo'));
      assert(echo, `the client sees the echo tool, got: ${tools.map((t) => t.name).join(', ')}`);
      const call = client.callTool({ name: echo.name, arguments: { message: 'hello from the e2e test' } }, undefined, { timeout: 60000 });
      call.catch(() => {});
      const prompt = page.getByTestId('approval-prompt');
      await visible(prompt, 'approval prompt', 20000);
      const text = await prompt.textContent();
      assert(text.includes('echo') && text.includes('hello from the e2e test'), `prompt shows tool and arguments: ${text}`);
      assert(text.includes('e2e-ts-client'), `prompt names the client: ${text}`);
      const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
      assert(focused === 'Deny', `focus starts on Deny, got ${focused}`);
      await shot('approval');
      await page.getByRole('button', { name: 'Allow once' }).click();
      const res = await call;
      const out = JSON.stringify(res.content);
      assert(out.includes('hello from the e2e test'), `the call went through after approval: ${out}`);
      await prompt.waitFor({ state: 'detached' });
    },
  ],
  [
    'Esc in the prompt denies the call',
    async ({ page, state }) => {
      const { tools } = await state.client.listTools();
      const echo = tools.find((t) => t.name.endsWith('_echo'));
      const call = state.client.callTool({ name: echo.name, arguments: { message: 'please deny me' } }, undefined, { timeout: 60000 });
      call.catch(() => {});
      await visible(page.getByTestId('approval-prompt'), 'second approval prompt', 20000);
      await page.keyboard.press('Escape');
      const res = await call.then((r) => r, (e) => ({ error: e }));
      const denied = res.error || res.isError;
      assert(denied, `the call was denied: ${JSON.stringify(res)}`);
    },
  ],
  [
    'connected clients show on the Conversations screen as they come and go',
    async ({ page, base, mcpClient, state }) => {
      await go(page, base, '/conversations');
      const rows = page.getByTestId('sessions').locator('tbody tr');
      await visible(rows.filter({ hasText: 'e2e-ts-client' }), 'the connected client');
      const before = await rows.count();
      const second = await mcpClient(state.token);
      await eventually('a second client, live', async () => (await rows.count()) === before + 1);
      await second.transport.terminateSession();
      await second.close();
      await eventually('the second client gone, live', async () => (await rows.count()) === before);
    },
  ],
  [
    'create a conversation, switch a connector on in it, and delete it',
    async ({ page, base, api, state }) => {
      await go(page, base, '/conversations');
      await page.getByLabel('New conversation').fill('Research');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await eventually('the new conversation', async () => page.url().endsWith('#/conversations/research'));
      await visible(page.getByRole('heading', { name: 'Research' }), 'its heading');
      const url = await page.getByTestId('endpoint-url').textContent();
      assert(url === `${base}/mcp/research`, `its own endpoint: ${url}`);
      const sw = page.locator(`#tg-${state.connectorId}`);
      assert(!(await sw.isChecked()), 'a new conversation starts with its connectors off');
      await sw.check();
      await eventually('the connector on in Research', async () =>
        (await api('GET', '/api/v1/conversations/research')).connectors.includes(state.connectorId));
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Delete conversation' }).click();
      await eventually('deleted', async () => !(await api('GET', '/api/v1/conversations')).some((c) => c.slug === 'research'));
      const side = page.getByRole('navigation', { name: 'Conversations' });
      await eventually('gone from the list', async () => (await side.getByText('Research').count()) === 0);
    },
  ],
  [
    'find the call in Activity, live, and open it',
    async ({ page, base, shot, state }) => {
      await go(page, base, '/activity');
      const row = page.locator('[data-testid="activity-row"][data-tool="echo"][data-outcome="ok"]');
      await visible(row, 'the approved echo call', 20000);
      await visible(page.locator('[data-testid="activity-row"][data-outcome="denied"]'), 'the denied call');
      await shot('activity');
      await row.first().getByRole('link').click();
      const detail = page.getByTestId('activity-detail');
      await visible(detail, 'call detail');
      const text = await detail.textContent();
      assert(text.includes('hello from the e2e test'), 'detail shows the arguments');
      assert(/Echo/i.test(text), 'detail shows the result');
      await shot('activity-detail');
      await page.keyboard.press('Escape');
      await detail.waitFor({ state: 'detached' });
      // Live: a call made now appears without a reload.
      const { tools } = await state.client.listTools();
      const sum = tools.find((t) => t.name.endsWith('_get-sum'));
      assert(sum, `the client sees get-sum (read-only, so allowed), got: ${tools.map((t) => t.name).join(', ')}`);
      await state.client.callTool({ name: sum.name, arguments: { a: 2, b: 3 } });
      await visible(page.locator('[data-testid="activity-row"][data-tool="get-sum"][data-outcome="ok"]'), 'the new call, live');
      // The search narrows the list: only one call asked to be denied.
      const rows = page.locator('[data-testid="activity-row"]');
      assert((await rows.count()) >= 3, `three calls listed, got ${await rows.count()}`);
      await page.getByLabel('Search').fill('please deny me');
      await eventually('the search narrows the list', async () =>
        (await rows.count()) === 1 && (await rows.first().getAttribute('data-outcome')) === 'denied');
      await page.getByLabel('Search').fill('');
      await eventually('all calls again', async () => (await rows.count()) >= 3);
    },
  ],
  [
    'a tool description with HTML is shown as text, never as HTML',
    async ({ page, base, api, xssURL, state, seen }) => {
      const c = await api('POST', '/api/v1/connectors', { name: `Evil ${PAYLOAD}`, url: xssURL, default_policy: 'always_allow' });
      await go(page, base, `/connectors/${encodeURIComponent(c.id)}`);
      const row = page.locator('[data-testid="tool-row"][data-tool="describe"]');
      await visible(row, 'the describe tool', 30000);
      const desc = await row.getByTestId('tool-description').textContent();
      assert(desc.includes(PAYLOAD), `the description shows the markup as text: ${desc}`);
      const title = await page.locator('h1').textContent();
      assert(title.includes(PAYLOAD), `the connector name shows as text: ${title}`);
      assert((await page.locator('img[src="x"]').count()) === 0, 'no <img src=x> element may exist');
      assert((await page.locator('main script').count()) === 0, 'no injected <script> element may exist');
      assert((await row.locator('b').count()) === 0, 'no injected <b> element may exist');
      await visible(page.getByText(`evil ${PAYLOAD}`), 'the server name shown as text');
      assert(seen.dialogs.length === 0, `no script ran: dialogs ${JSON.stringify(seen.dialogs)}`);
      state.evilId = c.id;
    },
  ],
  [
    'a tool result with HTML is shown as text in the activity detail',
    async ({ page, base, state, seen }) => {
      assert(state.client, 'needs the MCP client of the approval test');
      const { tools } = await state.client.listTools();
      const t = tools.find((x) => x.name.endsWith('_describe'));
      assert(t, 'the client sees the describe tool');
      await state.client.callTool({ name: t.name, arguments: {} });
      await go(page, base, '/activity');
      const r = page.locator('[data-testid="activity-row"][data-tool="describe"]');
      await visible(r, 'the describe call');
      await r.first().getByRole('link').click();
      const detail = page.getByTestId('activity-detail');
      await visible(detail, 'detail');
      assert((await detail.textContent()).includes(`result ${PAYLOAD}`), 'the result shows as text');
      assert((await page.locator('img[src="x"]').count()) === 0, 'no <img src=x> in the activity detail');
      await page.keyboard.press('Escape');
      assert(seen.dialogs.length === 0, `no script ran: dialogs ${JSON.stringify(seen.dialogs)}`);
    },
  ],
  [
    'an OAuth connector: discover, save, sign in with progress and the redirect URI',
    async ({ page, base, api, oauthIssuer, oauthURL, shot }) => {
      await go(page, base, '/connectors/new');
      await page.getByLabel('Name', { exact: true }).fill('Protected');
      await page.getByLabel('Server URL').fill(oauthURL);
      await page.getByRole('radio', { name: 'OAuth' }).check();
      await page.getByRole('button', { name: 'Advanced OAuth settings' }).click();
      await page.getByLabel('Issuer').fill(oauthIssuer);
      await page.getByRole('button', { name: 'Discover' }).click();
      const found = page.getByTestId('discovery');
      await visible(found, 'what discovery found');
      assert(/registers clients automatically/.test(await found.textContent()), 'discovery says no client ID is needed');
      await visible(page.locator('#f-ports-msg').getByText('Redirect URI: http://127.0.0.1'), 'the redirect URI preview');
      await page.getByRole('button', { name: 'Add connector' }).click();
      await eventually('the detail page', async () => /#\/connectors\/[^/]+$/.test(page.url()) && !page.url().endsWith('/new'));
      const id = decodeURIComponent(page.url().split('/').pop());
      await visible(page.locator('[data-state="needs-sign-in"]'), 'Needs sign-in', 30000);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const step = page.getByTestId('oauth-step');
      await visible(step, 'sign-in progress');
      await visible(page.getByTestId('redirect-uri'), 'the redirect URI to copy');
      const uri = await page.getByTestId('redirect-uri').textContent();
      assert(/^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(uri), `redirect URI: ${uri}`);
      await eventually('signed in', async () => (await step.getAttribute('data-step')) === 'done', 30000);
      await shot('oauth-sign-in');
      await page.getByRole('button', { name: 'Done' }).click();
      await visible(page.locator('[data-state="connected"]'), 'connected after sign-in', 30000);
      await visible(page.locator('[data-testid="tool-row"]'), 'its tools', 30000);
      await visible(page.getByTestId('oauth-status').getByText('Signed in'), 'signed-in status');
      const c = await api('GET', `/api/v1/connectors/${id}`);
      assert(c.status.state === 'connected', `state: ${c.status.state}`);
      await api('DELETE', `/api/v1/connectors/${id}`);
    },
  ],
  [
    'settings validate and save',
    async ({ page, base, api, shot }) => {
      await go(page, base, '/settings');
      const timeout = page.getByLabel('Approval timeout (seconds)');
      await visible(timeout, 'approval timeout field');
      await timeout.fill('2');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await eventually('timeout message', async () => /between 5 and 3600/.test(await page.locator('#s-timeout-msg').textContent()));
      await timeout.fill('90');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await eventually('saved', async () => (await api('GET', '/api/v1/settings')).approval_timeout_seconds === 90);
      await page.evaluate(() => document.querySelector('main')?.scrollTo(0, 0));
      await shot('settings');
    },
  ],
  [
    'a token issued elsewhere shows in Settings at once, and revoking it asks first',
    async ({ page, base, api }) => {
      await go(page, base, '/settings');
      await visible(page.getByRole('heading', { name: 'Client tokens' }), 'the tokens section');
      const t = await api('POST', '/api/v1/tokens', { label: 'e2e revoke me' });
      const row = page.getByRole('row').filter({ hasText: 'e2e revoke me' });
      await visible(row, 'the new token, live');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke token' }).click();
      await row.waitFor({ state: 'detached' });
      assert(!(await api('GET', '/api/v1/tokens')).some((x) => x.id === t.id), 'the token is revoked');
    },
  ],
  [
    'the theme follows the system unless the setting picks one',
    async ({ page, base, api, shot }) => {
      const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const dark = (c) => {
        const [r, g, b] = c.match(/\d+/g).map(Number);
        return r + g + b < 200;
      };
      try {
        await page.emulateMedia({ colorScheme: 'dark' });
        await go(page, base, '/connectors');
        await visible(page.getByRole('heading', { name: 'Connectors' }), 'Connectors');
        assert(dark(await bg()), `dark system theme gives a dark page, got ${await bg()}`);
        await shot('connectors-dark');
        await api('PUT', '/api/v1/settings', { theme: 'light' });
        await eventually('light theme from the setting', async () => !dark(await bg()));
        assert((await page.evaluate(() => document.documentElement.dataset.theme)) === 'light', 'data-theme=light');
      } finally {
        await api('PUT', '/api/v1/settings', { theme: 'system' });
        await page.emulateMedia({ colorScheme: 'light' });
      }
    },
  ],
  [
    'connect a client from the Clients screen after previewing the change',
    async ({ page, base, userHome, mcpClient, shot }) => {
      await go(page, base, '/clients');
      await visible(page.getByRole('heading', { name: 'Clients', exact: true }), 'Clients heading');
      const card = page.locator('[data-testid="client-card"][data-client="cursor"]');
      await visible(card, 'the Cursor card');
      await card.getByRole('button', { name: /Connect/ }).click();
      const diff = page.getByTestId('client-diff');
      await visible(diff, 'the preview of the change');
      const text = await diff.textContent();
      assert(text.includes(`${base}/mcp`), `the preview shows the endpoint: ${text}`);
      const file = join(userHome, '.cursor', 'mcp.json');
      assert(!existsSync(file), 'nothing is written before the person agrees');
      await shot('client-connect');
      await page.getByRole('button', { name: 'Write the change' }).click();
      await visible(card.getByText('Connected'), 'Cursor connected');
      const written = JSON.parse(readFileSync(file, 'utf8'));
      const entry = Object.values(written.mcpServers ?? {})[0];
      assert(entry?.url === `${base}/mcp`, `the file points at the endpoint: ${JSON.stringify(written)}`);
      // The token written for Cursor works.
      const token = String(entry.headers?.Authorization ?? '').replace(/^Bearer /, '');
      const client = await mcpClient(token);
      const { tools } = await client.listTools();
      assert(tools.length > 0, 'the client set up by Patchbay sees tools');
      await client.close();
      await shot('clients');
      await card.getByRole('button', { name: 'Disconnect' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Disconnect' }).click();
      // Patchbay created the file, so taking its entry out may remove it.
      await eventually('Cursor disconnected', async () =>
        !existsSync(file) || Object.keys(JSON.parse(readFileSync(file, 'utf8')).mcpServers ?? {}).length === 0);
      await eventually('Cursor shown as not connected', async () => (await card.getByText('Connected', { exact: true }).count()) === 0);
    },
  ],
  [
    'remove asks for confirmation',
    async ({ page, base, api }) => {
      const before = (await api('GET', '/api/v1/connectors')).length;
      await go(page, base, '/connectors');
      const row = page.locator('[data-testid="connector-row"]').filter({ hasText: 'Evil' });
      await row.getByRole('button', { name: /Remove/ }).click();
      const dlg = page.getByRole('alertdialog');
      await visible(dlg, 'confirmation');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      assert((await api('GET', '/api/v1/connectors')).length === before, 'Cancel removes nothing');
      await row.getByRole('button', { name: /Remove/ }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Remove connector' }).click();
      await eventually('removed', async () => (await api('GET', '/api/v1/connectors')).length === before - 1);
    },
  ],
  [
    'no script errors or CSP violations',
    async ({ seen, state }) => {
      await state.client?.close().catch(() => {});
      assert(seen.pageErrors.length === 0, `page errors: ${seen.pageErrors.join('\n')}`);
      const csp = seen.consoleErrors.filter((m) => /Content Security Policy|Refused to/i.test(m));
      assert(csp.length === 0, `CSP violations: ${csp.join('\n')}`);
      assert(seen.dialogs.length === 0, `dialogs: ${seen.dialogs.join('\n')}`);
    },
  ],
];
