/**
 * DynamoDB requests and capacity units of one 1:1 send, counted (not estimated) by the middleware of
 * lib/ddb-meter.ts on the client the product's DynamoDB stores uses, with the product's MessagingService
 * posting through the local stack's management API. Each participant has one connection: the
 * canonical 1:1 room. The item sizes are computed too, as a cross-check of what DynamoDB Local
 * reports and to show what a longer message costs.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type WebSocket from 'ws';
import type { LocalStack } from '../../local/stack.js';
import type { BenchConfig } from '../config.js';
import type { MeterSnapshot } from '../lib/ddb-meter.js';
import type { Deadline } from '../lib/deadline.js';
import { eventualReadUnits, itemSize, writeUnits } from '../lib/item-size.js';
import {
  benchDb,
  benchService,
  benchStore,
  closeAll,
  connect,
  localNotifier,
  openConnections,
  signIn,
  startChat,
  tableNamesOf,
} from '../lib/local.js';
import { round, roundSummary, type Summary, summarize } from '../lib/stats.js';

export interface DdbResult {
  readonly sends: number;
  /** HTTP requests to DynamoDB per send (mean over the sends; retries would count). */
  readonly roundTripsPerSend: number;
  readonly commandsPerSend: Readonly<Record<string, number>>;
  /** As DynamoDB Local reports them (ReturnConsumedCapacity: INDEXES). */
  readonly writeUnitsPerSend: number;
  readonly readUnitsPerSend: number;
  readonly unitsByCommand: Readonly<Record<string, number>>;
  readonly capacitySource: string;
  /** The same from the item sizes (AWS's rules), as a cross-check. */
  readonly itemSizes: {
    readonly messageBytes: number;
    readonly roomBytes: number;
    readonly userBytes: number;
    readonly computedWriteUnits: number;
    readonly computedReadUnits: number;
  };
  /** Posts to the management API per send (the recipient's one connection). */
  readonly postsPerSend: number;
  readonly deliveredToRecipient: number;
  /** Wall time of MessagingService.sendMessage in this section (1 connection each), ms. */
  readonly sendMs: Summary;
  /**
   * CPU ms of this process per send: the send path's own work (domain, DynamoDB stores, the SDK
   * clients' request pipeline and signing, the post) plus the emulator's @connections side of the
   * post. DynamoDB Local's work is in its own process and not included.
   */
  readonly cpuMsPerSend: number;
}

interface SendSample {
  readonly snapshot: MeterSnapshot;
  readonly ms: number;
}

export async function measureDdb(
  stack: LocalStack,
  config: BenchConfig,
  deadline: Deadline,
): Promise<DdbResult> {
  const [a, b] = ['bench-rt-a', 'bench-rt-b'];
  const tokenA = await signIn(stack, a);
  const tokenB = await signIn(stack, b);
  const roomId = await startChat(stack, tokenA, b);
  const sockets: WebSocket[] = [];
  try {
    sockets.push(await connect(stack, tokenA), await connect(stack, tokenB));
    let delivered = 0;
    sockets[1]?.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'chat_message') delivered++;
    });
    const senderConnection = (await openConnections(stack)).find((c) => c.userId === a)?.connectionId;
    if (senderConnection === undefined) throw new Error(`no open connection of ${a}`);

    const db = benchDb(stack, 'roundTrips');
    let posts = 0;
    const notifier = localNotifier(stack);
    const countingNotifier = {
      post: (connectionId: string, payload: string) => {
        posts++;
        return notifier.post(connectionId, payload);
      },
    };
    const service = benchService(benchStore(db, stack), countingNotifier);
    const caller = { userId: a, connectionId: senderConnection };
    let sequence = 0;
    const sendOne = async (): Promise<SendSample> => {
      db.meter.reset();
      const started = performance.now();
      await service.sendMessage(caller, {
        roomId,
        content: config.content,
        clientMessageId: `rt-${sequence++}`,
      });
      return { ms: performance.now() - started, snapshot: db.meter.snapshot() };
    };
    for (let i = 0; i < config.ddb.warmup; i++) await sendOne(); // warm-up: connections, JIT
    posts = 0;
    delivered = 0;
    const samples: SendSample[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < config.ddb.sends && !deadline.expired; i++) samples.push(await sendOne());
    const cpu = process.cpuUsage(cpuBefore);
    if (samples.length === 0) throw new Error('no send measured before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 200)); // last frames in flight

    const n = samples.length;
    const mean = (pick: (s: MeterSnapshot) => number) =>
      round(samples.reduce((sum, s) => sum + pick(s.snapshot), 0) / n, 3);
    const commands: Record<string, number> = {};
    const units: Record<string, number> = {};
    for (const { snapshot } of samples) {
      for (const [name, count] of Object.entries(snapshot.commands))
        commands[name] = (commands[name] ?? 0) + count;
      for (const [name, u] of Object.entries(snapshot.unitsByCommand)) units[name] = (units[name] ?? 0) + u;
    }
    for (const name of Object.keys(commands)) commands[name] = round((commands[name] ?? 0) / n, 3);
    for (const name of Object.keys(units)) units[name] = round((units[name] ?? 0) / n, 3);
    const unreported = samples.reduce((sum, s) => sum + s.snapshot.unreported, 0);

    // Cross-check from the stored items.
    const names = tableNamesOf(stack);
    const { Items: messages } = await db.doc.send(
      new QueryCommand({
        TableName: names.messages,
        KeyConditionExpression: 'roomId = :r',
        ExpressionAttributeValues: { ':r': roomId },
        Limit: 1,
      }),
    );
    const { Item: room } = await db.doc.send(
      new GetCommand({ TableName: names.rooms, Key: { pk: roomId, sk: 'room' } }),
    );
    const users = await Promise.all(
      [a, b].map(
        async (userId) =>
          (await db.doc.send(new GetCommand({ TableName: names.users, Key: { userId } }))).Item,
      ),
    );
    const messageBytes = itemSize(messages?.[0] ?? {});
    const roomBytes = itemSize(room ?? {});
    const userBytes = Math.max(...users.map((user) => itemSize(user ?? {})));
    // Put: table + the byMessageId LSI (projection ALL: the whole item again); Update: the room.
    const computedWriteUnits = 2 * writeUnits(messageBytes) + writeUnits(roomBytes);
    // BatchGet, eventually consistent: each item rounded up to 4 KB separately.
    const computedReadUnits = eventualReadUnits(roomBytes) + 2 * eventualReadUnits(userBytes);

    return {
      sends: n,
      roundTripsPerSend: mean((s) => s.httpRequests),
      commandsPerSend: commands,
      writeUnitsPerSend: mean((s) => s.writeUnits),
      readUnitsPerSend: mean((s) => s.readUnits),
      unitsByCommand: units,
      capacitySource:
        unreported === 0
          ? 'DynamoDB Local ConsumedCapacity (ReturnConsumedCapacity=INDEXES), every request'
          : `DynamoDB Local ConsumedCapacity; ${unreported} request(s) reported none`,
      itemSizes: { messageBytes, roomBytes, userBytes, computedWriteUnits, computedReadUnits },
      postsPerSend: round(posts / n, 3),
      deliveredToRecipient: delivered,
      sendMs: roundSummary(summarize(samples.map((s) => s.ms))),
      cpuMsPerSend: round((cpu.user + cpu.system) / 1000 / n),
    };
  } finally {
    await closeAll(sockets);
  }
}
