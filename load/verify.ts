/**
 * The end-of-run check: what the rooms' histories hold against what every client sent, was acked
 * and received. Pure, so the unit tests can feed it broken runs and see each figure move.
 */
import type { ClientRecord } from './client.js';
import type { ChatMessage } from './wire.js';

export interface RoomHistory {
  readonly roomId: string;
  /** As the pages gave them (oldest first is checked, not assumed). */
  readonly messages: readonly ChatMessage[];
}

export interface Figures {
  /** Distinct clientMessageIds sent. */
  readonly sent: number;
  /** Distinct clientMessageIds with at least one ack. */
  readonly acked: number;
  /** Sent and never acked (the client gave up): not a loss by the contract, but not a healthy run. */
  readonly unacked: number;
  /** Messages in the rooms' histories. */
  readonly stored: number;
  readonly lost: number;
  readonly lostDetail: {
    /** Acked, but the history has no message for that clientMessageId with the acked messageId. */
    readonly ackedNotStored: number;
    /** Stored, but its recipient never held it (live, or by catch-up after a reconnect). */
    readonly notReceived: number;
    /** Of those: the recipient was connected from before the send until its ack, and no chat_message came. */
    readonly notReceivedWhileConnected: number;
    /** Of those: the recipient reconnected, and its catch-ups started from a newer messageId. */
    readonly notReceivedBehindCursor: number;
    /** Delivered to the recipient (chat_message or catch-up) but not in the history. */
    readonly deliveredNotStored: number;
  };
  readonly duplicated: number;
  readonly duplicatedDetail: {
    /** Extra stored copies for one sender's clientMessageId. */
    readonly sameClientMessageId: number;
    /** Extra occurrences of one messageId in a room's history. */
    readonly sameMessageId: number;
    /** Extra, different messageIds answered in acks of one clientMessageId. */
    readonly ackedTwice: number;
  };
  readonly outOfOrder: number;
  readonly outOfOrderDetail: {
    /** History pages not strictly ascending by messageId, or sentAt going back along it. */
    readonly history: number;
    /** Catch-up pages not oldest first, or holding messages at or before the cursor. */
    readonly catchUp: number;
    /** A client's later message (sent after the previous one's ack) with a smaller messageId. */
    readonly sendingOrder: number;
  };
  /** Frames of a room the client is not in: a leak, counted apart. */
  readonly foreignFrames: number;
  /** Catch-ups that failed for good. */
  readonly failedCatchUps: number;
  /** A few concrete cases, to start an investigation from. */
  readonly examples: readonly string[];
}

const MAX_EXAMPLES = 12;

