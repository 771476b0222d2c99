import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by the API under /console/ (apps/api/src/create-app.ts) and calls
// the API on the same origin. `npx vite --config apps/console/vite.config.mts` runs it with
// hot reload against an API on localhost:3000.
const API = process.env.KCFLOW_API_URL ?? 'http://localhost:3000';
const apiPaths = ['/applications', '/programmes', '/reports', '/dev', '/health', '/projections'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // Vite 8 transforms JSX itself (Oxc); no React plugin needed.
  oxc: { jsx: { runtime: 'automatic' } },
  // The domain's vocabulary (categories, indicators) is shared, not copied: it is pure TypeScript.
  resolve: { alias: { '@kcflow/domain': fileURLToPath(new URL('../../libs/domain/src', import.meta.url)) } },
  build: { outDir: '../../dist/console', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: Object.fromEntries(apiPaths.map((path) => [path, API])) },
});
