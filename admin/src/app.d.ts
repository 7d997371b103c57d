// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface Error {
      message: string;
    }
    interface Platform {
      env?: {
        /** Service binding to the API worker, when the admin runs on Cloudflare. */
        API?: { fetch(request: Request): Promise<Response> };
      };
    }
  }
}

export {};
