import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter(),
    alias: {
      // The worker's poster geometry (canvas size, default layout): one source for both sides.
      '$poster-layout': '../worker/poster/layout.ts',
      // What prize kinds, prize statuses and logged actions are called: the API's words.
      $labels: '../worker/campaign/labels.ts',
      // An activity's figures and a fan's progress, in the words every page and the CSV export use.
      $figures: '../worker/campaign/figures.ts',
    },
  },
};
