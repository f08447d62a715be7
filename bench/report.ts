/** The goals, and the tables printed at the end of a run. */

import type { AttachResult } from './sections/attachments.js';
import type { HandlerBundle } from './sections/bundle.js';
import type { ChatListResult } from './sections/chat-list.js';
import type { AttachmentCostResult, CostResult, NotifyCostResult } from './sections/cost.js';
import type { DdbResult } from './sections/ddb.js';
import type { E2eResult } from './sections/e2e.js';
import type { FanoutResult } from './sections/fanout.js';
import type { HandlerInit } from './sections/init.js';
import type { NotifyResult, PathProfile } from './sections/notify.js';
import type { TransferResult } from './sections/transfer.js';

export const KB = 1024;

export interface Goal {
  readonly key: string;
  readonly label: string;
  readonly value: number | undefined;
  readonly display: string;
  readonly goal: string;
  readonly status: 'PASS' | 'MISS' | 'N/A';
}

export interface Results {
  fanout?: FanoutResult;
  e2e?: E2eResult;
  ddb?: DdbResult;
  bundle?: { readonly handlers: readonly Omit<HandlerBundle, 'outfile'>[] } & Record<string, unknown>;
  init?: { readonly handlers: readonly HandlerInit[] } & Record<string, unknown>;
  cost?: CostResult;
  chatList?: ChatListResult;
  attach?: AttachResult;
  attachCost?: AttachmentCostResult;
  transfer?: TransferResult;
  notify?: NotifyResult;
  notifyCost?: NotifyCostResult;
}

const fmt = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

function goal(
  key: string,
  label: string,
  value: number | undefined,
  display: string,
  goalText: string,
  passes: (v: number) => boolean,
): Goal {
  const status = value === undefined || !Number.isFinite(value) ? 'N/A' : passes(value) ? 'PASS' : 'MISS';
  return { key, label, value, display, goal: goalText, status };
}

