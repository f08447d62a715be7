/** The chat list: one button per room, most recent activity first. */
import { h } from './dom.js';
import { messagePreview } from './files.js';
import { avatar, shortTime } from './format.js';
import { byActivity, type RoomItem } from './model.js';
import { fullTime } from './timeline.js';

export interface ChatListState {
  readonly rooms: Iterable<RoomItem>;
  readonly me: string;
  readonly openRoomId: string | undefined;
  readonly typingRoomIds: ReadonlySet<string>;
}

function preview(room: RoomItem, state: ChatListState): string {
  if (state.typingRoomIds.has(room.roomId)) return 'typing…';
  if (room.lastMessage === null) return 'No messages yet';
  // Files alone show as a paperclip and the first file's name (or "Photo").
  const content = messagePreview(room.lastMessage);
  return room.lastMessage.senderId === state.me ? `You: ${content}` : content;
}

function item(room: RoomItem, state: ChatListState): HTMLLIElement {
  const { peer, unreadCount } = room;
  const last = preview(room, state);
  const label = [
    peer.displayName,
    peer.online ? 'online' : '',
    unreadCount > 0 ? `${unreadCount} unread` : '',
    last,
  ].filter(Boolean);
  return h(
    'li',
    {},
    h(
      'button',
      {
        type: 'button',
        class: `chat-item${unreadCount > 0 ? ' unread' : ''}`,
        'data-testid': 'chat-item',
        'data-room-id': room.roomId,
        'data-peer-id': peer.userId,
        'aria-current': room.roomId === state.openRoomId ? 'true' : null,
        'aria-label': label.join(', '),
      },
      h(
        'span',
        { class: 'avatar-wrap' },
        avatar(peer),
        peer.online && h('span', { class: 'online-dot', 'data-testid': 'online-dot', title: 'online' }),
      ),
      h(
        'span',
        { class: 'chat-main' },
        h('span', { class: 'chat-name', 'data-testid': 'chat-name' }, peer.displayName),
        h(
          'span',
          {
            class: `chat-last${state.typingRoomIds.has(room.roomId) ? ' is-typing' : ''}`,
            'data-testid': 'chat-last',
          },
          last,
        ),
      ),
      h(
        'span',
        { class: 'chat-meta' },
        h(
          'time',
          { datetime: room.updatedAt, title: fullTime(room.updatedAt), 'data-testid': 'chat-time' },
          shortTime(room.updatedAt),
        ),
        unreadCount > 0 &&
          h(
            'span',
            { class: 'badge', 'data-testid': 'unread-badge' },
            unreadCount > 99 ? '99+' : String(unreadCount),
          ),
      ),
    ),
  );
}

/** Re-renders `list`, keeping keyboard focus on the room that had it. */
export function renderChatList(list: HTMLElement, state: ChatListState): void {
  const focused = document.activeElement?.closest<HTMLElement>('[data-testid="chat-item"]')?.dataset.roomId;
  const rooms = [...state.rooms].sort(byActivity);
  list.replaceChildren(...rooms.map((room) => item(room, state)));
  if (focused !== undefined)
    list.querySelector<HTMLElement>(`[data-room-id="${CSS.escape(focused)}"]`)?.focus();
}
