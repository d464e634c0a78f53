// Process and network helpers for the browser end-to-end tests: free
// ports, child processes that are always cleaned up, and `patchbay serve`
// with its printed sign-in link.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
export const testpeer = join(repo, 'backend/internal/testpeer/node');

/** The markup the XSS tests put in a server's names, descriptions and results. */
export const PAYLOAD = '<img src=x onerror=alert(1)>';

const children = [];
const cleanups = [];

/** fatal prints what is missing and how to get it, then exits 1 (before anything was started). */
export function fatal(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

export function requireFile(path, hint) {
  if (!existsSync(path)) fatal(`${path} is missing: ${hint}`);
  return path;
}

export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function waitPort(port, ms = 30000, proc) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`${proc.label} exited (${proc.exitCode}) before listening:\n${proc.tail()}`);
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), res(true)));
      c.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after ${ms} ms${proc ? `:\n${proc.tail()}` : ''}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * start runs a child process with its output in a log file (shown when a
 * test fails) and registers it for cleanup.
 */
export function start(label, cmd, args, { env = {}, cwd, logDir }) {
  const log = join(logDir, `${label}.log`);
  const out = createWriteStream(log);
  const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.pipe(out, { end: false });
  p.stderr.pipe(out, { end: false });
  p.label = label;
  p.log = log;
  p.tail = (n = 3000) => {
    try {
      const s = readFileSync(log, 'utf8');
      return s.slice(-n);
    } catch {
      return '';
    }
  };
  children.push(p);
  return p;
}

/** stop sends SIGTERM (or sig) and waits for the process to exit. */
export async function stop(p, sig = 'SIGTERM', ms = 8000) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill(sig);
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  await done;
  clearTimeout(t);
}

export async function cleanup() {
  for (const p of children.reverse()) await stop(p).catch(() => {});
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

/**
 * serve starts `patchbay serve` on a free loopback port with its own data
 * directory and returns its base URL and the one-time sign-in link it
 * printed.
 */
export async function serve(binary, { home, logDir, env = {} }) {
  const port = await freePort();
  const p = start('patchbay-serve', binary, ['serve', '--addr', `127.0.0.1:${port}`], {
    env: { PATCHBAY_HOME: home, ...env },
    logDir,
  });
  let banner = '';
  const link = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`patchbay serve printed no sign-in link in 30 s:\n${banner}${p.tail()}`)), 30000);
    p.stdout.on('data', (b) => {
      banner += b.toString();
      const m = /Sign in:\s+(\S+)/.exec(banner);
      if (m) {
        clearTimeout(t);
        ok(m[1]);
      }
    });
    p.once('exit', (code) => {
      clearTimeout(t);
      fail(new Error(`patchbay serve exited (${code}):\n${banner}${p.tail()}`));
    });
  });
  return { proc: p, port, base: `http://127.0.0.1:${port}`, link };
}

/** run runs a command to completion and returns its stdout. */
export async function run(cmd, args, env = {}) {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err}`))));
  });
}
