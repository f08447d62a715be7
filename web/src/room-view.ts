/** One open room: its history (older pages on scroll up), live messages with ticks, typing, the composer. */
import {
  ATTACHMENT_TYPES,
  type Attachment,
  type ChatApi,
  type ChatConnection,
  type HistoryMessage,
  MAX_CONTENT_LENGTH,
  type Message,
  type OutgoingMessage,
} from '../sdk/index.js';
import { attachmentList } from './attachment-view.js';
import { append, h, part } from './dom.js';
import { canSend, messagePreview } from './files.js';
import { avatar, contentLimit, lastSeen, paperclipIcon } from './format.js';
import { linkified } from './links.js';
import { anchorOfFailed, compareBubbles, type RoomItem } from './model.js';
import { PendingFiles, releaseLocal } from './pending-files.js';
import { clockTime, dayLabel, fullTime, placeEntries } from './timeline.js';

export interface RoomViewDeps {
  readonly api: ChatApi;
  readonly connection: ChatConnection;
  readonly me: string;
  /** Tells screen reader users about a new message. */
  readonly announce: (text: string) => void;
  /** The newest message seen here, to move the read pointer to. */
  readonly markRead: (messageId: string) => void;
  readonly onBack: () => void;
  readonly onError: (error: unknown) => void;
}

interface Bubble {
  key: string;
  readonly order: number;
  readonly mine: boolean;
  message?: Message;
  outgoing?: OutgoingMessage;
  /** My files as picked, shown until the server's copies (with their URLs) arrive. */
  local?: readonly Attachment[];
  /** Set when the message failed: see `compareBubbles`. */
  anchor?: string;
  readFlag: boolean;
  /** The last of its sender group: it shows the group's time and tick (see `placeEntries`). */
  groupEnd: boolean;
  readonly element: HTMLLIElement;
}

type Status = 'pending' | 'sent' | 'read' | 'failed' | 'received';

const TICKS: Record<Status, [symbol: string, label: string]> = {
  pending: ['…', 'Sending'],
  sent: ['✓', 'Sent'],
  read: ['✓✓', 'Read'],
  failed: ['!', 'Not sent'],
  received: ['', ''],
};

/** Typing is announced at most this often, and stopped after this long without a keystroke. */
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
/** A typing indicator whose "stopped" frame got lost clears itself. */
const TYPING_SHOWN_MS = 8000;

/** What the file picker offers: the allowed types, and their extensions for systems that do not know a type. */
const PICKER_ACCEPT = [
  ...ATTACHMENT_TYPES,
  '.pdf',
  '.txt',
  '.zip',
  '.doc',
  '.docx',
  '.xls',
  '.xlsx',
  '.ppt',
  '.pptx',
].join(',');

const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') === true;

/** Within this many pixels of the end the history counts as read to the bottom. */
const AT_BOTTOM_PX = 48;

export class RoomView {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly historyStatus: HTMLElement;
  private readonly typingIndicator: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly counter: HTMLElement;
  private readonly limitNote: HTMLElement;
  private readonly newMessagesPill: HTMLButtonElement;
  /** Day separators shown, by day key: kept across renders so the list does not churn. */
  private readonly separators = new Map<string, HTMLLIElement>();
  private readonly sendButton: HTMLButtonElement;
  private readonly fileInput: HTMLInputElement;
  private readonly files: PendingFiles;
  /** dragenter/dragleave fire for every child crossed: the overlay shows while this is above 0. */
  private dragDepth = 0;

