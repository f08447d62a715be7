/**
 * Stream records of the rooms and messages tables as the chat's changes: a message item inserted (a
 * message item is written once), or the room item (`sk` = "room") inserted or modified. Every other
 * item of the rooms table (memberships, activity entries, upload claims, notified marks) is nothing
 * to the events.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { RecordChange } from '../../domain/change-consumer.js';
import { type Item, isRecord, ROOM_SK, toMessage, toRoom } from './items.js';

/**
 * The Lambda event's images have the SDK's attribute shapes; the chat's items hold no binary
 * attribute, the one place where they differ (base64 text here, bytes in the SDK).
 */
const itemOf = (image: NonNullable<DynamoDBRecord['dynamodb']>['NewImage']): Item =>
  unmarshall(image as Record<string, AttributeValue>);

export function changeOf(record: DynamoDBRecord): RecordChange {
  try {
    const stream = record.dynamodb;
    const keys = stream?.Keys ?? {};
    if ('dedupKey' in keys) {
      if (record.eventName !== 'INSERT' || stream?.NewImage === undefined) return undefined;
      const item = itemOf(stream.NewImage);
      return {
        kind: 'message',
        message: toMessage(item),
        // The counts of its commit name every participant of the room.
        ...(isRecord(item.counts) ? { participants: Object.keys(item.counts) } : {}),
      };
    }
    if (keys.sk?.S !== ROOM_SK || record.eventName === 'REMOVE') return undefined;
    if (stream?.NewImage === undefined) throw new Error('a room record without its new image');
    if (record.eventName === 'MODIFY' && stream.OldImage === undefined) {
      throw new Error('a room change without its old image: the stream must carry NEW_AND_OLD_IMAGES');
    }
    const seconds = stream.ApproximateCreationDateTime;
    return {
      kind: 'room',
      before:
        record.eventName === 'INSERT' || stream.OldImage === undefined
          ? undefined
          : toRoom(itemOf(stream.OldImage)),
      after: toRoom(itemOf(stream.NewImage)),
      time: new Date(seconds === undefined ? Date.now() : seconds * 1000).toISOString(),
    };
  } catch (unreadable) {
    return { unreadable };
  }
}
