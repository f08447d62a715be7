import { beforeEach, describe, expect, it, vi } from 'vitest';

// The handler modules build their production service when imported: give them an environment first.
await vi.hoisted(async () => {
  const { HANDLER_ENV } = await import('../../fakes/env.js');
  Object.assign(process.env, HANDLER_ENV);
});

import { makeHandler as makeConnect } from '../../../lambdas/ws/connect.js';
import { handler as defaultRoute } from '../../../lambdas/ws/default.js';
import { makeHandler as makeDisconnect } from '../../../lambdas/ws/disconnect.js';
import { makeHandler as makeMarkRead } from '../../../lambdas/ws/mark-read.js';
import { handler as ping } from '../../../lambdas/ws/ping.js';
import { makeHandler as makeSendMessage } from '../../../lambdas/ws/send-message.js';
import { makeHandler as makeTyping } from '../../../lambdas/ws/typing.js';
import { type ChatWorld, makeWorld } from '../../fakes/chat-world.js';
import { ulidAt } from '../../fakes/clock.js';
import { frameOf, type WebSocketEventInit, wsEvent } from '../../fakes/events.js';
import { sampleFiles } from '../../fakes/files.js';

let world: ChatWorld;
beforeEach(() => {
  world = makeWorld();
});

/** A MESSAGE event carrying `body`; a null user means the event has no authorizer context. */
const frame = (routeKey: string, userId: string | null, connectionId: string, body: unknown) =>
  wsEvent({
    routeKey,
    connectionId,
    ...(userId === null ? {} : { userId }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('sendMessage', () => {
  const send = (body: unknown, userId: string | null = 'ann', connectionId = 'a1') =>
    makeSendMessage(world.service.messaging, world.logger)(frame('sendMessage', userId, connectionId, body));

  it('answers the sending connection with an ack of the stored message', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await send({
      action: 'sendMessage',
      roomId,
      content: '  hello  ',
      clientMessageId: 'c-1',
    });

    expect(result.statusCode).toBe(200);
    const [stored] = world.store.storedMessages(roomId);
    expect(stored).toMatchObject({ content: 'hello', senderId: 'ann', clientMessageId: 'c-1' });
    expect(frameOf(result)).toEqual({ type: 'ack', clientMessageId: 'c-1', message: stored });
  });

  it('sends chat_message to the other connections, not to the sending one', async () => {
    const roomId = await world.room('ann', 'bob');
    await world.connect('ann', 'a1');
    await world.connect('ann', 'a2');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    await send({ action: 'sendMessage', roomId, content: 'hello', clientMessageId: 'c-1' });

    expect(world.notifier.deliveredTo()).toEqual(['a2', 'b1']);
    expect(world.notifier.framesFor('b1')).toEqual([
      {
        type: 'chat_message',
        message: expect.objectContaining({ content: 'hello', clientMessageId: 'c-1' }),
      },
    ]);
  });

  it('acks a message sent without clientMessageId', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await send({ action: 'sendMessage', roomId, content: 'hello' });

    expect(frameOf(result)).toEqual({ type: 'ack', message: expect.objectContaining({ content: 'hello' }) });
  });

  it('answers a duplicate clientMessageId with the same ack and stores nothing new', async () => {
    const roomId = await world.room('ann', 'bob');
    const body = { action: 'sendMessage', roomId, content: 'hello', clientMessageId: 'c-1' };
    const first = await send(body);
    world.clock.advance(3000);

    const retry = await send(body, 'ann', 'a-reconnected');

    expect(frameOf(retry)).toEqual(frameOf(first));
    expect(world.store.storedMessages(roomId)).toHaveLength(1);
  });

  it.each([
    ['empty content', ''],
    ['blank content', ' \n\t '],
    ['content over 4,000 characters', 'x'.repeat(4001)],
    ['content that is not a string', 42],
  ])(
    'answers an error frame for %s, echoing action and clientMessageId, and stores nothing',
    async (_label, content) => {
      const roomId = await world.room('ann', 'bob');

      const result = await send({ action: 'sendMessage', roomId, content, clientMessageId: 'c-9' });

      expect(result.statusCode).toBe(200);
      expect(frameOf(result)).toEqual({
        type: 'error',
        code: 'bad_request',
        message: expect.stringContaining('content'),
        action: 'sendMessage',
        clientMessageId: 'c-9',
      });
      expect(world.store.storedMessages(roomId)).toEqual([]);
    },
  );

  it('answers an error frame for a clientMessageId over 64 characters', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await send({
      action: 'sendMessage',
      roomId,
      content: 'hi',
      clientMessageId: 'c'.repeat(65),
    });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request', action: 'sendMessage' });
    expect(world.store.storedMessages(roomId)).toEqual([]);
  });

  it('acks a message with files and no text, its attachments carrying URLs', async () => {
    const roomId = await world.room('ann', 'bob');
    const uploadId = world.files.upload(roomId, 'ann', sampleFiles.pdf, 'application/pdf', 'brief.pdf');

    const result = await send({
      action: 'sendMessage',
      roomId,
      content: ' ',
      clientMessageId: 'c-1',
      attachments: [{ uploadId }],
    });

    expect(frameOf(result)).toMatchObject({
      type: 'ack',
      message: {
        content: '',
        attachments: [
          {
            attachmentId: uploadId,
            fileName: 'brief.pdf',
            url: expect.stringContaining('disposition=attachment'),
          },
        ],
      },
    });
  });

  it.each([
    ['no text and no files', { content: '  ' }],
    ['an attachments field that is not a list', { content: 'hi', attachments: 'x' }],
    ['an upload id no form gives', { content: 'hi', attachments: [{ uploadId: 'x' }] }],
    ['a refused upload', { content: 'hi', attachments: [{ uploadId: 'f'.repeat(32) }] }],
  ])('answers bad_request for %s, storing nothing', async (_label, fields) => {
    const roomId = await world.room('ann', 'bob');

    const result = await send({ action: 'sendMessage', roomId, clientMessageId: 'c-1', ...fields });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request', clientMessageId: 'c-1' });
    expect(world.store.storedMessages(roomId)).toEqual([]);
  });

  it('answers an error frame for a room id that is not a room name', async () => {
    const result = await send({ action: 'sendMessage', roomId: 'lobby', content: 'hi' });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request', action: 'sendMessage' });
  });

  it('answers forbidden to a sender who is not a participant', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await send(
      { action: 'sendMessage', roomId, content: 'hi', clientMessageId: 'c-1' },
      'cat',
      'c1',
    );

    expect(frameOf(result)).toEqual({
      type: 'error',
      code: 'forbidden',
      message: expect.any(String),
      action: 'sendMessage',
      clientMessageId: 'c-1',
    });
  });

  it('answers forbidden to a connection scoped to another room', async () => {
    const roomId = await world.room('ann', 'bob');
    const other = await world.room('ann', 'cat');
    const event = wsEvent({
      routeKey: 'sendMessage',
      connectionId: 'a1',
      userId: 'ann',
      roomId: other,
      body: JSON.stringify({ action: 'sendMessage', roomId, content: 'hi' }),
    });

    const result = await makeSendMessage(world.service.messaging, world.logger)(event);

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'forbidden' });
  });

  it('answers an error frame to a frame that is not JSON', async () => {
    const result = await send('this is not json');

    expect(result.statusCode).toBe(200);
    expect(frameOf(result)).toEqual({ type: 'error', code: 'bad_request', message: expect.any(String) });
  });

  it('answers an error frame to a JSON frame that is not an object', async () => {
    const result = await send('[1,2,3]');

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request' });
  });

  it('answers unauthorized to a connection without authorizer context', async () => {
    const result = await send({ action: 'sendMessage', roomId: 'chat_ann_bob', content: 'hi' }, null);

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'unauthorized', action: 'sendMessage' });
  });

  it('answers internal without detail when the store fails, and logs the detail', async () => {
    const roomId = await world.room('ann', 'bob');
    world.store.failNext('putMessage', new Error('secret detail'));

    const result = await send({ action: 'sendMessage', roomId, content: 'hi', clientMessageId: 'c-1' });

    expect(frameOf(result)).toEqual({
      type: 'error',
      code: 'internal',
      message: 'Internal server error',
      action: 'sendMessage',
      clientMessageId: 'c-1',
    });
    expect(result.body).not.toContain('secret');
    expect(world.logger.entries.map((e) => e.level)).toContain('error');
  });
});

