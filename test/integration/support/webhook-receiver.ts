/**
 * The integration stack's webhook receiver: every POST it gets is kept as it arrived (the raw body's
 * bytes, the signature header, when) and answered 204, as an app's receiver would. It lives as long
 * as the stack, in the global setup's process: the stack's webhook URL is fixed when it starts, and
 * every suite's events are delivered to it, so a receiver that came and went with one test file would
 * leave the other files' deliveries failing and retried in the background. Test files read what
 * arrived with `GET /deliveries` and verify the signatures themselves, with the key the stack exposes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeader } from '../../../definitions/notifications.js';

/** One POST as received; `body` is the raw bytes in base64, so a signature check sees them exactly. */
export interface WebhookDelivery {
  readonly receivedAt: number;
  readonly path: string;
  readonly contentType: string | null;
  readonly signature: string | null;
  readonly body: string;
}

export interface WebhookReceiver {
  /** Where the stack POSTs (`/hook`). */
  readonly url: string;
  /** `GET` here: `{"deliveries": [WebhookDelivery, ...]}`, oldest first. */
  readonly deliveriesUrl: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = [];
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/deliveries') {
      const text = JSON.stringify({ deliveries });
      response.writeHead(200, { 'content-type': 'application/json' }).end(text);
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST') {
        const header = request.headers[signatureHeader.toLowerCase()];
        deliveries.push({
          receivedAt: Date.now(),
          path: request.url ?? '/',
          contentType: request.headers['content-type'] ?? null,
          signature: typeof header === 'string' ? header : null,
          body: Buffer.concat(chunks).toString('base64'),
        });
        response.writeHead(204).end();
        return;
      }
      response.writeHead(405).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/hook`,
    deliveriesUrl: `${base}/deliveries`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
