/**
 * Messages with files, through the domain with the real attachment check (UploadCheck and the real
 * type detection) over an in-memory bucket: what is checked before anything is stored, what a message
 * stores and what answers carry, and that a send with files stays idempotent.
 */
import { describe, expect, it } from 'vitest';
import { keptKey, uploadKey } from '../../../definitions/uploads.js';
import type { ServerFrame } from '../../../lambdas/domain/model.js';
import { makeWorld } from '../../fakes/chat-world.js';
import { sampleFiles } from '../../fakes/files.js';

const chatError = (code: string, message?: RegExp) =>
  expect.objectContaining({
    name: 'ChatError',
    code,
    ...(message ? { message: expect.stringMatching(message) } : {}),
  });

async function roomWithFiles() {
  const world = makeWorld();
  const roomId = await world.room('ann', 'bob');
  await world.connect('ann', 'a1');
  await world.connect('bob', 'b1');
  world.notifier.clear();
  return { world, roomId };
}

const chatMessages = (frames: ServerFrame[]) => frames.filter((frame) => frame.type === 'chat_message');

describe('sending files', () => {
  it('attaches checked uploads: the ack and the fan-out carry signed URLs, the stored message keeps only keys', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png', 'dot.png');
    const brief = world.files.upload(roomId, 'ann', sampleFiles.pdf, 'application/pdf', 'brief ü.pdf');

    const ack = await world.send('ann', roomId, '', {
      connectionId: 'a1',
      clientMessageId: 'c1',
      attachments: [image, brief],
    });

    expect(ack.content).toBe('');
    expect(ack.attachments).toEqual([
      {
        attachmentId: image,
        fileName: 'dot.png',
        contentType: 'image/png',
        size: sampleFiles.png.length,
        width: 1,
        height: 1,
        url: `https://files.test/${keptKey.attachment(roomId, 'ann', image)}?disposition=inline&name=dot.png`,
      },
      {
        attachmentId: brief,
        fileName: 'brief ü.pdf',
        contentType: 'application/pdf',
        size: sampleFiles.pdf.length,
        url: `https://files.test/${keptKey.attachment(roomId, 'ann', brief)}?disposition=attachment&name=brief%20%C3%BC.pdf`,
      },
    ]);
    expect(chatMessages(world.notifier.framesFor('b1'))).toEqual([{ type: 'chat_message', message: ack }]);
    const stored = (await world.store.listMessages(roomId, { limit: 10 })).messages[0]?.message;
    expect(stored?.attachments?.map((a) => a.key)).toEqual([
      keptKey.attachment(roomId, 'ann', image),
      keptKey.attachment(roomId, 'ann', brief),
    ]);
    expect(JSON.stringify(stored)).not.toContain('https://');
    // Kept out of the upload folder (which the lifecycle rule empties), with the checked bytes.
    expect(world.files.bucket.objects.get(keptKey.attachment(roomId, 'ann', image))?.bytes).toEqual(
      sampleFiles.png,
    );
  });

  it('keeps what was checked: posting the upload form again after the file was attached changes nothing', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png', 'dot.png');
    await world.send('ann', roomId, 'x', { clientMessageId: 'c1', attachments: [image] });

    // The same form, still valid, posted again with other bytes of the same size.
    world.files.bucket.post(
      uploadKey.attachment(roomId, 'ann', image),
      new Uint8Array(sampleFiles.png.length).fill(65),
      'image/png',
      'dot.png',
    );

    expect(world.files.bucket.objects.get(keptKey.attachment(roomId, 'ann', image))?.bytes).toEqual(
      sampleFiles.png,
    );
    await expect(
      world.send('ann', roomId, 'y', { clientMessageId: 'c2', attachments: [image] }),
    ).rejects.toEqual(chatError('bad_request'));
  });

  it('refuses an upload replaced while it was being checked, claiming nothing', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png', 'dot.png');
    world.files.bucket.beforeCopy = () => {
      world.files.bucket.post(
        uploadKey.attachment(roomId, 'ann', image),
        sampleFiles.text,
        'image/png',
        'dot.png',
        sampleFiles.png.length,
      );
    };

    await expect(world.send('ann', roomId, 'x', { attachments: [image] })).rejects.toEqual(
      chatError('bad_request', /replaced while it was being attached/),
    );
    expect(world.files.claims.claims.size).toBe(0);
    expect(world.files.bucket.objects.has(keptKey.attachment(roomId, 'ann', image))).toBe(false);
  });

  it('presents files in history and in the chat list with URLs signed for that answer', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png', 'dot.png');
    await world.send('ann', roomId, 'look', { clientMessageId: 'c1', attachments: [image] });

    const history = await world.service.messaging.getMessages('bob', roomId, { limit: 10 });
    const list = await world.service.rooms.listRooms('bob', 10, undefined);

    const url = `https://files.test/${keptKey.attachment(roomId, 'ann', image)}?disposition=inline&name=dot.png`;
    expect(history.messages[0]?.attachments?.[0]).toMatchObject({ attachmentId: image, url });
    expect(history.messages[0]?.attachments?.[0]).not.toHaveProperty('key');
    expect(list.rooms[0]?.lastMessage?.attachments?.[0]).toMatchObject({ attachmentId: image, url });
    expect(list.rooms[0]?.lastMessage?.attachments?.[0]).not.toHaveProperty('key');
  });

  it('answers a retry of a send with files from the stored message, delivering it once', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png');
    const first = await world.send('ann', roomId, 'x', {
      connectionId: 'a1',
      clientMessageId: 'c1',
      attachments: [image],
    });
    const again = await world.send('ann', roomId, 'x', {
      connectionId: 'a1',
      clientMessageId: 'c1',
      attachments: [image],
    });

    expect(again).toEqual(first);
    expect(chatMessages(world.notifier.framesFor('b1'))).toHaveLength(1);
    // The retry's URLs come from the check too (the send function has no signer of its own).
    expect(world.files.checker.requests.map((request) => request.kind)).toEqual(['attachments', 'sign']);
  });

  it('lets a retry racing its first attempt claim the same uploads and store one message', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png');
    const send = () =>
      world.service.messaging.sendMessage(
        { userId: 'ann', connectionId: 'a1' },
        { roomId, content: 'x', clientMessageId: 'c1', attachments: [image] },
      );

    const [one, two] = await Promise.all([send(), send()]);

    expect(two).toEqual(one);
    expect((await world.store.listMessages(roomId, { limit: 10 })).messages).toHaveLength(1);
    expect(chatMessages(world.notifier.framesFor('b1'))).toHaveLength(1);
  });

  it('refuses an upload already attached to another message, storing nothing', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png');
    await world.send('ann', roomId, 'first', { clientMessageId: 'c1', attachments: [image] });

    await expect(
      world.send('ann', roomId, 'second', { clientMessageId: 'c2', attachments: [image] }),
    ).rejects.toEqual(chatError('bad_request', /already attached/));
    expect((await world.store.listMessages(roomId, { limit: 10 })).messages).toHaveLength(1);
  });

  it('lets exactly one of several concurrent sends attach the same upload', async () => {
    const { world, roomId } = await roomWithFiles();
    const image = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png');

    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((i) =>
        world.send('ann', roomId, `m${i}`, { clientMessageId: `c${i}`, attachments: [image] }),
      ),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect((await world.store.listMessages(roomId, { limit: 10 })).messages).toHaveLength(1);
  });

  it.each([
    ['another user’s upload', 'bob', 'ann', sampleFiles.png, 'image/png', /not found/],
    ['an upload made for another room', 'ann', 'ann', sampleFiles.png, 'image/png', /not found/],
    [
      'a text file declared as an image',
      'ann',
      'ann',
      sampleFiles.text,
      'image/png',
      /content is a text file, not image\/png/,
    ],
    [
      'an HTML page declared as a PDF',
      'ann',
      'ann',
      sampleFiles.html,
      'application/pdf',
      /not application\/pdf/,
    ],
    ['an executable declared as plain text', 'ann', 'ann', sampleFiles.exe, 'text/plain', /not recognised/],
    [
      'a type that is not allowed',
      'ann',
      'ann',
      sampleFiles.html,
      'text/html',
      /type text\/html is not allowed/,
    ],
  ])('refuses %s and stores nothing, claims nothing', async (_, uploader, sender, bytes, type, message) => {
    const { world, roomId } = await roomWithFiles();
    const otherRoom = await world.room('ann', 'cat');
    const id = world.files.upload(
      _ === 'an upload made for another room' ? otherRoom : roomId,
      uploader,
      bytes,
      type,
    );

    await expect(
      world.send(sender, roomId, 'x', { clientMessageId: 'c1', attachments: [id] }),
    ).rejects.toEqual(chatError('bad_request', message));
    expect((await world.store.listMessages(roomId, { limit: 10 })).messages).toEqual([]);
    expect(world.files.claims.claims.size).toBe(0);
    expect(chatMessages(world.notifier.framesFor('b1'))).toEqual([]);
  });

  it('refuses an upload whose stored size is not the declared one', async () => {
    const { world, roomId } = await roomWithFiles();
    const id = '00000000000000000000000000abcdef';
    world.files.bucket.post(
      uploadKey.attachment(roomId, 'ann', id),
      sampleFiles.pdf,
      'application/pdf',
      'a.pdf',
      5,
    );

    await expect(world.send('ann', roomId, 'x', { attachments: [id] })).rejects.toEqual(
      chatError('bad_request', /not the declared 5/),
    );
  });

  it('refuses an upload that was never posted', async () => {
    const { world, roomId } = await roomWithFiles();
    await expect(
      world.send('ann', roomId, 'x', { attachments: ['0123456789abcdef0123456789abcdef'] }),
    ).rejects.toEqual(chatError('bad_request', /was not found/));
  });

  it('claims nothing when one upload of several is refused', async () => {
    const { world, roomId } = await roomWithFiles();
    const good = world.files.upload(roomId, 'ann', sampleFiles.png, 'image/png');
    const bad = world.files.upload(roomId, 'ann', sampleFiles.text, 'image/png');

    await expect(world.send('ann', roomId, 'x', { attachments: [good, bad] })).rejects.toEqual(
      chatError('bad_request'),
    );
    expect(world.files.claims.claims.size).toBe(0);
    // The good one can still be sent.
    await expect(world.send('ann', roomId, 'x', { attachments: [good] })).resolves.toMatchObject({
      attachments: [expect.objectContaining({ attachmentId: good })],
    });
  });

  it('does not ask the check anything for a text-only message', async () => {
    const { world, roomId } = await roomWithFiles();
    await world.send('ann', roomId, 'hello', { clientMessageId: 'c1' });
    await world.service.messaging.getMessages('bob', roomId, { limit: 10 });
    expect(world.files.checker.requests).toEqual([]);
  });
});

