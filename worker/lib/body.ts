import { concat } from './bytes';

/**
 * A request body of at most `max` bytes, or null when it is longer. A declared oversize is refused
 * unread; a chunked body is read to its end with the bytes past the cap discarded, so no more than
 * `max` bytes are ever held. It is never cancelled halfway: that left wrangler dev's proxy with a
 * broken pipe, after which its next request failed and the process exited.
 */
export async function readBodyAtMost(req: Request, max: number): Promise<Uint8Array | null> {
  if (Number(req.headers.get('content-length') ?? '0') > max) return null;
  if (!req.body) return new Uint8Array(0);
  // A declared length frames the body (the runtime never reads past it): read it in one go.
  if (req.headers.has('content-length')) return new Uint8Array(await req.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size <= max) chunks.push(chunk);
  }
  return size > max ? null : concat(...chunks);
}

/**
 * A response body (one the worker fetched, e.g. a fan's avatar) read whole, or null as soon as it
 * passes `max` bytes: the rest is never read, the stream is cancelled there.
 */
export async function readStreamAtMost(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return concat(...chunks);
}