describe('markRead', () => {
  const markRead = (body: unknown, userId = 'ann') =>
    makeMarkRead(world.service.messaging, world.logger)(frame('markRead', userId, 'a1', body));

  it('moves the pointer, answers no frame and sends read to the participants', async () => {
    const roomId = await world.room('ann', 'bob');
    const message = await world.send('bob', roomId, 'hi');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const result = await markRead({ action: 'markRead', roomId, messageId: message.messageId });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.notifier.framesFor('b1')).toEqual([
      { type: 'read', roomId, userId: 'ann', messageId: message.messageId, readAt: expect.any(String) },
    ]);
  });

  it('answers an error frame for a message id that is not a ULID', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await markRead({ action: 'markRead', roomId, messageId: 'latest' });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request', action: 'markRead' });
  });

  it('answers not_found for a message that is not in the room', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await markRead({
      action: 'markRead',
      roomId,
      messageId: ulidAt('2026-11-24T09:00:00.000Z', 1),
    });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'not_found', action: 'markRead' });
  });
});

describe('typing', () => {
  const typing = (body: unknown) =>
    makeTyping(world.service.messaging, world.logger)(frame('typing', 'ann', 'a1', body));

  it('relays typing to the other participant and answers no frame', async () => {
    const roomId = await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const result = await typing({ action: 'typing', roomId, isTyping: true });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.notifier.framesFor('b1')).toEqual([
      { type: 'typing', roomId, userId: 'ann', isTyping: true },
    ]);
  });

  it('answers an error frame when isTyping is not a boolean', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await typing({ action: 'typing', roomId, isTyping: 'yes' });

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request', action: 'typing' });
  });
});

