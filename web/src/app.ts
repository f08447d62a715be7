/** The signed-in screen: the chat list and the open room, both kept current from the SDK's events. */
import {
  ChatApi,
  ChatApiError,
  ChatConnection,
  type ConnectionState,
  type Message,
  type PresenceEvent,
  type Profile,
  type ReadEvent,
  type TokenSource,
  type TypingEvent,
} from '../sdk/index.js';
import { AvatarControl } from './avatar-control.js';
import { renderChatList } from './chat-list.js';
import { h, part } from './dom.js';
import { applyMessage, applyRead, mergeListed, type RoomItem, roomItem } from './model.js';
import { RoomView } from './room-view.js';
import { chatLink, LIST_PATH, parseRoute, peerIn, roomPath } from './route.js';
import type { Session } from './session.js';
import { isCaseSensitiveId, normalizeUserId } from './user-ids.js';

const BANNER: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Connection lost. Reconnecting…',
  offline: 'You are offline. Messages will be sent when you are back online.',
};

const TYPING_SHOWN_MS = 8000;
const READ_DEBOUNCE_MS = 250;
const STALE_TYPING_MS = 1500;

declare global {
  interface Window {
    /** A handle for debugging and for the end-to-end test. */
    chat?: { readonly api: ChatApi; readonly connection: ChatConnection };
  }
}

