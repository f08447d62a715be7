/**
 * The baseline: a send the way public WebSocket chat samples fan out. It stores the message (the same
 * conditional Put as ours, so that the write is not what differs), then Scans the whole connections
 * table, page after page, keeps the connections of the room's users (but the sender's own), and
 * posts to each with the same notifier. It skips what ours also does (the BatchGet that authorises
 * the sender, the room Update), which only flatters it.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicUlidFactory } from '../../lambdas/domain/message-id.js';
import type { Message } from '../../lambdas/domain/model.js';
import type { ChatStore, Notifier } from '../../lambdas/domain/ports.js';
import { participantCandidates } from '../../lambdas/domain/validation.js';
import type { BenchDb } from '../lib/local.js';

export interface ScanSendReport {
  readonly pages: number;
  readonly scannedItems: number;
  readonly posted: number;
}

export class ScanBaseline {
  private readonly nextUlid = monotonicUlidFactory();
  private sequence = 0;

  constructor(
    private readonly db: BenchDb,
    private readonly store: ChatStore,
    private readonly connectionsTable: string,
    private readonly notifier: Notifier,
  ) {}

  async send(
    sender: { readonly userId: string; readonly connectionId: string },
    roomId: string,
    content: string,
  ): Promise<ScanSendReport> {
    const now = new Date();
    const message: Message = {
      messageId: this.nextUlid(now.getTime()),
      roomId,
      senderId: sender.userId,
      content,
      sentAt: now.toISOString(),
      clientMessageId: `scan-${process.pid}-${this.sequence++}`,
    };
    await this.store.putMessage(message, {}, message.messageId);

    const participants = new Set(participantCandidates(roomId));
    const targets: string[] = [];
    let pages = 0;
    let scannedItems = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.doc.send(
        new ScanCommand({
          TableName: this.connectionsTable,
          // Only what the filter needs: less to transfer than the samples' whole items.
          ProjectionExpression: 'connectionId, userId',
          ExclusiveStartKey: startKey,
        }),
      );
      pages++;
      for (const item of page.Items ?? []) {
        scannedItems++;
        const connectionId = String(item.connectionId);
        if (participants.has(String(item.userId)) && connectionId !== sender.connectionId) {
          targets.push(connectionId);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && pages < 10_000);

    const payload = JSON.stringify({ type: 'chat_message', message });
    await Promise.all(targets.map((connectionId) => this.notifier.post(connectionId, payload)));
    return { pages, scannedItems, posted: targets.length };
  }
}
