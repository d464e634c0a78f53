// One build for both hosts: the Wails window embeds frontend/dist and
// `patchbay serve` serves it. Everything is bundled locally (the CSP is
// default-src 'self'): no CDN, no external fonts, no inline scripts.
import { writeFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  plugins: [
    svelte(),
    {
      // The Go embed (//go:embed all:frontend/dist) needs the directory in a
      // fresh checkout, so dist/.gitkeep is committed; put it back after
      // Vite empties the directory.
      name: 'keep-gitkeep',
      closeBundle() {
        writeFileSync(new URL('./dist/.gitkeep', import.meta.url), '');
      },
    },
  ],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    target: 'es2022',
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` against a running `patchbay serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:47821', '/login': 'http://127.0.0.1:47821' },
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
