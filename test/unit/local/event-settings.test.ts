/**
 * local/event-settings.ts repeats what lib/chat-events.ts configures (lib imports aws-cdk-lib, too
 * slow for the local stack's start): each value is held equal to lib's here, so they cannot drift.
 */
import { describe, expect, it } from 'vitest';
import { webhookRetry } from '../../../definitions/notifications.js';
import {
  changeStreamSettings,
  changeStreamFilters as libFilters,
  webhookMaxReceives as libMaxReceives,
  notifyAsyncSettings,
  webhookDelivery,
  webhookTimeout,
} from '../../../lib/chat-events.js';
import { checkPattern, matchesAny } from '../../../local/event-pattern.js';
import {
  changeStreamFilters,
  changeStreamMapping,
  notifyAsync,
  webhookMaxReceives,
  webhookQueue,
} from '../../../local/event-settings.js';

describe('the local events settings', () => {
  it('equal lib’s stream mapping settings and filters', () => {
    expect(changeStreamMapping.startingPosition).toBe(changeStreamSettings.startingPosition);
    expect(changeStreamMapping.batchSize).toBe(changeStreamSettings.batchSize);
    expect(changeStreamMapping.retryAttempts).toBe(changeStreamSettings.retryAttempts);
    expect(changeStreamMapping.maxRecordAgeSeconds).toBe(changeStreamSettings.maxRecordAge.toSeconds());
    expect(changeStreamFilters).toEqual(libFilters);
    for (const patterns of Object.values(changeStreamFilters))
      for (const pattern of patterns ?? []) checkPattern(pattern);
  });

  it('equal lib’s notify and webhook settings', () => {
    expect(notifyAsync.retryAttempts).toBe(notifyAsyncSettings.retryAttempts);
    expect(notifyAsync.maxEventAgeSeconds).toBe(notifyAsyncSettings.maxEventAge.toSeconds());
    expect(webhookQueue.batchSize).toBe(webhookDelivery.batchSize);
    expect(webhookQueue.maxConcurrency).toBe(webhookDelivery.maxConcurrency);
    expect(webhookQueue.functionTimeoutSeconds).toBe(webhookTimeout.toSeconds());
    expect(webhookQueue.maxReceiveCount).toBe(libMaxReceives());
    expect(webhookMaxReceives({ ...webhookRetry, maxAgeSeconds: 60 })).toBe(
      libMaxReceives({ ...webhookRetry, maxAgeSeconds: 60 }),
    );
  });

  it('filter as Lambda does: room items inserted or modified, new messages only', () => {
    const record = (eventName: string, sk: string) => ({
      eventName,
      dynamodb: { Keys: { pk: { S: 'r' }, sk: { S: sk } } },
    });
    const rooms = changeStreamFilters.rooms ?? [];
    expect(matchesAny(rooms, record('INSERT', 'room'))).toBe(true);
    expect(matchesAny(rooms, record('MODIFY', 'room'))).toBe(true);
    expect(matchesAny(rooms, record('REMOVE', 'room'))).toBe(false);
    expect(matchesAny(rooms, record('INSERT', 'notified#r'))).toBe(false);
    expect(matchesAny(changeStreamFilters.messages ?? [], record('MODIFY', 'x'))).toBe(false);
    expect(() => checkPattern({ a: [{ numeric: ['>', 1] }] })).toThrow(/Unsupported/);
  });
});
