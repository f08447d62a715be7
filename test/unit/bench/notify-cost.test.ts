/** The notification path's cost model (bench/sections/cost.ts): measured counts mixed at the offline ratio, times list prices. */
import { describe, expect, it } from 'vitest';
import { computeNotifyCost } from '../../../bench/sections/cost.js';
import type { PathProfile } from '../../../bench/sections/notify.js';

const profile = (overrides: Partial<PathProfile>): PathProfile => ({
  runs: 1,
  messages: 3,
  streamRecordsRead: 0,
  streamRecordsToConsumer: 0,
  consumerInvocations: 0,
  consumerBilledMs: 0,
  notifyInvocations: 0,
  notifyBilledMs: 0,
  schedulesCreated: 0,
  emails: 0,
  eventEntries: 0,
  readUnits: 0,
  writeUnits: 0,
  ...overrides,
});

const inputs = {
  offline: profile({ emails: 1 / 3, schedulesCreated: 1 / 3, eventEntries: 2, streamRecordsRead: 3 }),
  online: profile({ schedulesCreated: 1 / 3, eventEntries: 1 }),
  burst: 3,
  lambdaMemoryMb: 512,
};

describe('computeNotifyCost', () => {
  it('mixes the offline and online counts at the ratio and prices each unit', () => {
    const cost = computeNotifyCost({ ...inputs, offlineRatio: 0.2 });
    // 0.2 × 1/3 e-mails per message at $0.10 per 1,000.
    expect(cost.items.sesEmails).toEqual({ perMillion: 66_667, usd: 6.6667 });
    // Every recipient with an address gets a check, online or not: 1/3 per message either way.
    expect(cost.items.schedulerInvocations?.usd).toBeCloseTo(1 / 3, 4);
    // 0.2 × 2 + 0.8 × 1 entries at $1 per million.
    expect(cost.items.eventBridgeEvents?.usd).toBeCloseTo(1.2, 4);
    // Read by the consumer's Lambda trigger: counted, not charged.
    expect(cost.items.streamRecordsRead).toEqual({ perMillion: 600_000, usd: 0 });
    expect(cost.usdPerMillionMessages).toBeCloseTo(6.6667 + 1 / 3 + 1.2, 2);
  });

  it('scales the e-mails with the offline ratio', () => {
    const none = computeNotifyCost({ ...inputs, offlineRatio: 0 });
    const all = computeNotifyCost({ ...inputs, offlineRatio: 1 });
    expect(none.items.sesEmails?.usd).toBe(0);
    expect(all.items.sesEmails?.usd).toBeCloseTo(100 / 3, 3);
  });

  it('bills Lambda duration at the memory size, per GB-second', () => {
    const cost = computeNotifyCost({
      ...inputs,
      offline: profile({ notifyInvocations: 1, notifyBilledMs: 100 }),
      offlineRatio: 1,
    });
    // 0.5 GB × 0.1 s × $0.0000133334 × 10^6.
    expect(cost.items.notifyDuration?.usd).toBeCloseTo(0.6667, 3);
    expect(cost.items.notifyRequests?.usd).toBeCloseTo(0.2, 4);
  });
});