describe('ping and $default', () => {
  it('answers ping with pong', async () => {
    const result = await ping(frame('ping', 'ann', 'a1', { action: 'ping' }));

    expect(frameOf(result)).toEqual({ type: 'pong' });
  });

  it('answers an unknown action with an error frame naming it', async () => {
    const result = await defaultRoute(
      frame('$default', 'ann', 'a1', { action: 'shout', clientMessageId: 'c-1' }),
    );

    expect(result.statusCode).toBe(200);
    expect(frameOf(result)).toEqual({
      type: 'error',
      code: 'bad_request',
      message: expect.stringContaining('shout'),
      action: 'shout',
      clientMessageId: 'c-1',
    });
  });

  it('answers a frame without action with an error frame', async () => {
    const result = await defaultRoute(frame('$default', 'ann', 'a1', { roomId: 'chat_ann_bob' }));

    expect(frameOf(result)).toEqual({
      type: 'error',
      code: 'bad_request',
      message: expect.stringContaining('no action'),
    });
  });

  it('answers a frame that is not JSON with an error frame', async () => {
    const result = await defaultRoute(frame('$default', 'ann', 'a1', 'hello?'));

    expect(frameOf(result)).toMatchObject({ type: 'error', code: 'bad_request' });
  });
});

describe('$connect', () => {
  const connect = (init: Omit<WebSocketEventInit, 'routeKey'>) =>
    makeConnect(world.service.presence, world.logger)(wsEvent({ routeKey: '$connect', ...init }));

  it('accepts the connection, records it and announces the user online', async () => {
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    world.notifier.clear();

    const result = await connect({ connectionId: 'a1', userId: 'ann' });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.store.connectionRecord('a1')).toMatchObject({ userId: 'ann' });
    expect(world.notifier.framesFor('b1')).toEqual([
      { type: 'presence', userId: 'ann', online: true, lastSeenAt: null },
    ]);
  });

  it('accepts a connection scoped to a room of the caller', async () => {
    const roomId = await world.room('ann', 'bob');

    const result = await connect({ connectionId: 'a1', userId: 'ann', roomId });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.store.connectionRecord('a1')).toMatchObject({ roomId });
  });

  it('refuses with 403 a connection scoped to a room of others, writing nothing', async () => {
    const roomId = await world.room('bob', 'cat');

    const result = await connect({ connectionId: 'a1', userId: 'ann', roomId });

    expect(result).toEqual({ statusCode: 403 });
    expect(world.store.connectionRecord('a1')).toBeUndefined();
  });

  it('refuses with 401 a connection without authorizer context', async () => {
    const result = await connect({ connectionId: 'a1' });

    expect(result).toEqual({ statusCode: 401 });
    expect(world.store.connectionRecord('a1')).toBeUndefined();
  });

  it("creates a first-time user's profile with the name from the token", async () => {
    const result = await connect({ connectionId: 'n1', userId: 'newbie', name: 'New Person' });

    expect(result).toEqual({ statusCode: 200 });
    expect(await world.store.getUser('newbie')).toMatchObject({ displayName: 'New Person' });
  });

  it('answers 500 and logs when the store fails', async () => {
    world.store.failNext('addConnection', new Error('down'));

    const result = await connect({ connectionId: 'a1', userId: 'ann' });

    expect(result).toEqual({ statusCode: 500 });
    expect(world.logger.entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'connect failed' }),
    );
  });
});

describe('$disconnect', () => {
  const disconnect = (init: Omit<WebSocketEventInit, 'routeKey'>) =>
    makeDisconnect(world.service.presence, world.logger)(wsEvent({ routeKey: '$disconnect', ...init }));

  it('forgets the connection and announces the user offline', async () => {
    await world.room('ann', 'bob');
    await world.connect('bob', 'b1');
    await world.connect('ann', 'a1');
    world.notifier.clear();

    const result = await disconnect({ connectionId: 'a1', userId: 'ann' });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.store.connectionRecord('a1')).toBeUndefined();
    expect(world.notifier.framesFor('b1')).toEqual([
      { type: 'presence', userId: 'ann', online: false, lastSeenAt: world.clock.now().toISOString() },
    ]);
  });

  it('answers 200 and does nothing without authorizer context', async () => {
    await world.connect('ann', 'a1');

    const result = await disconnect({ connectionId: 'a1' });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.store.connectionRecord('a1')).toBeDefined();
  });

  it('answers 200 even when the store fails, and logs it', async () => {
    world.store.failNext('removeConnection', new Error('down'));

    const result = await disconnect({ connectionId: 'a1', userId: 'ann' });

    expect(result).toEqual({ statusCode: 200 });
    expect(world.logger.entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'disconnect failed' }),
    );
  });
});