export class ChatApp {
  private readonly api: ChatApi;
  private readonly connection: ChatConnection;
  private readonly rooms = new Map<string, RoomItem>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly readTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** When the other participant's last message arrived, by room. */
  private readonly lastMessageAt = new Map<string, number>();
  private readonly stops: (() => void)[] = [];
  private readonly root: HTMLElement;
  private room: RoomView | undefined;
  private avatarControl: AvatarControl | undefined;
  private everOnline = false;
  /** Live messages for rooms the chat list has not shown yet, by room. */
  private readonly unlisted = new Map<string, Message[]>();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  constructor(
    container: HTMLElement,
    private readonly session: Session,
    private readonly signOut: (notice?: string) => void,
    /** The session's token: fixed, or a provider that refreshes it (session.ts `sessionAuth`). */
    token: TokenSource,
  ) {
    this.api = new ChatApi({ restUrl: session.restUrl, token });
    this.connection = new ChatConnection({ wsUrl: session.wsUrl, token, api: this.api });
    window.chat = { api: this.api, connection: this.connection };

    this.root = h(
      'div',
      { class: 'app', 'data-testid': 'chat-app' },
      h(
        'header',
        { class: 'topbar' },
        h('h1', { class: 'visually-hidden' }, 'Chat'),
        h('div', { class: 'me', 'data-testid': 'me' }),
        // The status text is the live region; the button beside it is not, so a screen reader hears
        // "Connection lost. Reconnecting…" and not the two run together.
        h(
          'div',
          { class: 'banner', 'data-testid': 'connection-banner', 'data-state': 'connecting' },
          h('span', { role: 'status', 'data-testid': 'connection-text' }, BANNER.connecting),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              hidden: true,
              'data-testid': 'connection-retry',
              onclick: () => this.connection.reconnect(),
            },
            'Retry now',
          ),
        ),
        h('button', { type: 'button', 'data-testid': 'sign-out', onclick: () => this.close() }, 'Sign out'),
      ),
      // One main landmark around both panes: on a phone only one of them shows at a time.
      h(
        'main',
        { class: 'panes' },
        h(
          'nav',
          { class: 'sidebar', 'aria-label': 'Chats' },
          h(
            'form',
            {
              class: 'start-chat',
              'data-testid': 'start-chat-form',
              onsubmit: (event) => this.startChat(event),
            },
            h('label', { for: 'start-chat-input' }, 'Start a chat with user id'),
            h(
              'div',
              { class: 'row' },
              h('input', {
                id: 'start-chat-input',
                required: true,
                autocomplete: 'off',
                'data-testid': 'start-chat-input',
              }),
              h('button', { type: 'submit', class: 'primary', 'data-testid': 'start-chat-submit' }, 'Start'),
            ),
            h('p', { class: 'form-error', role: 'alert', 'data-testid': 'start-chat-error' }),
          ),
          h(
            'div',
            { class: 'chat-link' },
            h('label', { for: 'chat-link-input' }, 'Your chat link'),
            h(
              'div',
              { class: 'row' },
              h('input', {
                id: 'chat-link-input',
                readonly: true,
                value: chatLink(location.origin, session.userId),
                'data-testid': 'chat-link',
                onfocus: (event: Event) => (event.target as HTMLInputElement).select(),
              }),
              h(
                'button',
                { type: 'button', 'data-testid': 'chat-link-copy', onclick: () => void this.copyChatLink() },
                'Copy',
              ),
            ),
            h('p', { class: 'hint', role: 'status', 'data-testid': 'chat-link-status' }),
          ),
          h('h2', { class: 'visually-hidden' }, 'Your chats'),
          h('ul', {
            class: 'chat-list',
            'data-testid': 'chat-list',
            role: 'list',
            // One listener for the list, not one per row on every re-render.
            onclick: (event: Event) => {
              const target = event.target instanceof Element ? event.target : null;
              const roomId = target?.closest<HTMLElement>('[data-testid="chat-item"]')?.dataset.roomId;
              if (roomId !== undefined) this.openRoom(roomId);
            },
          }),
          h('p', { class: 'empty', 'data-testid': 'chat-list-empty' }, 'No chats yet: start one above.'),
        ),
        h('div', { class: 'room-pane', 'data-testid': 'room-pane' }, this.placeholder()),
      ),
      h('div', { class: 'visually-hidden', 'aria-live': 'polite', 'data-testid': 'announcer' }),
    );
    container.replaceChildren(this.root);

    const c = this.connection;
    this.stops.push(
      c.on('connection', (state) => this.onConnection(state)),
      c.on('message', (message) => this.onMessage(message)),
      c.on('read', (event) => this.onRead(event)),
      c.on('typing', (event) => this.onTyping(event)),
      c.on('presence', (event) => this.onPresence(event)),
      c.on('outgoing', (outgoing) => {
        if (this.room?.roomId === outgoing.roomId) this.room.outgoingChanged(outgoing);
      }),
      c.on('error', (error) => console.warn('chat:', error)),
    );
    const onVisible = () => {
      if (document.visibilityState === 'visible') this.markOpenRoomRead();
    };
    document.addEventListener('visibilitychange', onVisible);
    // A file dropped outside the open room would otherwise replace the page with the file.
    const ignoreFileDrop = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
    };
    document.addEventListener('dragover', ignoreFileDrop);
    document.addEventListener('drop', ignoreFileDrop);
    const onPopState = () => void this.followRoute();
    window.addEventListener('popstate', onPopState);
    this.stops.push(
      () => window.removeEventListener('popstate', onPopState),
      () => document.removeEventListener('visibilitychange', onVisible),
      () => document.removeEventListener('dragover', ignoreFileDrop),
      () => document.removeEventListener('drop', ignoreFileDrop),
    );
  }

  async start(): Promise<void> {
    try {
      const me = await this.api.getMe();
      this.renderMe(me);
      await this.refreshRooms();
      this.connection.connect();
      await this.followRoute();
    } catch (error) {
      this.onError(error);
    }
  }

  close(notice?: string): void {
    for (const stop of this.stops) stop();
    for (const timer of [...this.typingTimers.values(), ...this.readTimers.values()]) clearTimeout(timer);
    this.room?.destroy();
    this.connection.close();
    window.chat = undefined;
    this.signOut(notice);
  }

  // ------------------------------------------------------------------ SDK events

  private onConnection(state: ConnectionState): void {
    const banner = part(this.root, 'connection-banner');
    banner.dataset.state = state;
    part(this.root, 'connection-text').textContent = BANNER[state];
    const retry = banner.querySelector('button');
    if (retry) retry.hidden = state !== 'reconnecting';
    if (state !== 'online') return;
    // Events for rooms that are not open were missed while away: the list is cheap to read again.
    if (this.everOnline) void this.refreshRooms().catch((error: unknown) => this.onError(error));
    this.everOnline = true;
  }

  private onMessage(message: Message): void {
    if (message.senderId !== this.session.userId) {
      this.clearTyping(message.roomId);
      this.lastMessageAt.set(message.roomId, Date.now());
    }
    const room = this.rooms.get(message.roomId);
    if (room === undefined) {
      // A room someone else just started with us: its row comes from the list, and the messages that
      // arrive before it are applied on top once it is there.
      const waiting = this.unlisted.get(message.roomId) ?? [];
      this.unlisted.set(message.roomId, [...waiting, message]);
      void this.refreshRooms().catch((error: unknown) => this.onError(error));
      return;
    }
    this.applyToRow(room, message);
    if (this.room?.roomId === room.roomId) this.room.addLive(message);
    this.renderList();
  }

  private applyToRow(room: RoomItem, message: Message): void {
    applyMessage(room, message, this.session.userId, this.isReading(room.roomId));
  }

  private onRead(event: ReadEvent): void {
    if (event.userId === this.session.userId) {
      // Our own pointer moved, from here or another device.
      const room = this.rooms.get(event.roomId);
      if (room) {
        applyRead(room, { messageId: event.messageId }, this.isReading(room.roomId));
        this.renderList();
      }
      return;
    }
    if (this.room?.roomId === event.roomId) this.room.peerRead(event.messageId);
  }

  private onTyping(event: TypingEvent): void {
    if (event.userId === this.session.userId) return;
    // Frames travel through separate invocations: a "typing" sent just before a message may arrive
    // just after it, when it is already stale.
    const sinceMessage = Date.now() - (this.lastMessageAt.get(event.roomId) ?? 0);
    if (event.isTyping && sinceMessage < STALE_TYPING_MS) return;
    this.clearTyping(event.roomId);
    if (event.isTyping) {
      this.typingTimers.set(
        event.roomId,
        setTimeout(() => this.clearTyping(event.roomId), TYPING_SHOWN_MS),
      );
    }
    if (this.room?.roomId === event.roomId) this.room.showTyping(event.isTyping);
    this.renderList();
  }

  private onPresence(event: PresenceEvent): void {
    for (const room of this.rooms.values()) {
      if (room.peer.userId !== event.userId) continue;
      room.peer = {
        ...room.peer,
        online: event.online,
        lastSeenAt: event.lastSeenAt ?? room.peer.lastSeenAt,
      };
      if (this.room?.roomId === room.roomId) this.room.updateHeader();
    }
    this.renderList();
  }

  // ------------------------------------------------------------------ rooms

  /**
   * Reads the chat list again. Calls made while a read is in flight share it and one more read
   * after it, so a burst of messages costs two list requests, not one each.
   */
  private refreshRooms(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          await this.readRoomList();
        } while (this.refreshAgain);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async readRoomList(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { rooms, nextCursor } = await this.api.listRooms({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const room of rooms) {
        const reading = this.isReading(room.roomId);
        const item = mergeListed(this.rooms.get(room.roomId), roomItem(room, this.session.userId), reading);
        this.rooms.set(item.roomId, item);
        // Messages newer than the row's last one were stored after the list was read.
        for (const message of this.unlisted.get(item.roomId) ?? []) this.applyToRow(item, message);
        this.unlisted.delete(item.roomId);
        // The badge of the room being read stays 0; the server's pointer follows.
        if (reading && room.unreadCount > 0) this.scheduleRead(item.roomId);
      }
      if (nextCursor === null) break;
      cursor = nextCursor;
    }
    this.room?.updateHeader();
    this.renderList();
  }

  private async startChat(event: Event): Promise<void> {
    event.preventDefault();
    const input = part<HTMLInputElement>(this.root, 'start-chat-input');
    if (await this.chatWith(input.value.trim(), 'push')) input.value = '';
  }

  /**
   * Opens the chat with `userId`, starting it if needed; false (with the reason shown under the
   * start form) when there is no such user.
   *
   * An id is the token's `sub`: a UUID-shaped id is lowercased (Cognito's subs are lowercase UUIDs);
   * any other id (the local stack's: any letters, digits and `_ . @ + -`) is matched exactly, as the
   * server does, since the room name is built from the ids as they are and "Bob" and "bob" may be two
   * users (see user-ids.ts). A user appears once they have signed in (the profile is made on first use).
   */
  private async chatWith(typed: string, how: 'push' | 'replace'): Promise<boolean> {
    const userId = normalizeUserId(typed);
    const error = part(this.root, 'start-chat-error');
    error.textContent = '';
    if (userId === '') return false;
    if (userId === this.session.userId) {
      error.textContent = 'That is your own user id: give it to someone to chat with you.';
      return false;
    }
    try {
      const { room } = await this.api.startChat(userId);
      const item = roomItem(room, this.session.userId);
      this.rooms.set(item.roomId, this.rooms.get(item.roomId) ?? item);
      this.openRoom(item.roomId, how);
      return true;
    } catch (cause) {
      if (cause instanceof ChatApiError && cause.status === 404) {
        const caseHint = isCaseSensitiveId(userId) ? ' User ids are case-sensitive.' : '';
        error.textContent = `No user “${userId}”.${caseHint} A user can be found once they have signed in.`;
      } else if (cause instanceof ChatApiError && cause.status !== 401) error.textContent = cause.message;
      else this.onError(cause);
      return false;
    }
  }

  /** Shows what the address bar says: called at start and on back/forward. */
  private async followRoute(): Promise<void> {
    const { roomId, withUser } = parseRoute(location.pathname, location.search);
    if (withUser !== undefined) {
      // The link has done its job: the room's own URL replaces it, so reload and back do not start again.
      if (!(await this.chatWith(withUser, 'replace'))) history.replaceState(null, '', LIST_PATH);
      return;
    }
    if (roomId === undefined) {
      if (this.room !== undefined) this.closeRoom('none');
      return;
    }
    if (this.rooms.has(roomId)) {
      this.openRoom(roomId, 'none');
      return;
    }
    // A room of ours beyond the part of the list that was read (or not started yet): start or get it,
    // the very room the address names. A failure that is no answer about the room (the network, a
    // 5xx) leaves the address alone, so a reload tries again.
    const peer = peerIn(roomId, this.session.userId);
    if (peer !== undefined) {
      try {
        const { room } = await this.api.startChat(peer);
        if (room.roomId === roomId) {
          this.rooms.set(roomId, this.rooms.get(roomId) ?? roomItem(room, this.session.userId));
          this.openRoom(roomId, 'none');
          return;
        }
      } catch (cause) {
        if (
          !(cause instanceof ChatApiError) ||
          cause.status === 401 ||
          cause.status >= 500 ||
          cause.status === 0
        ) {
          this.onError(cause);
          return;
        }
      }
    }
    // Not one of ours (another user's link, or signed in as someone else): back to the list.
    if (this.room !== undefined) this.closeRoom('none');
    history.replaceState(null, '', LIST_PATH);
    part(this.root, 'room-pane').replaceChildren(
      h('p', { class: 'placeholder', 'data-testid': 'room-not-found' }, 'That chat is not one of yours.'),
    );
  }

  private async copyChatLink(): Promise<void> {
    const input = part<HTMLInputElement>(this.root, 'chat-link');
    const status = part(this.root, 'chat-link-status');
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = 'Copied.';
    } catch {
      // No clipboard permission (or not a secure context): leave it selected for Ctrl+C.
      input.focus();
      input.select();
      status.textContent = 'Press Ctrl+C (⌘C on a Mac) to copy.';
    }
  }

  /**
   * Opens the room; `how` says what the address bar does: a new entry (a click), replace the
   * current one (a link that led here), or nothing (it already says this room: start, back/forward).
   */
  private openRoom(roomId: string, how: 'push' | 'replace' | 'none' = 'push'): void {
    const room = this.rooms.get(roomId);
    if (room === undefined) return;
    this.setPath(roomPath(roomId), how);
    if (this.room?.roomId === roomId) {
      this.room.focusComposer();
      return;
    }
    this.room?.destroy();
    this.clearTyping(roomId);
    this.room = new RoomView(room, {
      api: this.api,
      connection: this.connection,
      me: this.session.userId,
      announce: (text) => {
        part(this.root, 'announcer').textContent = text;
      },
      markRead: () => this.scheduleRead(roomId),
      onBack: () => this.closeRoom('push'),
      onError: (error) => this.onError(error),
    });
    part(this.root, 'room-pane').replaceChildren(this.room.element);
    this.root.classList.add('room-open');
    // Reading the newest page moves the read pointer on the server.
    room.unreadCount = 0;
    this.renderList();
    this.room.focusComposer();
    void this.room.load();
  }

  private closeRoom(how: 'push' | 'none'): void {
    this.setPath(LIST_PATH, how);
    const roomId = this.room?.roomId;
    this.room?.destroy();
    this.room = undefined;
    this.root.classList.remove('room-open');
    part(this.root, 'room-pane').replaceChildren(this.placeholder());
    this.renderList();
    if (roomId !== undefined)
      this.root.querySelector<HTMLElement>(`[data-room-id="${CSS.escape(roomId)}"]`)?.focus();
  }

  private setPath(path: string, how: 'push' | 'replace' | 'none'): void {
    if (how === 'none' || (location.pathname === path && location.search === '')) return;
    if (how === 'push') history.pushState(null, '', path);
    else history.replaceState(null, '', path);
  }

  private isReading(roomId: string): boolean {
    return this.room?.roomId === roomId && document.visibilityState === 'visible';
  }

  /** The page came back into view: the open room is being read again, so its badge goes now. */
  private markOpenRoomRead(): void {
    const room = this.room && this.rooms.get(this.room.roomId);
    if (room === undefined || room.unreadCount === 0) return;
    room.unreadCount = 0;
    this.renderList();
    this.scheduleRead(room.roomId);
  }

  /** Moves the read pointer to the newest message shown, at most once per burst of messages. */
  private scheduleRead(roomId: string): void {
    if (this.readTimers.has(roomId)) return;
    this.readTimers.set(
      roomId,
      setTimeout(async () => {
        this.readTimers.delete(roomId);
        const messageId = this.room?.roomId === roomId ? this.room.newestFromPeer() : undefined;
        const room = this.rooms.get(roomId);
        if (messageId === undefined || room === undefined) return;
        try {
          const answer = await this.api.markRead(roomId, messageId);
          // While the room is read, newer messages than `messageId` are shown and read in turn: the
          // count in the answer would flicker the badge up until their own read answers.
          applyRead(
            room,
            { messageId: answer.lastReadMessageId, unreadCount: answer.unreadCount },
            this.isReading(roomId),
          );
          this.renderList();
        } catch (error) {
          this.onError(error);
        }
      }, READ_DEBOUNCE_MS),
    );
  }

  private clearTyping(roomId: string): void {
    clearTimeout(this.typingTimers.get(roomId));
    if (this.typingTimers.delete(roomId)) this.renderList();
  }

  // ------------------------------------------------------------------ rendering

  private renderMe(me: Profile): void {
    if (this.avatarControl) {
      this.avatarControl.show(me);
      part(this.root, 'me-name').textContent = me.displayName;
      return;
    }
    this.avatarControl = new AvatarControl(me, {
      api: this.api,
      onProfile: (profile) => this.renderMe(profile),
      onError: (error) => this.onError(error),
    });
    part(this.root, 'me').replaceChildren(
      this.avatarControl.element,
      h('span', { class: 'me-name', 'data-testid': 'me-name' }, me.displayName),
    );
  }

  private renderList(): void {
    renderChatList(part(this.root, 'chat-list'), {
      rooms: this.rooms.values(),
      me: this.session.userId,
      openRoomId: this.room?.roomId,
      typingRoomIds: new Set(this.typingTimers.keys()),
    });
    part(this.root, 'chat-list-empty').hidden = this.rooms.size > 0;
    const unread = [...this.rooms.values()].reduce((sum, room) => sum + room.unreadCount, 0);
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

  private placeholder(): HTMLElement {
    return h('p', { class: 'placeholder' }, 'Pick a chat, or start one with a user id.');
  }

  private onError(error: unknown): void {
    if (error instanceof ChatApiError && error.status === 401) {
      this.close('Your session has expired. Sign in again.');
      return;
    }
    console.error(error);
  }
}
