/** Input rules from API.md, as pure functions. Each failure names the field and the rule. */
import { badRequest } from './errors.js';
import type { RoomId, UserId } from './model.js';

export const MAX_CONTENT_CODE_POINTS = 4000;
export const MAX_CLIENT_MESSAGE_ID = 64;
export const MAX_DISPLAY_NAME = 80;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

// Cognito subs are UUIDs; local sign-in ids are short names. Neither '#' nor '/' may appear: '#'
// separates key parts and '/' would break REST paths.
const USER_ID = /^[A-Za-z0-9_.@+-]{1,128}$/;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ROOM_PREFIX = 'chat_';
// Lone surrogates cannot be encoded as UTF-8 (DynamoDB would reject them); control characters other
// than tab and line breaks have no place in a chat message.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function hasForbiddenControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const c0 = code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
    // DEL and the C1 controls, except NEL (U+0085), a line break.
    const c1 = code >= 0x7f && code <= 0x9f && code !== 0x85;
    if (c0 || c1) return true;
  }
  return false;
}

export const isValidUserId = (value: unknown): value is UserId =>
  typeof value === 'string' && USER_ID.test(value);
export const isUlid = (value: unknown): value is string => typeof value === 'string' && ULID.test(value);

/** The room of two users: `chat_{a}_{b}` with the ids sorted as strings. */
export function roomIdFor(userA: UserId, userB: UserId): RoomId {
  const [a, b] = userA < userB ? [userA, userB] : [userB, userA];
  return `${ROOM_PREFIX}${a}_${b}`;
}

/**
 * The participant pairs a room name can stand for. User ids may contain '_', so `chat_a_b_c` is
 * either (a, b_c) or (a_b, c); the stored room item is the authority on which it is.
 */
export function participantCandidates(roomId: RoomId): UserId[] {
  if (!roomId.startsWith(ROOM_PREFIX)) return [];
  const rest = roomId.slice(ROOM_PREFIX.length);
  const candidates = new Set<UserId>();
  for (let i = rest.indexOf('_'); i !== -1; i = rest.indexOf('_', i + 1)) {
    const a = rest.slice(0, i);
    const b = rest.slice(i + 1);
    if (isValidUserId(a) && isValidUserId(b) && a < b) {
      candidates.add(a);
      candidates.add(b);
    }
  }
  return [...candidates];
}

export function parseRoomId(value: unknown): RoomId {
  if (typeof value !== 'string' || value.length > 300 || participantCandidates(value).length === 0) {
    throw badRequest('roomId must be a room name of the form chat_{userA}_{userB}');
  }
  return value;
}

export function parseUserId(value: unknown, field = 'userId'): UserId {
  if (!isValidUserId(value)) {
    throw badRequest(`${field} must be 1 to 128 characters of letters, digits and _ . @ + -`);
  }
  return value;
}

export function parseMessageId(value: unknown, field = 'messageId'): string {
  if (!isUlid(value)) throw badRequest(`${field} must be a ULID (26 characters)`);
  return value;
}

/** Refuses lone surrogates (DynamoDB cannot store them) and control characters other than line breaks and tabs. */
export function assertCleanText(value: string, field: string): void {
  if (LONE_SURROGATE.test(value)) throw badRequest(`${field} contains invalid Unicode`);
  if (hasForbiddenControl(value)) throw badRequest(`${field} contains control characters`);
}

/** Whether a string has min to max Unicode code points ("characters" in API.md). */
function withinCodePoints(value: string, min: number, max: number): boolean {
  if (value.length < min || value.length > max * 2) return false;
  let codePoints = 0;
  for (const _ of value) codePoints++;
  return codePoints >= min && codePoints <= max;
}

/**
 * Message content: trimmed, then 1 to 4,000 code points; empty (or absent) only in a message with
 * attachments.
 */
export function parseContent(value: unknown, hasAttachments = false): string {
  if (value === undefined && hasAttachments) return '';
  if (typeof value !== 'string') throw badRequest('content must be a string');
  const trimmed = value.trim();
  assertCleanText(trimmed, 'content');
  if (trimmed.length === 0) {
    if (hasAttachments) return '';
    throw badRequest('content must not be empty');
  }
  if (!withinCodePoints(trimmed, 1, MAX_CONTENT_CODE_POINTS)) {
    throw badRequest(`content must be at most ${MAX_CONTENT_CODE_POINTS} characters`);
  }
  return trimmed;
}

export function parseClientMessageId(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !withinCodePoints(value, 1, MAX_CLIENT_MESSAGE_ID)) {
    throw badRequest(`clientMessageId must be a string of 1 to ${MAX_CLIENT_MESSAGE_ID} characters`);
  }
  assertCleanText(value, 'clientMessageId');
  return value;
}

export function parseDisplayName(value: unknown): string {
  if (typeof value !== 'string') throw badRequest('displayName must be a string');
  const trimmed = value.trim();
  assertCleanText(trimmed, 'displayName');
  if (!withinCodePoints(trimmed, 1, MAX_DISPLAY_NAME)) {
    throw badRequest(`displayName must be 1 to ${MAX_DISPLAY_NAME} characters`);
  }
  return trimmed;
}

export function parseAvatarUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) throw badRequest('avatarUrl must be an https URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest('avatarUrl must be an https URL');
  }
  if (url.protocol !== 'https:') throw badRequest('avatarUrl must be an https URL');
  return value;
}

export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_LIMIT;
  if (!/^\d{1,3}$/.test(value)) throw badRequest(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  const limit = Number(value);
  if (limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

export function parseBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw badRequest(`${field} must be true or false`);
  return value;
}
