/**
 * A ChatService wired to the in-memory fakes, plus the few steps most tests start from (users,
 * rooms, connections). Fan-out retries do not sleep, so throttling costs no wall time.
 */
import { ChatService, type ChatServiceDeps } from '../../lambdas/domain/chat-service.js';
import type { MessageOut, RoomId, UserId } from '../../lambdas/domain/model.js';
import { FixedClock, sequentialUlids } from './clock.js';
import { type FakeFiles, makeFiles } from './files.js';
import { RecordingLogger } from './logger.js';
import { MemoryChatStore } from './memory-store.js';
import { RecordingNotifier } from './notifier.js';

export interface ChatWorld {
  readonly clock: FixedClock;
  readonly store: MemoryChatStore;
  readonly notifier: RecordingNotifier;
  readonly logger: RecordingLogger;
  readonly files: FakeFiles;
  readonly service: ChatService;
  /** Seeds profiles for the given users. */
  users(...userIds: UserId[]): void;
  /** Starts the room of `a` and `b` (seeding both profiles if needed) and answers its id. */
  room(a: UserId, b: UserId): Promise<RoomId>;
  /** Opens a WebSocket connection for the user, optionally scoped to a room. */
  connect(userId: UserId, connectionId: string, scopeRoomId?: RoomId): Promise<void>;
  /** Sends a message (through `connectionId` when given) and moves the clock on by one second. */
  send(
    userId: UserId,
    roomId: RoomId,
    content: string,
    options?: { connectionId?: string; clientMessageId?: string; attachments?: readonly string[] },
  ): Promise<MessageOut>;
}

export function makeWorld(fanOut: ChatServiceDeps['fanOut'] = {}): ChatWorld {
  const clock = new FixedClock();
  const store = new MemoryChatStore(clock);
  const notifier = new RecordingNotifier();
  const logger = new RecordingLogger();
  const files = makeFiles();
  const service = new ChatService({
    store,
    notifier,
    clock,
    files,
    newMessageId: sequentialUlids(),
    logger,
    fanOut: { backoffMs: () => 0, sleep: () => Promise.resolve(), ...fanOut },
  });
  const seeded = new Set<UserId>();
  const users = (...userIds: UserId[]) => {
    for (const id of userIds) {
      if (seeded.has(id)) continue;
      store.seedUser(id, `${id[0]?.toUpperCase() ?? ''}${id.slice(1)}`);
      seeded.add(id);
    }
  };
  return {
    clock,
    store,
    notifier,
    logger,
    files,
    service,
    users,
    async room(a, b) {
      users(a, b);
      const { room } = await service.rooms.startChat(a, b);
      return room.roomId;
    },
    async connect(userId, connectionId, scopeRoomId) {
      await service.presence.connect(
        { userId, connectionId, ...(scopeRoomId === undefined ? {} : { scopeRoomId }) },
        undefined,
      );
    },
    async send(userId, roomId, content, options = {}) {
      const message = await service.messaging.sendMessage(
        { userId, ...(options.connectionId === undefined ? {} : { connectionId: options.connectionId }) },
        {
          roomId,
          content,
          ...(options.clientMessageId === undefined ? {} : { clientMessageId: options.clientMessageId }),
          ...(options.attachments === undefined ? {} : { attachments: options.attachments }),
        },
      );
      clock.advance(1000);
      return message;
    },
  };
}
