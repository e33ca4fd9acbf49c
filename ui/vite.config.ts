import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// The build writes dist/app.html and dist/assets/; dist/index.html is the
// committed placeholder that weir serves when the interface was never built
// (see README.md). Nothing committed is ever overwritten.
const dist = resolve(__dirname, 'dist');

// cleanBuild removes the previous build's output (and only it) before a
// build, so that stale hashed assets do not pile up.
function cleanBuild(): Plugin {
  return {
    name: 'weir-clean-build',
    apply: 'build',
    buildStart() {
      rmSync(resolve(dist, 'assets'), { recursive: true, force: true });
      rmSync(resolve(dist, 'app.html'), { force: true });
    },
  };
}

// appFallback serves app.html for client-side routes in `vite dev`, as
// weir server does.
function appFallback(): Plugin {
  return {
    name: 'weir-app-fallback',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const url = req.url ?? '/';
        const path = url.split('?')[0];
        const isFile = /\.[a-zA-Z0-9]+$/.test(path) || path.startsWith('/@') || path.startsWith('/node_modules/') || path.startsWith('/src/');
        if (req.method === 'GET' && !path.startsWith('/apis/') && !isFile) {
          req.url = '/app.html';
        }
        next();
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), cleanBuild(), appFallback()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    assetsDir: 'assets',
    sourcemap: false,
    rollupOptions: {
      input: resolve(__dirname, 'app.html'),
      output: {
        // Libraries change less often than the app: separate files cache better.
        manualChunks(id) {
          if (!id.includes('/node_modules/')) return undefined;
          if (/\/node_modules\/(react|react-dom|scheduler)\//.test(id)) return 'react';
          if (/\/node_modules\/(@xyflow|@dagrejs|zustand|classcat|use-sync-external-store|d3-[a-z-]+)\//.test(id)) return 'graph';
          if (/\/node_modules\/(marked|dompurify)\//.test(id)) return 'markdown';
          return 'vendor';
        },
      },
    },
  },
  server: {
    proxy: {
      '/apis': {
        target: process.env.WEIR_SERVER ?? 'http://127.0.0.1:8888',
        changeOrigin: true,
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
