/**
 * The chat's rules, as four services over the same ports: rooms, messaging, presence and profiles.
 * Everything outside (DynamoDB, API Gateway, time, ids) comes in through the ports, so they run
 * unchanged in unit tests, on Lambda and on the local stack. A handler builds only the service it
 * uses (lambdas/shared/service.ts), which keeps its bundle small; this composite builds all four
 * from one set of dependencies, for tests and tools.
 */
import { Deliveries, type FanOutSettings } from './deliveries.js';
import type { AttachmentChecker, DownloadSigner } from './files.js';
import { MessagingService } from './messaging.js';
import type { ChatStore, Clock, IdGenerator, Logger, Metrics, Notifier } from './ports.js';
import { PresenceService } from './presence.js';
import { type AvatarRemoval, ProfileService } from './profiles.js';
import { RoomService } from './rooms.js';

export interface ChatServiceDeps {
  readonly store: ChatStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly newMessageId: IdGenerator;
  readonly logger: Logger;
  readonly files: {
    readonly signer: DownloadSigner;
    readonly checker: AttachmentChecker;
    readonly avatars: AvatarRemoval;
  };
  readonly fanOut?: FanOutSettings;
  readonly metrics?: Metrics;
}

export class ChatService {
  readonly rooms: RoomService;
  readonly messaging: MessagingService;
  readonly presence: PresenceService;
  readonly profiles: ProfileService;

  constructor(deps: ChatServiceDeps) {
    const deliveries = new Deliveries(
      deps.store,
      deps.notifier,
      deps.clock,
      deps.logger,
      deps.fanOut,
      deps.metrics,
    );
    this.rooms = new RoomService(deps.store, deps.files.signer, deps.clock);
    this.messaging = new MessagingService(
      deps.store,
      deliveries,
      deps.files,
      deps.clock,
      deps.newMessageId,
      deps.logger,
      deps.metrics,
    );
    this.presence = new PresenceService(deps.store, deliveries, deps.clock);
    this.profiles = new ProfileService(deps.store, deps.files);
  }
}
