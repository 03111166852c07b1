/** Request bodies as the Bot API accepts them: query string, JSON, urlencoded and multipart/form-data. */
import type { IncomingMessage } from 'node:http';

/** One uploaded file from a multipart body. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A request's parameters, merged from the query string and the body; values are as sent (strings from forms). */
export type Params = Record<string, unknown>;

/** Raised when a body cannot be read; the server turns it into a 400 envelope. */
export class BodyError extends Error {
  override name = 'BodyError';
}

/** Reads the whole body, refusing more than `limit` bytes (the real API caps uploads too). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError('Request Entity Too Large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses query string plus body by content type into one parameter object. */
export function parseParams(url: URL, contentType: string | undefined, body: Buffer): Params {
  const params: Params = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  if (body.length === 0) return params;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BodyError("Bad Request: can't parse JSON object");
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyError("Bad Request: can't parse JSON object");
    Object.assign(params, parsed);
  } else if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v;
  } else if (type === 'multipart/form-data') {
    const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
    const boundary = m?.[1] ?? m?.[2];
    if (!boundary) throw new BodyError('Bad Request: multipart boundary is missing');
    Object.assign(params, parseMultipart(body, boundary.trim()));
  } else {
    throw new BodyError(`Bad Request: unsupported content type ${type || '(none)'}`);
  }
  return params;
}

/** A small multipart/form-data reader: fields become strings, file parts become UploadedFile. */
export function parseMultipart(body: Buffer, boundary: string): Params {
  const out: Params = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new BodyError('Bad Request: malformed multipart body');
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new BodyError('Bad Request: malformed multipart body');
    // Each part ends with CRLF before the next delimiter.
    const part = body.subarray(start, next - 2 >= start ? next - 2 : next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw new BodyError('Bad Request: malformed multipart part');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      if (filename !== undefined) {
        const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
        out[name] = { filename, contentType: ct, data: Buffer.from(content) } satisfies UploadedFile;
      } else {
        out[name] = content.toString('utf8');
      }
    }
    pos = next;
  }
  return out;
}

/** Reads a parameter as an integer: numbers as sent in JSON, numeric strings from forms. */
export function intParam(p: Params, key: string): number | undefined {
  const v = p[key];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** Reads a parameter as a string (numbers are stringified, as Telegram does for chat ids). */
export function strParam(p: Params, key: string): string | undefined {
  const v = p[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Reads a parameter as a boolean: JSON true or the form spellings. */
export function boolParam(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : undefined;
  return undefined;
}

/** Reads a JSON-serialized parameter: objects as sent in JSON bodies, JSON strings from forms. */
export function jsonParam(p: Params, key: string): unknown {
  const v = p[key];
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new BodyError(`Bad Request: can't parse ${key} JSON object`);
  }
}