describe('avatars', () => {
  const postAvatar = (
    world: ReturnType<typeof makeWorld>,
    userId: string,
    id: string,
    bytes: Uint8Array,
    type: string,
  ) => world.files.bucket.post(uploadKey.avatar(userId, id), bytes, type, 'avatar');

  it('sets a checked upload as the avatar, shown to the other participant by a signed URL', async () => {
    const world = makeWorld();
    await world.room('ann', 'bob');
    postAvatar(world, 'ann', 'a'.repeat(32), sampleFiles.png, 'image/png');

    const profile = await world.service.profiles.updateProfile(
      'ann',
      { avatarUploadId: 'a'.repeat(32) },
      undefined,
    );
    const view = await world.service.profiles.view(profile);
    const list = await world.service.rooms.listRooms('bob', 10, undefined);

    const url = `https://files.test/${keptKey.avatar('ann', 'a'.repeat(32))}?disposition=inline&name=avatar`;
    expect(view).toEqual({ userId: 'ann', displayName: 'Ann', avatarUrl: url });
    expect(list.rooms[0]?.participants.find((p) => p.userId === 'ann')?.avatarUrl).toBe(url);
    expect(world.files.bucket.objects.has(keptKey.avatar('ann', 'a'.repeat(32)))).toBe(true);
  });

  it('deletes the kept avatar it replaces, never the one that stays, and a URL avatar deletes it too', async () => {
    const world = makeWorld();
    world.users('ann');
    postAvatar(world, 'ann', '1'.repeat(32), sampleFiles.png, 'image/png');
    postAvatar(world, 'ann', '2'.repeat(32), sampleFiles.png, 'image/png');
    const kept = (n: string) => world.files.bucket.objects.has(keptKey.avatar('ann', n.repeat(32)));

    await world.service.profiles.updateProfile('ann', { avatarUploadId: '1'.repeat(32) }, undefined);
    await world.service.profiles.updateProfile('ann', { avatarUploadId: '2'.repeat(32) }, undefined);
    expect([kept('1'), kept('2')]).toEqual([false, true]);
    // Setting the same upload again deletes nothing.
    await world.service.profiles.updateProfile('ann', { avatarUploadId: '2'.repeat(32) }, undefined);
    expect(kept('2')).toBe(true);

    const profile = await world.service.profiles.updateProfile(
      'ann',
      { avatarUrl: 'https://example.com/a.png' },
      undefined,
    );
    expect(kept('2')).toBe(false);
    await world.service.profiles.updateProfile('ann', { avatarUploadId: '1'.repeat(32) }, undefined);
    // A kept copy deleted with the avatar it was comes back when its upload (still there) is set again.
    expect(kept('1')).toBe(true);
    const cleared = await world.service.profiles.updateProfile('ann', { avatarUrl: null }, undefined);
    expect(kept('1')).toBe(false);
    expect((await world.service.profiles.view(cleared)).avatarUrl).toBeNull();
    await world.service.profiles.updateProfile('ann', { avatarUrl: 'https://example.com/a.png' }, undefined);
    expect((await world.service.profiles.view(profile)).avatarUrl).toBe('https://example.com/a.png');
  });

  it.each([
    ['a GIF', sampleFiles.png, 'image/gif', /type image\/gif is not allowed/],
    ['a PDF', sampleFiles.pdf, 'application/pdf', /not allowed/],
    ['text declared as PNG', sampleFiles.text, 'image/png', /not image\/png/],
  ])('refuses %s as an avatar and keeps the profile', async (_, bytes, type, message) => {
    const world = makeWorld();
    world.users('ann');
    postAvatar(world, 'ann', 'b'.repeat(32), bytes, type);

    await expect(
      world.service.profiles.updateProfile('ann', { avatarUploadId: 'b'.repeat(32) }, undefined),
    ).rejects.toEqual(chatError('bad_request', message));
    expect(await world.store.getUser('ann')).toMatchObject({ avatarKey: null, avatarUrl: null });
  });

  it('refuses another user’s avatar upload', async () => {
    const world = makeWorld();
    world.users('ann', 'bob');
    postAvatar(world, 'bob', 'c'.repeat(32), sampleFiles.png, 'image/png');
    await expect(
      world.service.profiles.updateProfile('ann', { avatarUploadId: 'c'.repeat(32) }, undefined),
    ).rejects.toEqual(chatError('bad_request', /not found/));
  });
});
