/**
 * Closed-loop load generator on loopback: `concurrency` keep-alive connections, each sending its
 * next request as soon as the previous answer arrived, for a fixed time. node:http only, so the
 * bench needs no extra dependency.
 */
import { Agent, request } from 'node:http';

export interface LoadItem {
  path: string;
  body: string;
}

export interface LoadResult {
  /** Requests answered (any status) plus transport failures. */
  sent: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  /** Per request, ms from send to the last byte of the answer, in completion order. */
  latencies: number[];
  /** Every completed item: index, HTTP status (0: transport error), whether it counted as ok, body. */
  answers: { index: number; status: number; ok: boolean; body: string }[];
  elapsedMs: number;
  perSecond: number;
  /** True when `next` ran out of items before the time was up. */
  exhausted: boolean;
}

export interface LoadOptions {
  port: number;
  concurrency: number;
  durationMs: number;
  /** The i-th request to send, or null when there is nothing left. */
  next(i: number): LoadItem | null;
  /** Whether an answer counts as a success. */
  isOk(status: number, body: string): boolean;
  keepBodies?: boolean;
}

function send(agent: Agent, port: number, item: LoadItem): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: item.path,
        headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(item.body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => reject(Object.assign(e, { reused: req.reusedSocket })));
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.end(item.body);
  });
}

export async function closedLoop(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const r: LoadResult = { sent: 0, ok: 0, errors: 0, errorSamples: [], latencies: [], answers: [], elapsedMs: 0, perSecond: 0, exhausted: false };
  let nextIndex = 0;
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const index = nextIndex++;
      const item = o.next(index);
      if (!item) {
        r.exhausted = true;
        return;
      }
      const start = performance.now();
      try {
        const { status, body } = await send(agent, o.port, item);
        const elapsed = performance.now() - start;
        r.latencies.push(elapsed);
        const ok = o.isOk(status, body);
        if (ok) r.ok++;
        else {
          r.errors++;
          if (r.errorSamples.length < 5) r.errorSamples.push(`HTTP ${status} after ${Math.round(elapsed)} ms: ${body.slice(0, 160)}`);
        }
        if (o.keepBodies) r.answers.push({ index, status, ok, body });
      } catch (e) {
        r.latencies.push(performance.now() - start);
        r.errors++;
        if (r.errorSamples.length < 5)
          r.errorSamples.push(
            `${String(e)} after ${Math.round(performance.now() - start)} ms${(e as { reused?: boolean }).reused ? ' on a reused keep-alive socket' : ''}`,
          );
        if (o.keepBodies) r.answers.push({ index, status: 0, ok: false, body: String(e) });
      }
      r.sent++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  r.elapsedMs = performance.now() - t0;
  r.perSecond = (r.sent / r.elapsedMs) * 1000;
  agent.destroy();
  return r;
}
