/** Reads across the rooms, users and messages tables in one BatchGetItem: the start of a send. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Room, RoomId, UserId, UserProfile } from '../../domain/model.js';
import type { RoomReads, SendSnapshot } from '../../domain/ports.js';
import { batchGet, dedupKey, ROOM_SK, type TableNames, toRoom, toStoredMessage, toUser } from './items.js';

export class DynamoRoomReads implements RoomReads {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, 'rooms' | 'users' | 'messages'>,
  ) {}

  getRoomAndUsers(roomId: RoomId, userIds: readonly UserId[]) {
    return this.read(roomId, userIds, undefined);
  }

  async loadSend(
    roomId: RoomId,
    userIds: readonly UserId[],
    senderId: UserId,
    clientMessageId: string | undefined,
  ): Promise<SendSnapshot> {
    return this.read(
      roomId,
      userIds,
      clientMessageId === undefined ? undefined : { senderId, clientMessageId },
    );
  }

  private async read(
    roomId: RoomId,
    userIds: readonly UserId[],
    dedup: { senderId: UserId; clientMessageId: string } | undefined,
  ): Promise<SendSnapshot> {
    const found = await batchGet(this.db, {
      [this.tables.rooms]: { Keys: [{ pk: roomId, sk: ROOM_SK }] },
      ...(userIds.length > 0 ? { [this.tables.users]: { Keys: userIds.map((userId) => ({ userId })) } } : {}),
      ...(dedup === undefined
        ? {}
        : {
            // Strongly consistent: a message stored a moment ago must be found, or it would be
            // committed a second time once its recent-send entry has expired.
            [this.tables.messages]: {
              Keys: [{ roomId, dedupKey: dedupKey(dedup.senderId, dedup.clientMessageId, '') }],
              ConsistentRead: true,
            },
          }),
    });
    const roomItem = found[this.tables.rooms]?.[0];
    const messageItem = found[this.tables.messages]?.[0];
    const users = new Map<UserId, UserProfile>(
      (found[this.tables.users] ?? []).map((item) => [String(item.userId), toUser(item)]),
    );
    const room: Room | undefined = roomItem ? toRoom(roomItem) : undefined;
    return { room, users, stored: messageItem ? toStoredMessage(messageItem) : undefined };
  }
}
