import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, loadEnv } from 'vite';

// The browser only ever talks to the admin origin. In production the API worker shares the
// hostname (routes /api/*, /posters/*, /oauth/*, /wechat/* go to it); in dev these paths are
// proxied to API_BASE so uploads with progress, poster previews, QR images and CSV downloads use
// the same relative URLs in both.
const PROXIED = ['/api', '/posters', '/oauth', '/wechat'];

export default defineConfig(({ mode }) => {
  const apiBase = loadEnv(mode, process.cwd(), '').API_BASE || 'http://127.0.0.1:8787';
  const proxy = Object.fromEntries(PROXIED.map((p) => [p, { target: apiBase, changeOrigin: true }]));
  return {
    plugins: [sveltekit()],
    server: { proxy },
    preview: { proxy },
  };
});