export function goals(results: Results): Goal[] {
  const { fanout, e2e, ddb, bundle, cost, chatList, notify } = results;
  // A fast but wrong list passes nothing.
  const listCorrect = chatList?.correctness.problems.length === 0;
  const rooms = (n: number | undefined) => n?.toLocaleString('en-US') ?? '?';
  const largest = bundle?.handlers.reduce(
    (max: Omit<HandlerBundle, 'outfile'> | undefined, h) =>
      max === undefined || h.bytes > max.bytes ? h : max,
    undefined,
  );
  const over = bundle?.handlers.filter((h) => !(h.bytes <= 25 * KB)).length ?? 0;
  const flatnessLabel =
    fanout === undefined
      ? 'fanout.flatness'
      : `fanout.flatness (p50 at ${fanout.flatnessSizes[0].toLocaleString('en-US')} / ${fanout.flatnessSizes[1].toLocaleString('en-US')})`;
  return [
    goal('fanout.flatness', flatnessLabel, fanout?.flatness, fmt(fanout?.flatness), '≤ 1.3', (v) => v <= 1.3),
    goal(
      'fanout.speedupVsScan',
      `fanout.speedupVsScan (at ${fanout?.speedupAt.toLocaleString('en-US') ?? '?'})`,
      fanout?.speedupVsScan,
      `${fmt(fanout?.speedupVsScan, 1)}x`,
      '≥ 100x',
      (v) => v >= 100,
    ),
    goal(
      'e2e.p99OverFloor',
      'e2e.p99OverFloor (p99 / floor p99 under load)',
      e2e?.p99OverFloor,
      `${fmt(e2e?.p99OverFloor)} (${fmt(e2e?.p99Ms, 1)} / ${fmt(e2e?.floorMs, 1)} ms)`,
      '≤ 2',
      (v) => v <= 2,
    ),
    goal(
      'ddb.roundTripsPerSend',
      'ddb.roundTripsPerSend (1:1 room)',
      ddb?.roundTripsPerSend,
      fmt(ddb?.roundTripsPerSend),
      '≤ 3',
      (v) => v <= 3,
    ),
    goal(
      'bundle.maxBytes',
      `bundle: largest handler (${largest?.functionId ?? '?'}); ${over} over`,
      largest?.bytes,
      largest === undefined ? 'n/a' : `${(largest.bytes / KB).toFixed(1)} KB`,
      '≤ 25 KB (25,600 B) each',
      (v) => v <= 25 * KB,
    ),
    goal(
      'cost.usdPerMillionMessages',
      'cost.usdPerMillionMessages',
      cost?.usdPerMillionMessages,
      `$${fmt(cost?.usdPerMillionMessages)}`,
      '≤ $5',
      (v) => v <= 5,
    ),
    goal(
      'chatList.p50Ratio',
      `chatList.p50Ratio (${chatList?.route ?? 'GET /chat/list/'}, p50 at ${rooms(chatList?.large.rooms)} rooms / ${rooms(chatList?.small.rooms)})`,
      chatList?.p50Ratio,
      `${fmt(chatList?.p50Ratio)} (${fmt(chatList?.large.latencyMs.p50, 1)} / ${fmt(chatList?.small.latencyMs.p50, 1)} ms)${listCorrect || chatList === undefined ? '' : ', WRONG LIST'}`,
      '≤ 1.5',
      (v) => listCorrect && v <= 1.5,
    ),
    goal(
      'chatList.readUnitsRatio',
      `chatList.readUnitsRatio (read units per first page, ${rooms(chatList?.large.rooms)} / ${rooms(chatList?.small.rooms)})`,
      chatList?.readUnitsRatio,
      `${fmt(chatList?.readUnitsRatio)} (${fmt(chatList?.large.readUnits.p50, 1)} / ${fmt(chatList?.small.readUnits.p50, 1)} RRU)`,
      '≤ 1.5',
      (v) => listCorrect && v <= 1.5,
    ),
    goal(
      'notify.emailMsMax',
      `notify: offline message → e-mail, slowest of ${notify?.emailMs.n ?? '?'} (issue 12)`,
      notify === undefined
        ? undefined
        : notify.allWithinDelayPlusSlack
          ? notify.emailMs.max
          : Number.POSITIVE_INFINITY,
      notify === undefined
        ? 'n/a'
        : `${fmt(notify.emailMs.max / 1000, 1)} s (min ${fmt(notify.emailMs.min / 1000, 1)}, median ${fmt(notify.emailMs.p50 / 1000, 1)})`,
      notify === undefined
        ? 'delay + 5 s'
        : `≤ ${notify.delaySeconds + notify.slackMs / 1000} s (delay ${notify.delaySeconds} s + 5 s)`,
      (v) => notify !== undefined && v <= notify.delaySeconds * 1000 + notify.slackMs,
    ),
  ];
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function render(results: Results, goalList: readonly Goal[]): string {
  const parts: string[] = [];
  parts.push(
    table(
      ['Figure', 'Value', 'Goal', 'Status'],
      goalList.map((g) => [g.label, g.display, g.goal, g.status]),
    ),
  );
  const { fanout, e2e, ddb, bundle, init, cost, chatList, attach, attachCost, transfer, notify, notifyCost } =
    results;
  if (fanout !== undefined) {
    parts.push(
      `Fan-out (${fanout.notifier}; room: ${fanout.roomConnections.sender} + ${fanout.roomConnections.recipient} connections; ` +
        `one table set per size, sizes interleaved over ${fmt(fanout.measureMs / 1000, 0)} s, load average ${fmt(fanout.loadAverage[0], 1)} → ${fmt(fanout.loadAverage[1], 1)}), ms`,
    );
    parts.push(
      table(
        [
          'connections',
          'ours p50',
          'ours p99',
          'scan p50',
          'scan p99',
          'speedup',
          'ddb req/send ours/scan',
          'n ours/scan',
        ],
        fanout.sizes.map((s) => [
          s.connections.toLocaleString('en-US'),
          fmt(s.ours.p50),
          fmt(s.ours.p99),
          fmt(s.scan.p50),
          fmt(s.scan.p99),
          `${fmt(s.speedup, 1)}x`,
          `${fmt(s.oursRequestsPerSend, 1)} / ${fmt(s.scanRequestsPerSend, 1)}`,
          `${s.ours.n} / ${s.scan.n}`,
        ]),
      ),
    );
  }
  if (fanout !== undefined) {
    parts.push(
      `Scan baseline: +${fmt(fanout.scanMsPer1000Connections)} ms per 1,000 connections (least squares); ` +
        `100x ours would take ~${Number.isFinite(fanout.connectionsFor100x) ? fanout.connectionsFor100x.toLocaleString('en-US') : 'n/a'} connections. ` +
        `Read units per send at ${fanout.sizes.at(-1)?.connections.toLocaleString('en-US')}: ` +
        `scan ${fmt(fanout.sizes.at(-1)?.scanReadUnitsPerSend, 1)}, ours ${fmt(fanout.sizes.at(-1)?.oursReadUnitsPerSend, 1)}.`,
    );
  }
  if (e2e !== undefined) {
    parts.push(
      `End to end (${e2e.clients} clients, ${e2e.rooms} rooms, ${e2e.connected} connected; ` +
        `headline: ${e2e.headlinePhase}), ms. Floor = BatchGet + commit Update + Put back to back, same DynamoDB Local`,
    );
    const phases = [e2e.saturation, ...e2e.paced];
    parts.push(
      table(
        [
          'phase',
          'msg/s',
          'receipt p50',
          'receipt p99',
          'ack p50',
          'floor p50',
          'floor p99',
          'p99/floor p99',
          'recv/sent',
          'err',
          'load avg',
        ],
        [
          ...phases.map((phase) => [
            phase.load === undefined
              ? 'closed loop (saturation)'
              : `open loop ${Math.round(phase.load * 100)}% (${fmt(phase.offeredPerSecond, 0)} msg/s)`,
            fmt(phase.messagesPerSecond, 1),
            fmt(phase.receipt.p50),
            fmt(phase.receipt.p99),
            fmt(phase.ack.p50),
            fmt(phase.floor?.p50),
            fmt(phase.floor?.p99),
            fmt(phase.p99OverFloorP99),
            `${phase.received}/${phase.sent}`,
            String(phase.errors),
            fmt(phase.loadAverage, 1),
          ]),
          ['idle floor', '', '', '', '', fmt(e2e.floorIdle.p50), fmt(e2e.floorIdle.p99), '', '', '', ''],
        ],
      ),
    );
    parts.push(
      table(
        [
          'stack event loop (emulator + handlers)',
          'delay p50',
          'delay p99',
          'delay max',
          'GC pauses',
          'GC total',
          'GC max',
        ],
        phases.flatMap((phase) =>
          phase.stackLoop === undefined
            ? []
            : [
                [
                  phase.name,
                  fmt(phase.stackLoop.delayP50Ms),
                  fmt(phase.stackLoop.delayP99Ms),
                  fmt(phase.stackLoop.delayMaxMs),
                  String(phase.stackLoop.gcPauses),
                  fmt(phase.stackLoop.gcTotalMs),
                  fmt(phase.stackLoop.gcMaxMs),
                ],
              ],
        ),
      ),
    );
    parts.push(
      `CPU per message in the closed loop, ms: ${Object.entries(e2e.cpuMsPerMessage)
        .map(([name, ms]) => `${name} ${fmt(ms)}`)
        .join(
          ', ',
        )}; this process per idle floor sample (3 DynamoDB requests): ${fmt(e2e.floorCpuMsPerSample)}`,
    );
  }
  if (ddb !== undefined) {
    parts.push(
      `DynamoDB per 1:1 send (counted over ${ddb.sends} sends): ${ddb.roundTripsPerSend} requests ` +
        `(${Object.entries(ddb.commandsPerSend)
          .map(([name, n]) => `${name.replace(/Command$/, '')} ${n}`)
          .join(
            ', ',
          )}), ${ddb.writeUnitsPerSend} WRU, ${ddb.readUnitsPerSend} RRU (${ddb.capacitySource}); ` +
        `from item sizes: ${ddb.itemSizes.computedWriteUnits} WRU, ${ddb.itemSizes.computedReadUnits} RRU ` +
        `(message ${ddb.itemSizes.messageBytes} B, room ${ddb.itemSizes.roomBytes} B, user ${ddb.itemSizes.userBytes} B). ` +
        `sendMessage: p50 ${fmt(ddb.sendMs.p50)} ms, ${fmt(ddb.cpuMsPerSend)} ms CPU in this process per send.`,
    );
  }
  if (attach !== undefined) parts.push(...renderAttach(attach));
  if (transfer !== undefined) parts.push(...renderTransfer(transfer));
  if (bundle !== undefined) {
    const inits = new Map((init?.handlers ?? []).map((h) => [h.functionId, h]));
    parts.push('Handlers: bundle (esbuild, CDK options) and init (fresh Node process, median)');
    parts.push(
      table(
        ['handler', 'bundle KB', '≤ 25 KB', 'init ours ms', 'ours CPU ms', 'SDK baseline ms', 'SDK CPU ms'],
        bundle.handlers.map((h) => {
          const i = inits.get(h.functionId);
          return [
            h.functionId,
            h.error === undefined ? (h.bytes / KB).toFixed(1) : 'error',
            h.bytes <= 25 * KB ? 'PASS' : 'MISS',
            fmt(i?.oursMs, 1),
            fmt(i?.oursCpuMs, 1),
            fmt(i?.baselineMs, 1),
            fmt(i?.baselineCpuMs, 1),
          ];
        }),
      ),
    );
  }
  if (cost !== undefined) {
    parts.push('Cost per million 1:1 messages (USD, us-east-1 list prices, bench/prices.ts)');
    parts.push(
      table(
        ['item', 'USD'],
        [
          ...Object.entries(cost.breakdown).map(([name, usd]) => [name, usd.toFixed(3)]),
          ['total', cost.usdPerMillionMessages.toFixed(3)],
        ],
      ),
    );
  }
  if (attachCost !== undefined) {
    parts.push(
      'One attachment: what it adds per million messages (USD, bench/prices.ts; storage and downloads excluded)',
    );
    parts.push(
      table(
        ['item', 'USD'],
        [
          ...Object.entries(attachCost.breakdown).map(([name, usd]) => [name, usd.toFixed(3)]),
          ['send path (check, S3, claim)', attachCost.sendPathUsdPerMillion.toFixed(3)],
          ['upload (form + storage POST)', attachCost.uploadUsdPerMillion.toFixed(3)],
          ['total added', attachCost.usdPerMillionMessages.toFixed(3)],
        ],
      ),
    );
  }
  if (notify !== undefined) parts.push(...renderNotify(notify, notifyCost));
  if (chatList !== undefined) {
    parts.push(
      `Chat list (${chatList.route} through the local stack, ${chatList.functionId} metered; the two users alternated, ` +
        `${chatList.large.latencyMs.n} calls each over ${fmt(chatList.measureMs / 1000, 0)} s after ${chatList.warmupPerUser} warm-up calls, ` +
        `load average ${fmt(chatList.loadAverage[0], 1)} → ${fmt(chatList.loadAverage[1], 1)}); ` +
        `seeded ${chatList.seed.rooms.toLocaleString('en-US')} rooms and ${chatList.seed.messages.toLocaleString('en-US')} messages in ${fmt(chatList.seed.ms / 1000, 1)} s`,
    );
    parts.push(
      table(
        [
          'rooms',
          'p50 ms',
          'p90 ms',
          'requests p50',
          'requests p90',
          'RRU p50',
          'RRU p90',
          'DynamoDB ms p50',
          'commands per call',
        ],
        [chatList.large, chatList.small].map((s) => [
          s.rooms.toLocaleString('en-US'),
          fmt(s.latencyMs.p50),
          fmt(s.latencyMs.p90),
          fmt(s.requests.p50, 0),
          fmt(s.requests.p90, 0),
          fmt(s.readUnits.p50, 1),
          fmt(s.readUnits.p90, 1),
          fmt(s.dynamoMs.p50),
          Object.entries(s.commandsPerCall)
            .map(([name, n]) => `${name.replace(/Command$/, '')} ${fmt(n, 1)}`)
            .join(', '),
        ]),
      ),
    );
    const { correctness } = chatList;
    parts.push(
      `Ratios ${chatList.large.rooms.toLocaleString('en-US')} / ${chatList.small.rooms.toLocaleString('en-US')}: p50 ${fmt(chatList.p50Ratio)}, p90 ${fmt(chatList.p90Ratio)}, ` +
        `requests ${fmt(chatList.requestsRatio)}, read units ${fmt(chatList.readUnitsRatio)}. ` +
        `List check: ${correctness.pages} pages of ${correctness.walkLimit} walked with nextCursor, ${correctness.roomsSeen} rooms; ` +
        (correctness.problems.length === 0
          ? 'every room once, newest activity first; both first pages as expected.'
          : `WRONG: ${correctness.problems.join('; ')}.`),
    );
  }
  return parts.join('\n\n');
}

const requestsText = (requests: Readonly<Record<string, number>>) =>
  Object.entries(requests)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ') || 'none';

function renderAttach(attach: AttachResult): string[] {
  const { textOnly, oneAttachment, attachment, itemSizes, upload } = attach;
  const row = (label: string, figures: AttachResult['textOnly']) => [
    label,
    fmt(figures.totalRequests, 0),
    fmt(figures.dynamoDbRequests, 0),
    Object.entries(figures.requests)
      .map(([fn, ops]) => `${fn.replace(/Function$/, '')}: ${requestsText(ops)}`)
      .join('; '),
    Object.values(figures.writeUnits)
      .reduce((sum, u) => sum + u, 0)
      .toString(),
    Object.values(figures.readUnits)
      .reduce((sum, u) => sum + u, 0)
      .toString(),
    fmt(figures.ackMs.p50),
    fmt(figures.receiptMs.p50),
    String(figures.ackFrameBytes),
  ];
  return [
    `Send path with a file (sendMessage frames through the local stack, the real handlers metered per function; ` +
      `${textOnly.sends} sends of each kind alternated; same ${attach.contentChars}-character text, ` +
      `the file a ${attachment.width}x${attachment.height} PNG of ${attachment.bytes.toLocaleString('en-US')} B), per send`,
    table(
      [
        'message',
        'requests',
        'DynamoDB',
        'requests by function',
        'WRU',
        'RRU',
        'ack p50 ms',
        'receipt p50 ms',
        'ack B',
      ],
      [row('text only', textOnly), row('text + 1 attachment', oneAttachment)],
    ),
    `The file adds: ${requestsText(attach.added.requests)}; ${fmt(attach.added.dynamoDbWriteUnits, 1)} WRU ` +
      `(claim item ${itemSizes.claimBytes} B: ${itemSizes.computedClaimWriteUnits} WRU transactional; message item ${itemSizes.textMessageBytes} B → ${itemSizes.fileMessageBytes} B), ` +
      `${fmt(attach.added.ackMs, 1)} ms to the ack p50 (the check's Invoke p50 ${fmt(oneAttachment.invokeMs?.p50, 1)} ms). ` +
      `Before the send, the upload form: ${Object.entries(upload.requests)
        .map(([fn, ops]) => `${fn.replace(/Function$/, '')}: ${requestsText(ops)}`)
        .join(
          '; ',
        )} (${fmt(upload.readUnits, 1)} RRU, p50 ${fmt(upload.formMs.p50)} ms), then the storage POST ` +
      `(form + POST p50 ${fmt(upload.uploadMs.p50)} ms from Node).` +
      (attach.problems.length > 0 ? ` PROBLEMS: ${attach.problems.join('; ')}` : ''),
  ];
}

function renderTransfer(transfer: TransferResult): string[] {
  if (transfer.skipped !== undefined) return [`File transfer: skipped (${transfer.skipped})`];
  const mb = transfer.bytes / (1024 * 1024);
  const rate = (ms: number) => `${fmt(mb / (ms / 1000), 1)} MB/s`;
  return [
    `File transfer: a ${fmt(mb, 0)} MB ${transfer.contentType} from Ann's browser to Bob's (headless Chromium, ` +
      `the web client's file input and Send; Bob fetches the file card's URL; ${transfer.repetitions.length} run(s)), ms`,
    table(
      [
        'run',
        'upload',
        'progress steps',
        'send → chat_message',
        'send → ack',
        'send → file card',
        'download TTFB',
        'download',
        'verified',
      ],
      transfer.repetitions
        .map((r, i) => [
          String(i + 1),
          `${fmt(r.uploadMs, 0)} (${rate(r.uploadMs)})`,
          String(r.progressSteps),
          fmt(r.sendToMessageMs, 1),
          fmt(r.sendToAckMs, 1),
          fmt(r.sendToCardMs, 1),
          fmt(r.downloadFirstByteMs, 1),
          `${fmt(r.downloadMs, 0)} (${rate(r.downloadMs)})`,
          r.verified ? `${r.downloadedBytes} B, SHA-256 ok` : `NO: ${r.downloadedBytes} B`,
        ])
        .concat(
          transfer.median === undefined
            ? []
            : [
                [
                  'median',
                  `${fmt(transfer.median.uploadMs, 0)} (${rate(transfer.median.uploadMs)})`,
                  '',
                  fmt(transfer.median.sendToMessageMs, 1),
                  fmt(transfer.median.sendToAckMs, 1),
                  fmt(transfer.median.sendToCardMs, 1),
                  fmt(transfer.median.downloadFirstByteMs, 1),
                  `${fmt(transfer.median.downloadMs, 0)} (${rate(transfer.median.downloadMs)})`,
                  '',
                ],
              ],
        ),
    ),
  ];
}

function renderNotify(notify: NotifyResult, cost: NotifyCostResult | undefined): string[] {
  const limitMs = notify.delaySeconds * 1000 + notify.slackMs;
  const eventsText = (events: Readonly<Record<string, number>>) =>
    Object.entries(events)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ') || 'none';
  const profileRow = (label: string, p: PathProfile) => [
    label,
    String(p.messages),
    fmt(p.streamRecordsRead),
    fmt(p.streamRecordsToConsumer),
    fmt(p.consumerInvocations),
    fmt(p.schedulesCreated),
    fmt(p.notifyInvocations),
    fmt(p.emails),
    fmt(p.eventEntries),
    fmt(p.readUnits),
    fmt(p.writeUnits),
    `${fmt(p.consumerBilledMs, 1)} / ${fmt(p.notifyBilledMs, 1)}`,
  ];
  const parts = [
    `Offline e-mail (the stack's notify delay ${notify.delaySeconds} s; runs of ${notify.burst} messages Ann → Bob over the WebSocket, ` +
      'one check each; offline: Bob never connected, reads through REST after the e-mail; online: Bob connected, reads before the check), per run',
    table(
      [
        'run',
        'e-mail ms',
        `≤ ${limitMs / 1000} s`,
        'ack ms',
        'e-mails',
        'stream records read / to consumer',
        'consumer inv',
        'schedules',
        'notify inv (outcome)',
        'SendEmail',
        'PutEvents req',
        'events on the bus',
        'RRU',
        'WRU',
      ],
      notify.runs.map((run, i) => [
        `${i + 1} ${run.kind}`,
        run.emailMs === undefined ? (run.kind === 'offline' ? 'none' : '') : String(run.emailMs),
        run.kind === 'offline' ? (run.emailMs !== undefined && run.emailMs <= limitMs ? 'yes' : 'NO') : '',
        run.ackMs.map((ms) => fmt(ms, 0)).join(', '),
        String(run.emails),
        `${run.streamRecordsRead} / ${run.streamRecordsToConsumer}`,
        String(run.consumerInvocations),
        String(run.schedulesCreated),
        `${run.notifyInvocations} (${run.notifyOutcomes.join(', ')})`,
        String(run.sesSends),
        String(run.putEventsRequests),
        eventsText(run.events),
        fmt(run.readUnits, 1),
        fmt(run.writeUnits, 1),
      ]),
    ),
    `E-mail latency (first frame sent → on the mailbox, polled every 50 ms): min ${notify.emailMs.min}, median ${notify.emailMs.p50}, max ${notify.emailMs.max} ms; ` +
      `${notify.allWithinDelayPlusSlack ? 'every one' : 'NOT every one'} within ${limitMs / 1000} s. The mappings made ${notify.getRecordsRequests} GetRecords requests meanwhile (polls).` +
      (notify.problems.length > 0 ? ` PROBLEMS: ${notify.problems.join('; ')}` : ''),
    'Notification path per message (means over the runs)',
    table(
      [
        'recipient at the check',
        'messages',
        'stream records read',
        'to consumer',
        'consumer inv',
        'schedules',
        'notify inv',
        'e-mails',
        'events',
        'RRU',
        'WRU',
        'billed ms consumer / notify',
      ],
      [profileRow('offline', notify.perMessage.offline), profileRow('online', notify.perMessage.online)],
    ),
  ];
  if (cost !== undefined) {
    parts.push(
      `What the notification path adds per million messages at ${fmt(cost.inputs.offlineRatio * 100, 0)}% offline ` +
        '(USD, measured counts × bench/prices.ts; the send itself is in the cost table above)',
      table(
        ['item', 'per million messages', 'USD'],
        [
          ...Object.entries(cost.items).map(([name, { perMillion, usd }]) => [
            name,
            perMillion.toLocaleString('en-US'),
            usd.toFixed(3),
          ]),
          ['total', '', cost.usdPerMillionMessages.toFixed(3)],
        ],
      ),
    );
  }
  return parts;
}