export function verify(histories: readonly RoomHistory[], clients: readonly ClientRecord[]): Figures {
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };
  const historyOf = new Map(histories.map((history) => [history.roomId, history.messages]));

  // Order and duplicates in what is stored.
  let historyOrder = 0;
  let sameClientMessageId = 0;
  let sameMessageId = 0;
  let stored = 0;
  for (const { roomId, messages } of histories) {
    stored += messages.length;
    const byMessageId = new Set<string>();
    const byClientId = new Set<string>();
    messages.forEach((message, index) => {
      const previous = messages[index - 1];
      if (
        previous !== undefined &&
        (message.messageId <= previous.messageId || message.sentAt < previous.sentAt)
      ) {
        historyOrder++;
        note(`${roomId}: history has ${message.messageId} after ${previous.messageId}`);
      }
      if (byMessageId.has(message.messageId)) {
        sameMessageId++;
        note(`${roomId}: messageId ${message.messageId} stored twice`);
      }
      byMessageId.add(message.messageId);
      if (message.clientMessageId !== undefined) {
        const key = `${message.senderId}\n${message.clientMessageId}`;
        if (byClientId.has(key)) {
          sameClientMessageId++;
          note(`${roomId}: clientMessageId ${message.clientMessageId} of ${message.senderId} stored twice`);
        }
        byClientId.add(key);
      }
    });
  }

  let sent = 0;
  let acked = 0;
  let ackedNotStored = 0;
  let ackedTwice = 0;
  let sendingOrder = 0;
  let catchUpOrder = 0;
  let notReceived = 0;
  let notReceivedWhileConnected = 0;
  let notReceivedBehindCursor = 0;
  let deliveredNotStored = 0;
  let foreignFrames = 0;
  let failedCatchUps = 0;
  const clientOf = new Map(clients.map((client) => [`${client.roomId}\n${client.userId}`, client]));

  for (const client of clients) {
    const history = historyOf.get(client.roomId) ?? [];
    const storedIds = new Set(history.map((message) => message.messageId));
    const mine = new Map(
      history
        .filter((message) => message.senderId === client.userId && message.clientMessageId !== undefined)
        .map((message) => [message.clientMessageId, message]),
    );
    const distinct = new Set(client.sentOrder);
    sent += distinct.size;
    let previousAcked: string | undefined;
    for (const clientMessageId of distinct) {
      const ids = client.acks.get(clientMessageId);
      if (ids === undefined || ids.size === 0) continue;
      acked++;
      if (ids.size > 1) {
        ackedTwice += ids.size - 1;
        note(`${client.userId}: ${clientMessageId} acked as ${[...ids].join(' and ')}`);
      }
      const storedCopy = mine.get(clientMessageId);
      if (storedCopy === undefined || !ids.has(storedCopy.messageId)) {
        ackedNotStored++;
        note(
          `${client.userId}: ${clientMessageId} acked as ${[...ids].join(',')}, stored ${storedCopy?.messageId ?? 'nowhere'}`,
        );
      }
      const first = [...ids][0];
      if (first !== undefined && previousAcked !== undefined && first < previousAcked) {
        sendingOrder++;
        note(
          `${client.userId}: ${clientMessageId} got ${first}, older than the message sent before it (${previousAcked})`,
        );
      }
      if (first !== undefined) previousAcked = first;
    }
    catchUpOrder += client.orderViolations.length;
    for (const violation of client.orderViolations) note(`${client.userId}: ${violation}`);
    failedCatchUps += client.failures.length;
    for (const failure of client.failures) note(`${client.userId}: ${failure}`);
    foreignFrames += client.foreignFrames;

    for (const [messageId, message] of client.held) {
      if (message.senderId !== client.userId && !storedIds.has(messageId)) {
        deliveredNotStored++;
        note(`${client.userId}: received ${messageId} from ${message.senderId}, which is not stored`);
      }
    }
  }

  const clientsIn = new Map<string, ClientRecord[]>();
  for (const client of clients)
    clientsIn.set(client.roomId, [...(clientsIn.get(client.roomId) ?? []), client]);
  for (const { roomId, messages } of histories) {
    const inRoom = clientsIn.get(roomId) ?? [];
    for (const message of messages) {
      for (const recipient of inRoom.filter((client) => client.userId !== message.senderId)) {
        if (recipient.held.has(message.messageId)) continue;
        notReceived++;
        const sender = inRoom.find((client) => client.userId === message.senderId);
        const ackedAt =
          message.clientMessageId === undefined ? undefined : sender?.lastAckAt.get(message.clientMessageId);
        const why = whyMissed(recipient, message, ackedAt);
        if (why.connected) notReceivedWhileConnected++;
        else if (why.behindCursor) notReceivedBehindCursor++;
        note(
          `${recipient.userId}: never received ${message.messageId} (${message.clientMessageId ?? 'no clientMessageId'}) ` +
            `of ${roomId}${why.text}`,
        );
      }
      if (!clientOf.has(`${roomId}\n${message.senderId}`)) {
        note(`${roomId}: ${message.messageId} was sent by ${message.senderId}, not a client of this run`);
      }
    }
  }

  const lost = ackedNotStored + notReceived + deliveredNotStored;
  const duplicated = sameClientMessageId + sameMessageId + ackedTwice;
  const outOfOrder = historyOrder + catchUpOrder + sendingOrder;
  return {
    sent,
    acked,
    unacked: sent - acked,
    stored,
    lost,
    lostDetail: {
      ackedNotStored,
      notReceived,
      notReceivedWhileConnected,
      notReceivedBehindCursor,
      deliveredNotStored,
    },
    duplicated,
    duplicatedDetail: { sameClientMessageId, sameMessageId, ackedTwice },
    outOfOrder,
    outOfOrderDetail: { history: historyOrder, catchUp: catchUpOrder, sendingOrder },
    foreignFrames,
    failedCatchUps,
    examples,
  };
}

/** What the recipient's connections and catch-ups say about a message it never got. */
function whyMissed(
  recipient: ClientRecord,
  message: ChatMessage,
  ackedAt: number | undefined,
): { connected: boolean; behindCursor: boolean; text: string } {
  const sentAt = Date.parse(message.sentAt);
  // The send read the connections before sentAt and had posted to them before its (last) ack.
  const connected =
    ackedAt !== undefined &&
    recipient.connectionLog.some(
      (c) => c.openedAt <= sentAt && (c.closedAt === undefined || c.closedAt >= ackedAt),
    );
  const reason = connected
    ? ': its recipient was connected from before the send until its ack, and no chat_message came'
    : ': its recipient was not connected from the send until its ack';
  const later = recipient.catchUpLog.filter((entry) => entry.endedAt >= sentAt);
  const behindCursor = later.length > 0 && later.every((entry) => entry.after >= message.messageId);
  const text =
    later.length === 0
      ? `${reason}; no catch-up after it`
      : behindCursor
        ? `${reason}; every catch-up after it started from a newer cursor (${later[0]?.after})`
        : `${reason}; a catch-up from ${later.find((e) => e.after < message.messageId)?.after} did not return it`;
  return { connected, behindCursor, text };
}

/** Whether a run passed: nothing lost, duplicated, out of order, leaked or left unacked. */
export function passed(figures: Figures): boolean {
  return (
    figures.lost === 0 &&
    figures.duplicated === 0 &&
    figures.outOfOrder === 0 &&
    figures.unacked === 0 &&
    figures.foreignFrames === 0 &&
    figures.failedCatchUps === 0
  );
}
