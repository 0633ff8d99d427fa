// vite.config.ts — builds the renderer into dist/app as a self-contained bundle: no CDN, no remote
// fonts (KaTeX's fonts are emitted as local assets), no inline scripts, so a strict CSP holds.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// import.meta.dirname, not node:path/url: app/ imports no Node built-ins (the lint rule), and
// this file is only ever run by Vite under Node, which provides it.
const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${here}/../dist/app`,
    emptyOutDir: true,
    sourcemap: false,
    // Inlined assets would become data: URLs; keep every asset a file so the CSP stays 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
});
