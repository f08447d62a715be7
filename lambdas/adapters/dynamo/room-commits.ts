/**
 * The commit of a send on its room item (room-commit.ts), apart from the room's reads so that the
 * send handler bundles only this.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Message, Room } from '../../domain/model.js';
import type { CommitResult, RoomStore } from '../../domain/ports.js';
import type { CommitPlan } from '../../domain/room-commit.js';
import { ROOM_SK, recentEntry, toRoom, updateIf } from './items.js';

export class DynamoRoomCommits implements Pick<RoomStore, 'commitMessage' | 'revertCommit'> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async commitMessage(room: Room, message: Message, plan: CommitPlan): Promise<CommitResult> {
    const { roomId: _roomId, ...lastMessage } = message;
    // Attribute names aliased throughout: several plain words are reserved in expressions.
    const names: Record<string, string> = {
      '#recent': 'recent',
      '#sent': 'sent',
      '#sender': message.senderId,
      '#key': plan.key,
    };
    plan.evict.forEach((key, i) => {
      names[`#e${i}`] = key;
    });
    const remove = plan.evict.map((_, i) => `#recent.#e${i}`);
    const input = {
      TableName: this.table,
      Key: { pk: room.roomId, sk: ROOM_SK },
      UpdateExpression:
        'SET lastMessage = :message, updatedAt = :sentAt, ' +
        'members.#sender.#sent = if_not_exists(members.#sender.#sent, :zero) + :one, #recent.#key = :entry' +
        (remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''),
      // Ids in commit order, and each recorded send committed once.
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(lastMessage) OR lastMessage.messageId < :messageId) ' +
        'AND attribute_not_exists(#recent.#key)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ':message': lastMessage,
        ':sentAt': message.sentAt,
        ':messageId': message.messageId,
        ':zero': 0,
        ':one': 1,
        ':entry': recentEntry(room.participants, {
          messageId: message.messageId,
          senderId: message.senderId,
        }),
      },
      ReturnValues: 'ALL_OLD' as const,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    try {
      const { Attributes } = await this.sendCommit(input);
      if (!Attributes) throw new Error(`room ${room.roomId} answered no item to its commit`);
      return { status: 'committed', before: toRoom(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The room exists (the snapshot had it, and rooms are never deleted), so ALL_OLD is always there.
      if (!error.Item) throw new Error(`room ${room.roomId} answered no item to a failed commit`);
      return { status: 'stale', room: toRoom(unmarshall(error.Item)) };
    }
  }

  async revertCommit(before: Room, message: Message, plan: CommitPlan): Promise<boolean> {
    const names: Record<string, string> = {
      '#recent': 'recent',
      '#sent': 'sent',
      '#sender': message.senderId,
      '#key': plan.key,
    };
    const values: Record<string, unknown> = {
      ':committed': message.messageId,
      ':updatedAt': before.updatedAt,
      ':one': 1,
    };
    const sets = ['updatedAt = :updatedAt', 'members.#sender.#sent = members.#sender.#sent - :one'];
    const removes = ['#recent.#key'];
    if (before.lastMessage) {
      const { roomId: _roomId, ...lastMessage } = before.lastMessage;
      values[':previous'] = lastMessage;
      sets.push('lastMessage = :previous');
    } else {
      removes.push('lastMessage');
    }
    return updateIf(this.db, {
      TableName: this.table,
      Key: { pk: before.roomId, sk: ROOM_SK },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
      ConditionExpression: 'lastMessage.messageId = :committed',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * The commit's UpdateItem. A room written before the counting scheme has no `recent` map, and
   * DynamoDB refuses a path inside a missing one: the map is added once, and the commit sent again.
   */
  private async sendCommit(input: UpdateCommandInput): Promise<UpdateCommandOutput> {
    try {
      return await this.db.send(new UpdateCommand(input));
    } catch (error) {
      const missingMap =
        error instanceof Error &&
        error.name === 'ValidationException' &&
        /document path/i.test(error.message);
      if (!missingMap) throw error;
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: input.Key,
          UpdateExpression: 'SET #recent = if_not_exists(#recent, :empty)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#recent': 'recent' },
          ExpressionAttributeValues: { ':empty': {} },
        }),
      );
      return this.db.send(new UpdateCommand(input));
    }
  }
}
