/** A minimal Chrome DevTools Protocol client over Node 22's global WebSocket. */
export class Cdp {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private listeners = new Map<string, ((params: any) => void)[]>();
  /** Execution contexts announced so far (wrangler's proxy announces the worker's on connect). */
  readonly contexts: { id: number; name: string }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else if (msg.method) {
        if (msg.method === 'Runtime.executionContextCreated') this.contexts.push(msg.params.context);
        for (const l of this.listeners.get(msg.method) ?? []) l(msg.params);
      }
    });
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
  }

  /** Connects to the first target the inspector lists (wrangler dev lists the worker). */
  static async connect(inspectorPort: number): Promise<Cdp> {
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
    if (!targets.length) throw new Error('the inspector lists no target');
    // wrangler's inspector proxy refuses connections without an allowed Origin (undici extension: headers).
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: 'http://localhost' } } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('cannot open the inspector WebSocket')), { once: true });
    });
    return new Cdp(ws);
  }

  /** The worker's execution context; enables Runtime (again) and waits for its announcement. */
  async workerContext(timeoutMs = 10_000): Promise<{ id: number; name: string }> {
    const find = () => this.contexts.find((c) => c.name === 'Worker') ?? this.contexts[0];
    if (!find()) await this.send('Runtime.enable');
    const deadline = Date.now() + timeoutMs;
    while (!find() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const context = find();
    if (!context) throw new Error('the inspector announced no execution context for the worker');
    return context;
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  on(method: string, listener: (params: any) => void): () => void {
    const list = this.listeners.get(method) ?? [];
    list.push(listener);
    this.listeners.set(method, list);
    return () =>
      this.listeners.set(
        method,
        (this.listeners.get(method) ?? []).filter((l) => l !== listener),
      );
  }

  close(): void {
    this.ws.close();
  }
}
