/**
 * A chat on the in-memory fakes (test/fakes) whose parts a fault test can swap: the notifier (a
 * connection that answers 410 until its handshake completes), the store (a step of the send that
 * fails before or after doing its work) and the fan-out's sleep (to see the backoff).
 */
import { ChatService, type ChatServiceDeps } from '../../../lambdas/domain/chat-service.js';
import type { MessageOut, RoomId, ServerFrame, UserId } from '../../../lambdas/domain/model.js';
import type { ChatStore, Notifier, PostResult } from '../../../lambdas/domain/ports.js';
import { unreadCountOf } from '../../../lambdas/domain/room-commit.js';
import { FixedClock, sequentialUlids } from '../../fakes/clock.js';
import { makeFiles } from '../../fakes/files.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { MemoryChatStore } from '../../fakes/memory-store.js';
import { RecordingNotifier } from '../../fakes/notifier.js';

export interface FaultWorldOptions {
  /** Wraps the in-memory store the service uses (the test keeps the unwrapped one to inspect). */
  readonly wrapStore?: (store: MemoryChatStore) => ChatStore;
  /** Wraps the recording notifier. */
  readonly wrapNotifier?: (notifier: RecordingNotifier) => Notifier;
  /** Fan-out settings; by default no backoff and no waiting. */
  readonly fanOut?: ChatServiceDeps['fanOut'];
}

export function makeFaultWorld(options: FaultWorldOptions = {}) {
  const clock = new FixedClock();
  const store = new MemoryChatStore(clock);
  const notifier = new RecordingNotifier();
  const logger = new RecordingLogger();
  const service = new ChatService({
    store: options.wrapStore?.(store) ?? store,
    notifier: options.wrapNotifier?.(notifier) ?? notifier,
    clock,
    newMessageId: sequentialUlids(),
    logger,
    files: makeFiles(),
    // Given settings replace the no-wait defaults whole, so a test can keep the service's own backoff.
    fanOut: options.fanOut ?? { backoffMs: () => 0, sleep: () => Promise.resolve() },
  });
  return {
    clock,
    store,
    notifier,
    logger,
    service,
    async room(a: UserId, b: UserId): Promise<RoomId> {
      for (const id of [a, b]) if ((await store.getUser(id)) === undefined) store.seedUser(id);
      return (await service.rooms.startChat(a, b)).room.roomId;
    },
    connect(userId: UserId, connectionId: string): Promise<void> {
      return service.presence.connect({ userId, connectionId }, undefined);
    },
    async send(
      userId: UserId,
      connectionId: string,
      roomId: RoomId,
      content: string,
      clientMessageId: string,
    ) {
      const message = await service.messaging.sendMessage(
        { userId, connectionId },
        { roomId, content, clientMessageId },
      );
      clock.advance(1000);
      return message;
    },
    /** The chat_message frames a connection got for `message`. */
    deliveriesOf(connectionId: string, message: MessageOut): ServerFrame[] {
      return notifier
        .framesFor(connectionId)
        .filter((frame) => frame.type === 'chat_message' && frame.message.messageId === message.messageId);
    },
    async unreadOf(roomId: RoomId, userId: UserId): Promise<number | undefined> {
      const room = await store.getRoom(roomId);
      return room && unreadCountOf(room, userId);
    },
    async liveConnectionsOf(userId: UserId): Promise<string[]> {
      return ((await store.getUser(userId))?.connections ?? []).map((c) => c.connectionId).sort();
    },
  };
}

/**
 * API Gateway's answer for a connection whose `$connect` has not returned yet: the handshake is not
 * complete, so a post to it is 410 GoneException, although `$connect` may already have recorded it.
 */
export class HandshakeNotifier implements Notifier {
  private readonly connecting = new Set<string>();

  constructor(private readonly inner: Notifier) {}

  /** The connection's `$connect` is running: posts to it answer 410. */
  startHandshake(connectionId: string): void {
    this.connecting.add(connectionId);
  }

  /** `$connect` returned and the handshake completed: posts are delivered. */
  completeHandshake(connectionId: string): void {
    this.connecting.delete(connectionId);
  }

  post(connectionId: string, payload: string): Promise<PostResult> {
    return this.connecting.has(connectionId)
      ? Promise.resolve('gone')
      : this.inner.post(connectionId, payload);
  }
}

/** The steps of a send that write: the room commit, then the message put. */
export type SendStep = 'commitMessage' | 'putMessage';

/**
 * `store` with one method wrapped; every other method is the store's own. Works for the in-memory
 * fake and the real DynamoDB stores alike.
 */
function withWrappedStep<S extends ChatStore, K extends SendStep>(
  store: S,
  step: K,
  wrap: (original: ChatStore[K], ...args: Parameters<ChatStore[K]>) => ReturnType<ChatStore[K]>,
): S {
  const original = ((...args: Parameters<ChatStore[K]>) =>
    (store[step] as (...a: Parameters<ChatStore[K]>) => ReturnType<ChatStore[K]>)(...args)) as ChatStore[K];
  return new Proxy(store, {
    get(target, property) {
      if (property === step) return (...args: Parameters<ChatStore[K]>) => wrap(original, ...args);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The next `step` fails before doing anything: the Lambda died just before it. */
export const failBeforeOnce =
  (step: SendStep) =>
  <S extends ChatStore>(store: S): S => {
    let armed = true;
    return withWrappedStep(store, step, (original, ...args) => {
      if (!armed) return (original as (...a: typeof args) => ReturnType<typeof original>)(...args);
      armed = false;
      return Promise.reject(new Error(`crashed before ${step}`)) as ReturnType<typeof original>;
    });
  };

/** The next `step` does its work and then fails: its answer (or the Lambda) was lost. */
export const failAfterOnce =
  (step: SendStep) =>
  <S extends ChatStore>(store: S): S => {
    let armed = true;
    return withWrappedStep(store, step, (original, ...args) => {
      const outcome = (original as (...a: typeof args) => ReturnType<typeof original>)(...args);
      if (!armed) return outcome;
      armed = false;
      return outcome.then(() => {
        throw new Error(`crashed after ${step}`);
      }) as ReturnType<typeof original>;
    });
  };
