/**
 * The floor of a send: the three DynamoDB requests a send cannot avoid (the BatchGet of the room,
 * both participants and the clientMessageId's message, the room's conditional commit, the
 * conditional Put of the message), one after the other, made
 * through the product's own DynamoDB stores methods so that the requests are byte for byte the ones
 * sendMessage makes. No Lambda emulation, no WebSocket, no posts: what is left of a send's latency
 * once everything that is ours is taken away.
 */

import { monotonicUlidFactory } from '../../lambdas/domain/message-id.js';
import type { Message } from '../../lambdas/domain/model.js';
import type { ChatStore } from '../../lambdas/domain/ports.js';
import { countsAfter, planCommit } from '../../lambdas/domain/room-commit.js';
import { participantCandidates } from '../../lambdas/domain/validation.js';

export interface FloorRoom {
  readonly roomId: string;
  readonly sender: string;
  readonly recipient: string;
}

export class FloorProbe {
  private readonly nextUlid = monotonicUlidFactory();
  private sequence = 0;

  constructor(
    private readonly store: ChatStore,
    private readonly room: FloorRoom,
    private readonly content: string,
  ) {}

  /** One floor sample, ms. */
  async once(): Promise<number> {
    const { roomId, sender } = this.room;
    const started = performance.now();
    const clientMessageId = `floor-${process.pid}-${this.sequence++}`;
    const { room } = await this.store.loadSend(
      roomId,
      participantCandidates(roomId),
      sender,
      clientMessageId,
    );
    if (room === undefined) throw new Error(`floor room ${roomId} does not exist`);
    const now = new Date();
    const message: Message = {
      messageId: this.nextUlid(now.getTime()),
      roomId,
      senderId: sender,
      content: this.content,
      sentAt: now.toISOString(),
      clientMessageId,
    };
    const committed = await this.store.commitMessage(room, message, planCommit(room, message, now));
    if (committed.status !== 'committed') throw new Error(`floor room ${roomId} had a racing send`);
    const stored = await this.store.putMessage(
      message,
      countsAfter(committed.before, message),
      clientMessageId,
    );
    if (stored.status !== 'stored') throw new Error('floor message was a duplicate');
    return performance.now() - started;
  }

  /** `count` samples back to back (bounded by `untilMs`, a performance.now() time). */
  async run(count: number, untilMs: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < count && performance.now() < untilMs; i++) samples.push(await this.once());
    return samples;
  }

  /**
   * One sample every `periodMs` (or back to back when a sample takes longer) until `stop()` is called,
   * `untilMs` passes or `max` samples are in hand. Paced, so that the probe observes the load
   * without adding much of its own.
   */
  runUntilStopped(periodMs: number, untilMs: number, max = 100_000): { stop: () => Promise<number[]> } {
    let stopped = false;
    const samples: number[] = [];
    const loop = (async () => {
      while (!stopped && performance.now() < untilMs && samples.length < max) {
        const started = performance.now();
        samples.push(await this.once());
        const rest = periodMs - (performance.now() - started);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
      return samples;
    })();
    return {
      stop: async () => {
        stopped = true;
        return loop;
      },
    };
  }
}
