/**
 * The fake's Events API over HTTP: what Slack POSTs to an app's Request URL. Every request is signed
 * (`X-Slack-Signature: v0=HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body)`, `X-Slack-Request-Timestamp`);
 * an event not answered with a 2xx within 3 s is sent again with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`
 * (Slack retries three times: at once, after a minute, after five). Slash commands and interactions are
 * form-encoded (`payload=` JSON for interactions) and never retried.
 */
import { createHmac } from 'node:crypto';

/** One POST the fake made, and how the app answered. */
export interface HttpDelivery {
  kind: 'event' | 'command' | 'interactive' | 'url_verification';
  body: string;
  retryNum: number;
  status?: number;
  /** The app's response body (a slash command's reply, the url_verification challenge). */
  response?: string;
  error?: string;
  at: number;
}

/** Timing of the HTTP deliveries. */
export interface EventsHttpOptions {
  /** How long the app has to answer (Slack: 3 s). */
  timeoutMs?: number;
  /** Delays before the retries of an unanswered event. */
  retryDelaysMs?: number[];
}

/** Signs a request body as Slack does. */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Delivers to a Request URL. */
export class FakeEventsHttp {
  readonly deliveries: HttpDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: number[];
  private closed = false;

  constructor(
    private readonly signingSecret: string,
    readonly requestUrl: string,
    opts: EventsHttpOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.retryDelaysMs = opts.retryDelaysMs ?? [0, 60_000, 300_000];
  }

  /** Sends an Events API body; retried until a 2xx or the retries run out. */
  deliverEvent(callback: Record<string, unknown>): void {
    void this.attempt('event', JSON.stringify(callback), 'application/json', 0);
  }

  /** Sends a slash command (form-encoded); resolves with the app's answer. */
  deliverCommand(fields: Record<string, string>): Promise<HttpDelivery> {
    return this.attempt('command', new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', 0);
  }

  /** Sends an interaction payload (`payload=<json>`); resolves with the app's answer. */
  deliverInteraction(payload: Record<string, unknown>): Promise<HttpDelivery> {
    return this.attempt('interactive', new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', 0);
  }

  /** Slack's check when a Request URL is saved: the app must echo the challenge. */
  async verifyUrl(token: string): Promise<boolean> {
    const challenge = `challenge-${Date.now()}`;
    const d = await this.attempt('url_verification', JSON.stringify({ token, challenge, type: 'url_verification' }), 'application/json', 0);
    if (!d.response) return false;
    try {
      return (JSON.parse(d.response) as { challenge?: unknown }).challenge === challenge;
    } catch {
      return d.response === challenge;
    }
  }

  /** Sends any body with the headers Slack would add; `signature` overrides the correct one (tests of refusal). */
  async post(body: string, contentType: string, opts: { retryNum?: number; retryReason?: string; signature?: string; timestamp?: number } = {}): Promise<{ status: number; text: string }> {
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': opts.signature ?? slackSignature(this.signingSecret, ts, body),
    };
    if (opts.retryNum) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    const res = await fetch(this.requestUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    return { status: res.status, text: await res.text() };
  }

  private async attempt(kind: HttpDelivery['kind'], body: string, type: string, retryNum: number, reason?: string): Promise<HttpDelivery> {
    const d: HttpDelivery = { kind, body, retryNum, at: Date.now() };
    this.deliveries.push(d);
    let retryReason: string | undefined;
    try {
      const res = await this.post(body, type, { retryNum, ...(reason ? { retryReason: reason } : {}) });
      d.status = res.status;
      d.response = res.text;
      if (res.status < 200 || res.status >= 300) retryReason = 'http_error';
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      d.error = timeout ? 'http_timeout' : 'connection_failed';
      retryReason = d.error;
    }
    const delay = this.retryDelaysMs[retryNum];
    if (kind === 'event' && retryReason && delay !== undefined && !this.closed) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.attempt(kind, body, type, retryNum + 1, retryReason);
      }, delay);
      this.timers.add(t);
    }
    return d;
  }

  /** Stops pending retries. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