  /** Keyed by messageId, or by `c:{clientMessageId}` until the server acknowledges the message. */
  private readonly bubbles = new Map<string, Bubble>();
  private readonly pendingByClientId = new Map<string, Bubble>();
  private order = 0;
  /** The newest of my messages the other participant has read. */
  private peerReadUpTo = '';
  private hasMore = false;
  private loadingOlder = false;
  private destroyed = false;
  private typingSentAt = 0;
  private typingIdleTimer: ReturnType<typeof setTimeout> | undefined;
  private typingShownTimer: ReturnType<typeof setTimeout> | undefined;
  private midnightTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly room: RoomItem,
    private readonly deps: RoomViewDeps,
  ) {
    this.files = new PendingFiles({
      upload: (file, onProgress, signal) => deps.api.uploadAttachment(room.roomId, file, onProgress, signal),
      onChange: () => this.updateComposer(),
      onError: deps.onError,
    });
    this.element = h(
      'section',
      {
        class: 'room',
        'data-testid': 'room-view',
        'data-room-id': room.roomId,
        'aria-labelledby': 'room-title',
      },
      h(
        'header',
        { class: 'room-header' },
        h(
          'button',
          {
            type: 'button',
            class: 'back',
            'aria-label': 'Back to chats',
            'data-testid': 'room-back',
            onclick: deps.onBack,
          },
          '←',
        ),
        h('span', { class: 'room-avatar' }),
        h(
          'div',
          {},
          h('h2', { id: 'room-title', 'data-testid': 'room-title' }),
          h('p', { class: 'room-status', 'data-testid': 'room-status' }),
        ),
      ),
      h(
        'div',
        { class: 'scroller-wrap' },
        h(
          'div',
          {
            class: 'scroller',
            'data-testid': 'message-scroller',
            tabindex: 0,
            role: 'region',
            'aria-label': 'Message history',
          },
          h('div', { class: 'history-status', 'data-testid': 'history-status' }),
          h('ol', { class: 'messages', 'data-testid': 'message-list', 'aria-label': 'Messages' }),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'new-messages',
            hidden: true,
            'data-testid': 'new-messages',
            onclick: () => this.scrollToBottom(),
          },
          'New messages ↓',
        ),
      ),
      h('p', { class: 'typing', 'data-testid': 'typing-indicator', 'aria-live': 'polite' }),
      this.files.element,
      h(
        'form',
        { class: 'composer', 'data-testid': 'composer', onsubmit: (event) => this.submit(event) },
        h(
          'button',
          {
            type: 'button',
            class: 'attach',
            'aria-label': 'Attach files',
            title: 'Attach files',
            'data-testid': 'attach-button',
            onclick: () => this.fileInput.click(),
          },
          paperclipIcon(),
        ),
        h('input', {
          type: 'file',
          multiple: true,
          accept: PICKER_ACCEPT,
          hidden: true,
          'aria-label': 'Files to attach',
          'data-testid': 'file-input',
        }),
        h('label', { for: 'composer-input', class: 'visually-hidden' }, 'Message'),
        h('textarea', {
          id: 'composer-input',
          rows: 1,
          placeholder: 'Message',
          'aria-describedby': 'composer-help composer-limit',
          'data-testid': 'composer-input',
        }),
        h(
          'span',
          { id: 'composer-help', class: 'visually-hidden' },
          'Enter sends, Shift+Enter adds a new line.',
        ),
        h('span', { id: 'composer-counter', class: 'counter', 'data-testid': 'char-counter', hidden: true }),
        h(
          'button',
          {
            type: 'submit',
            class: 'primary',
            'data-testid': 'composer-send',
            'aria-describedby': 'composer-limit',
            disabled: true,
          },
          'Send',
        ),
      ),
      h('p', {
        id: 'composer-limit',
        class: 'limit-note',
        role: 'status',
        'data-testid': 'composer-limit',
      }),
      h(
        'div',
        { class: 'drop-hint', 'aria-hidden': 'true', 'data-testid': 'drop-overlay', hidden: true },
        'Drop files to attach them',
      ),
    );
    this.scroller = part(this.element, 'message-scroller');
    this.list = part(this.element, 'message-list');
    this.historyStatus = part(this.element, 'history-status');
    this.typingIndicator = part(this.element, 'typing-indicator');
    this.input = part(this.element, 'composer-input');
    this.counter = part(this.element, 'char-counter');
    this.limitNote = part(this.element, 'composer-limit');
    this.newMessagesPill = part(this.element, 'new-messages');
    this.sendButton = part(this.element, 'composer-send');
    this.fileInput = part(this.element, 'file-input');

    this.fileInput.addEventListener('change', () => {
      this.files.add(this.fileInput.files ?? []);
      // The same file may be picked again (after removing it).
      this.fileInput.value = '';
    });
    this.listenForDrops();
    // Escape leaves the room for the chat list, as in other chat apps (a menu or dialog that handles
    // Escape itself prevents the default first).
    this.element.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || event.defaultPrevented || event.isComposing) return;
      event.preventDefault();
      deps.onBack();
    });
    this.input.addEventListener('paste', (event) => {
      const pasted = [...(event.clipboardData?.files ?? [])];
      if (pasted.length === 0) return;
      this.files.add(pasted);
      // A pasted screenshot also comes as text in some browsers (its file name): keep only the file.
      if (!event.clipboardData?.types.includes('text/plain')) event.preventDefault();
    });

    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < 120) void this.loadOlder();
      if (this.atBottom()) this.newMessagesPill.hidden = true;
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener('input', () => {
      this.updateComposer();
      this.signalTyping();
    });
    this.input.addEventListener('blur', () => this.stopTyping());
    this.updateHeader();
    this.updateComposer();
    this.relabelDaysAtMidnight();
  }

  /** At local midnight "Today" becomes "Yesterday" (and so on) while the room stays open. */
  private relabelDaysAtMidnight(): void {
    const now = new Date();
    const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
    this.midnightTimer = setTimeout(
      () => {
        if (this.destroyed) return;
        this.renderOrder();
        this.relabelDaysAtMidnight();
      },
      midnight.getTime() - now.getTime() + 1000,
    );
  }

  get roomId(): string {
    return this.room.roomId;
  }

  focusComposer(): void {
    this.input.focus();
  }

  private atBottom(): boolean {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < AT_BOTTOM_PX;
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.newMessagesPill.hidden = true;
  }

  /** The newest page; reading it moves our read pointer on the server. */
  async load(): Promise<void> {
    this.historyStatus.textContent = 'Loading…';
    // Watched before the page is asked for: a message sent and acknowledged while it loads then
    // moves the catch-up point too. Watched only after, the ack would not count, and with a page read
    // before that message was stored, the next reconnect would catch up from the newest page only
    // (missing anything older than it).
    this.deps.connection.watchRoom(this.roomId);
    try {
      const page = await this.deps.api.getMessages(this.roomId);
      if (this.destroyed) return;
      this.hasMore = page.hasMore;
      this.deps.connection.watchRoom(this.roomId, page.messages);
      this.addMessages(page.messages, 'append');
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.updateHistoryStatus();
      await this.fillScroller();
    } catch (error) {
      if (this.destroyed) return;
      // Nothing shown, so nothing to catch up from: a reconnect would pour the newest page in live
      // under "Could not load". Leaving the room and opening it again (or a reload) loads it.
      this.deps.connection.unwatchRoom(this.roomId);
      this.historyStatus.textContent = 'Could not load the messages.';
      this.deps.onError(error);
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.files.destroy();
    for (const bubble of this.bubbles.values()) if (bubble.local) releaseLocal(bubble.local);
    this.stopTyping();
    clearTimeout(this.typingShownTimer);
    clearTimeout(this.midnightTimer);
    this.deps.connection.unwatchRoom(this.roomId);
  }

  /** A message from the SDK: new, our own acknowledged, or caught up after a reconnect. */
  addLive(message: Message): void {
    const isNew = !this.bubbles.has(message.messageId);
    const wasAtBottom = this.atBottom();
    this.addMessages([message], 'append');
    if (!isNew || message.senderId === this.deps.me) return;
    // Scrolled up reading older messages: the view stays where it is, and a pill says there is more.
    if (!wasAtBottom) this.newMessagesPill.hidden = false;
    this.showTyping(false);
    this.deps.announce(`${this.room.peer.displayName}: ${messagePreview(message)}`);
    if (document.visibilityState === 'visible') this.deps.markRead(message.messageId);
  }

  outgoingChanged(outgoing: OutgoingMessage): void {
    const bubble = this.pendingByClientId.get(outgoing.clientMessageId);
    if (bubble === undefined) return;
    bubble.outgoing = outgoing;
    if (outgoing.message !== undefined) {
      this.addMessages([outgoing.message], 'append');
      return;
    }
    // Otherwise it sits with the pending ones, after every stored message, and later messages would
    // be stored and shown above it: it stays where it is now instead.
    if (outgoing.status === 'failed')
      bubble.anchor ??= anchorOfFailed(
        [...this.bubbles.values()].flatMap(({ message }) => (message ? [message.messageId] : [])),
      );
    this.renderBubble(bubble);
    this.renderOrder();
  }

  /** The other participant read up to `messageId`: everything of ours up to it gets ✓✓. */
  peerRead(messageId: string): void {
    if (messageId <= this.peerReadUpTo) return;
    this.peerReadUpTo = messageId;
    for (const bubble of this.bubbles.values()) if (bubble.mine) this.renderBubble(bubble);
  }

  /** The newest message from the other participant, if any is shown. */
  newestFromPeer(): string | undefined {
    let newest: string | undefined;
    for (const { message } of this.bubbles.values()) {
      if (
        message &&
        message.senderId !== this.deps.me &&
        (newest === undefined || message.messageId > newest)
      ) {
        newest = message.messageId;
      }
    }
    return newest;
  }

  showTyping(isTyping: boolean): void {
    clearTimeout(this.typingShownTimer);
    this.typingIndicator.textContent = isTyping ? `${this.room.peer.displayName} is typing…` : '';
    if (isTyping) this.typingShownTimer = setTimeout(() => this.showTyping(false), TYPING_SHOWN_MS);
  }

  updateHeader(): void {
    const { peer } = this.room;
    part(this.element, 'room-title').textContent = peer.displayName;
    // A peer never seen online (no lastSeenAt yet) is simply offline.
    const status = peer.online ? 'online' : peer.lastSeenAt !== null ? lastSeen(peer.lastSeenAt) : 'offline';
    part(this.element, 'room-status').textContent = status;
    this.element.querySelector('.room-avatar')?.replaceChildren(avatar(peer));
  }

  // ------------------------------------------------------------------ messages

  private addMessages(messages: readonly Message[], where: 'append' | 'prepend'): void {
    const { scrollHeight, scrollTop } = this.scroller;
    const atBottom = this.atBottom();
    for (const message of messages) this.upsert(message);
    this.renderOrder();
    if (where === 'prepend')
      this.scroller.scrollTop = this.scroller.scrollHeight - (scrollHeight - scrollTop);
    else if (atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private upsert(message: Message): void {
    const clientMessageId = message.clientMessageId;
    const pending = clientMessageId === undefined ? undefined : this.pendingByClientId.get(clientMessageId);
    if (pending !== undefined && clientMessageId !== undefined) {
      // Our own message, acknowledged: the pending bubble becomes the message's.
      this.pendingByClientId.delete(clientMessageId);
      this.bubbles.delete(pending.key);
      if (this.bubbles.has(message.messageId)) pending.element.remove();
      else {
        pending.key = message.messageId;
        this.bubbles.set(pending.key, pending);
      }
    }
    const bubble =
      this.bubbles.get(message.messageId) ??
      this.createBubble(message.messageId, message.senderId === this.deps.me);
    bubble.message = message;
    if ((message as Partial<HistoryMessage>).read === true) bubble.readFlag = true;
    if (bubble.mine && bubble.readFlag && message.messageId > this.peerReadUpTo)
      this.peerReadUpTo = message.messageId;
    this.renderBubble(bubble);
  }

  private createBubble(key: string, mine: boolean): Bubble {
    const bubble: Bubble = {
      key,
      order: this.order++,
      mine,
      readFlag: false,
      groupEnd: true,
      element: h('li', { class: `bubble ${mine ? 'mine' : 'theirs'}`, 'data-testid': 'message' }),
    };
    this.bubbles.set(key, bubble);
    return bubble;
  }

  private status(bubble: Bubble): Status {
    if (!bubble.mine) return 'received';
    if (bubble.outgoing?.status === 'failed') return 'failed';
    if (bubble.message === undefined) return 'pending';
    return bubble.readFlag || bubble.message.messageId <= this.peerReadUpTo ? 'read' : 'sent';
  }

  private renderBubble(bubble: Bubble): void {
    const { element, message, outgoing } = bubble;
    const status = this.status(bubble);
    const content = (message?.content ?? outgoing?.content ?? '').trim();
    const attachments = message?.attachments ?? bubble.local ?? [];
    const sentAt = message?.sentAt;
    const [tick, tickLabel] = TICKS[status];
    element.dataset.status = status;
    if (message !== undefined) element.dataset.messageId = message.messageId;
    const clientMessageId = message?.clientMessageId ?? outgoing?.clientMessageId;
    if (clientMessageId !== undefined) element.dataset.clientMessageId = clientMessageId;
    // The full date and time on hover anywhere on the bubble, grouped ones included.
    if (sentAt !== undefined) element.title = fullTime(sentAt);
    element.classList.toggle('group-end', bubble.groupEnd);
    element.replaceChildren();
    append(
      element,
      h('span', { class: 'visually-hidden' }, bubble.mine ? 'You:' : `${this.room.peer.displayName}:`),
      attachments.length > 0 && attachmentList(attachments),
      content !== '' && h('p', { class: 'content', 'data-testid': 'message-content' }, linkified(content)),
      h(
        'span',
        // Inside a group only the last bubble shows the time and tick; screen readers hear each.
        { class: bubble.groupEnd ? 'meta' : 'meta visually-hidden' },
        sentAt !== undefined && h('time', { datetime: sentAt, title: fullTime(sentAt) }, clockTime(sentAt)),
        tick !== '' &&
          h(
            'span',
            {
              class: `tick ${status}`,
              role: 'img',
              'aria-label': tickLabel,
              'data-testid': 'message-status',
            },
            tick,
          ),
      ),
      status === 'failed' &&
        h(
          'p',
          { class: 'error', 'data-testid': 'message-error' },
          `Not sent: ${outgoing?.error?.message ?? ''}`,
        ),
    );
    // The server's copies are shown now: the picked files' previews can go.
    if (message?.attachments !== undefined && bubble.local !== undefined) {
      releaseLocal(bubble.local);
      bubble.local = undefined;
    }
  }

  /**
   * Puts the list in the order `compareBubbles` gives, with a separator above the first message of
   * each day and the time and tick on the last bubble of each sender group.
   */
  private renderOrder(): void {
    const ordered = [...this.bubbles.values()].sort((a, b) =>
      compareBubbles(
        { order: a.order, messageId: a.message?.messageId, anchor: a.anchor },
        { order: b.order, messageId: b.message?.messageId, anchor: b.anchor },
      ),
    );
    const now = new Date();
    const placements = placeEntries(
      ordered.map((bubble) => ({
        senderId: bubble.mine ? this.deps.me : this.room.peer.userId,
        sentAt: bubble.message?.sentAt,
      })),
      { now },
    );
    const wanted: HTMLLIElement[] = [];
    const days = new Set<string>();
    ordered.forEach((bubble, index) => {
      const placement = placements[index];
      if (placement === undefined) return;
      if (placement.newDay !== undefined) {
        days.add(placement.newDay);
        wanted.push(this.separator(placement.newDay, bubble.message?.sentAt ?? now.toISOString(), now));
      }
      bubble.element.classList.toggle('group-start', placement.groupStart);
      if (bubble.groupEnd !== placement.groupEnd) {
        bubble.groupEnd = placement.groupEnd;
        this.renderBubble(bubble);
      }
      wanted.push(bubble.element);
    });
    for (const [day, separator] of this.separators)
      if (!days.has(day)) {
        separator.remove();
        this.separators.delete(day);
      }
    wanted.forEach((element, index) => {
      if (this.list.children[index] !== element)
        this.list.insertBefore(element, this.list.children[index] ?? null);
    });
  }

  /** The separator for `day` ("Today", "Yesterday", a date), its words brought up to date. */
  private separator(day: string, sentAt: string, now: Date): HTMLLIElement {
    let separator = this.separators.get(day);
    if (separator === undefined) {
      separator = h('li', { class: 'day-separator', 'data-testid': 'day-separator', 'data-day': day });
      this.separators.set(day, separator);
    }
    const label = dayLabel(sentAt, { now });
    if (separator.textContent !== label) separator.replaceChildren(h('time', { datetime: day }, label));
    return separator;
  }

  private async loadOlder(): Promise<void> {
    if (!this.hasMore || this.loadingOlder || this.destroyed) return;
    const oldest = [...this.bubbles.values()].reduce<string | undefined>(
      (min, { message }) =>
        message && (min === undefined || message.messageId < min) ? message.messageId : min,
      undefined,
    );
    if (oldest === undefined) return;
    this.loadingOlder = true;
    this.historyStatus.textContent = 'Loading older messages…';
    try {
      const page = await this.deps.api.getMessages(this.roomId, { before: oldest });
      if (this.destroyed) return;
      this.hasMore = page.hasMore;
      this.addMessages(page.messages, 'prepend');
    } catch (error) {
      this.deps.onError(error);
    } finally {
      this.loadingOlder = false;
      this.updateHistoryStatus();
    }
    await this.fillScroller();
  }

  /** Until the history overflows the view there is nothing to scroll: fetch older pages now. */
  private async fillScroller(): Promise<void> {
    if (this.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) await this.loadOlder();
  }

  private updateHistoryStatus(): void {
    if (this.hasMore) {
      this.historyStatus.replaceChildren(
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-testid': 'load-older',
            onclick: () => void this.loadOlder(),
          },
          'Load older messages',
        ),
      );
    } else {
      this.historyStatus.textContent = `This is the beginning of your chat with ${this.room.peer.displayName}.`;
    }
  }

  // ------------------------------------------------------------------ composer

  private submit(event: Event): void {
    event.preventDefault();
    this.send();
  }

  private send(): void {
    const content = this.input.value;
    const { length, overNote } = contentLimit(content, MAX_CONTENT_LENGTH);
    if (!canSend(length, this.files.states, MAX_CONTENT_LENGTH)) {
      // Enter on a text that is too long: say it again, where a screen reader hears it.
      if (overNote !== undefined) this.limitNote.textContent = `Not sent: ${overNote}`;
      return;
    }
    // The message itself ends the typing indicator on the other side; a separate "stopped" frame
    // could overtake the earlier "typing" frame and leave the indicator on.
    clearTimeout(this.typingIdleTimer);
    this.typingSentAt = 0;
    const { refs, local } = this.files.take();
    const outgoing = this.deps.connection.send(this.roomId, content, refs);
    const bubble = this.createBubble(`c:${outgoing.clientMessageId}`, true);
    bubble.outgoing = outgoing;
    if (local.length > 0) bubble.local = local;
    this.pendingByClientId.set(outgoing.clientMessageId, bubble);
    this.renderBubble(bubble);
    this.renderOrder();
    this.scrollToBottom();
    this.input.value = '';
    this.updateComposer();
  }

  private updateComposer(): void {
    const { length, near, overNote } = contentLimit(this.input.value, MAX_CONTENT_LENGTH);
    this.counter.textContent = `${length} / ${MAX_CONTENT_LENGTH}`;
    this.counter.hidden = !near;
    this.counter.classList.toggle('over', overNote !== undefined);
    this.limitNote.textContent = overNote ?? '';
    this.sendButton.disabled = !canSend(length, this.files.states, MAX_CONTENT_LENGTH);
    // Grow with the text up to a few lines, then scroll inside.
    this.input.style.height = '';
    if (this.input.value !== '') this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 160)}px`;
  }

  /** Files dropped anywhere on the open room are attached; an overlay says so while they are dragged over. */
  private listenForDrops(): void {
    const overlay = part(this.element, 'drop-overlay');
    const show = (shown: boolean) => {
      overlay.hidden = !shown;
      this.element.classList.toggle('dragging', shown);
    };
    this.element.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.dragDepth += 1;
      show(true);
    });
    this.element.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return;
      // Without this the browser would open the file instead of dropping it here.
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    });
    this.element.addEventListener('dragleave', (event) => {
      if (!hasFiles(event)) return;
      this.dragDepth = Math.max(0, this.dragDepth - 1);
      if (this.dragDepth === 0) show(false);
    });
    this.element.addEventListener('drop', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.dragDepth = 0;
      show(false);
      this.files.add(event.dataTransfer?.files ?? []);
      this.input.focus();
    });
  }

  private signalTyping(): void {
    if (this.input.value.trim() === '') {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT_MS && this.deps.connection.typing(this.roomId, true)) {
      this.typingSentAt = now;
    }
    clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdleTimer);
    if (this.typingSentAt === 0) return;
    this.typingSentAt = 0;
    this.deps.connection.typing(this.roomId, false);
  }
}
