/**
 * Offline e-mail notifications: the preferences, and when a new message calls for a check. The check
 * itself (what an e-mail lists, and the record of what was e-mailed) is notify-check.ts; its rendering
 * is digest.ts. No AWS here.
 */
import { createHash } from 'node:crypto';
import { notificationLimits } from '../../definitions/notifications.js';
import { badRequest } from './errors.js';
import type { RoomId } from './model.js';
import type { CheckTarget, PlannedCheck, Recipient } from './ports.js';
import { isValidUserId, participantCandidates } from './validation.js';

export interface NotificationPrefs {
  readonly email: boolean;
  readonly delayMinutes: number;
}

export const defaultNotificationPrefs: NotificationPrefs = {
  email: true,
  delayMinutes: notificationLimits.defaultDelayMinutes,
};

const PREF_FIELDS = new Set(['email', 'delayMinutes']);

const isDelay = (value: unknown): value is number =>
  typeof value === 'number' &&
  Number.isInteger(value) &&
  value >= notificationLimits.minDelayMinutes &&
  value <= notificationLimits.maxDelayMinutes;

/** The body of `PUT /users/me/notifications`: one or both fields, nothing else. */
export function parseNotificationPrefs(body: Record<string, unknown>): Partial<NotificationPrefs> {
  const unknown = Object.keys(body).filter((key) => !PREF_FIELDS.has(key));
  if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.join(', ')}`);
  if (body.email === undefined && body.delayMinutes === undefined) {
    throw badRequest('Give email and/or delayMinutes');
  }
  if (body.email !== undefined && typeof body.email !== 'boolean') {
    throw badRequest('email must be true or false');
  }
  if (body.delayMinutes !== undefined && !isDelay(body.delayMinutes)) {
    throw badRequest(
      `delayMinutes must be a whole number from ${notificationLimits.minDelayMinutes} to ${notificationLimits.maxDelayMinutes}`,
    );
  }
  return {
    ...(body.email === undefined ? {} : { email: body.email }),
    ...(body.delayMinutes === undefined ? {} : { delayMinutes: body.delayMinutes as number }),
  };
}

/** Preferences as stored (any shape, or none): each field that is missing or invalid reads as its default. */
export function storedPrefs(value: unknown): NotificationPrefs {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return {
    email: typeof record.email === 'boolean' ? record.email : defaultNotificationPrefs.email,
    delayMinutes: isDelay(record.delayMinutes) ? record.delayMinutes : defaultNotificationPrefs.delayMinutes,
  };
}

/**
 * The name of the check of `target` for the delay window `now` falls in. EventBridge Scheduler names
 * are at most 64 of [0-9a-zA-Z-_.]: a hash (base64url) fits whatever the ids.
 *
 * Why the window is in the name: a schedule that has run is deleted a moment after it invoked the
 * check (ActionAfterCompletion DELETE). Named after (user, room) alone, a message arriving in that
 * moment would find the name taken ("already scheduled") after the check had read the room: it
 * would never be e-mailed. Within one window every message finds the window's check still to come
 * (it runs at its first message + delay, so after the window ends); a burst makes one schedule per
 * window, and the notified marks keep a second check from e-mailing what the first one did.
 */
export function scheduleName(target: CheckTarget, delaySeconds: number, now: Date): string {
  const window = Math.floor(now.getTime() / (delaySeconds * 1000));
  const digest = createHash('sha256')
    .update(`${target.userId}\n${target.roomId}\n${delaySeconds}\n${window}`)
    .digest('base64url');
  return `notify-${digest}`;
}

/** How long after a message its check runs: the recipient's delay, or NOTIFY_DELAY_SECONDS when set. */
export function delaySecondsOf(recipient: Recipient, overrideSeconds?: number): number {
  return overrideSeconds ?? recipient.prefs.delayMinutes * 60;
}

/**
 * The check a new message in `roomId` calls for, for one recipient: none when they have e-mail off or
 * no address. Online or not: whether they are still online, and whether they have read, is for the
 * check to see when it runs (a recipient online now may leave without reading; see notify-check.ts
 * for the re-checks). Runs `delaySeconds` from now: the recipient's delay, or `overrideSeconds`
 * (NOTIFY_DELAY_SECONDS, for demos and tests). The same plan makes a check's re-check.
 */
export function planCheck(
  recipient: Recipient | undefined,
  roomId: RoomId,
  now: Date,
  overrideSeconds?: number,
): PlannedCheck | undefined {
  if (recipient === undefined || !recipient.prefs.email || recipient.email === null) return undefined;
  const delaySeconds = delaySecondsOf(recipient, overrideSeconds);
  const target = { userId: recipient.profile.userId, roomId };
  // EventBridge Scheduler's precision is one minute: it may run a schedule at the start of the
  // minute its at() falls in, up to 59 s early. A whole-minute delay is rounded up to a minute
  // boundary, so the check never runs before the delay, and so after its window ends (what the
  // window's name relies on; see scheduleName). A delay of seconds (NOTIFY_DELAY_SECONDS on the
  // local stack, whose scheduler keeps the second) is rounded up to the second, the expression's unit.
  const unitMs = delaySeconds % 60 === 0 ? 60_000 : 1000;
  const at = new Date(Math.ceil((now.getTime() + delaySeconds * 1000) / unitMs) * unitMs);
  return { name: scheduleName(target, delaySeconds, now), at, target };
}

/** A user id and room id as a schedule's input carries them; undefined for anything else. */
export function parseCheckTarget(value: unknown): CheckTarget | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { userId, roomId } = value as Record<string, unknown>;
  if (!isValidUserId(userId) || typeof roomId !== 'string' || roomId.length > 300) return undefined;
  return participantCandidates(roomId).includes(userId) ? { userId, roomId } : undefined;
}
