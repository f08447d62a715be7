/**
 * The DynamoDB stream records the local stack's stream mappings read (local/stream-mappings.ts polls
 * with its own DynamoDBStreamsClient; on AWS that is Lambda's event source mapping). The client class's
 * `send` is watched, as lib/aws-meter.ts watches the handlers' clients, and each GetRecords answer's
 * records are handed to `onRecords`. Nothing in local/ changes; `stop()` restores `send`.
 */
import { type _Record, DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';

export interface StreamReadMeter {
  /** GetRecords requests since start (most answer no record: the mappings poll). */
  getRecordsRequests(): number;
  stop(): void;
}

export function watchStreamReads(onRecords: (records: readonly _Record[]) => void): StreamReadMeter {
  const prototype = DynamoDBStreamsClient.prototype as { send: (...args: never[]) => Promise<unknown> };
  const own = Object.hasOwn(prototype, 'send');
  const send = prototype.send;
  let requests = 0;
  prototype.send = async function (this: DynamoDBStreamsClient, ...args: never[]) {
    const output = await send.apply(this, args);
    const [command] = args as unknown[];
    if (command instanceof GetRecordsCommand) {
      requests++;
      onRecords((output as { Records?: _Record[] }).Records ?? []);
    }
    return output;
  };
  return {
    getRecordsRequests: () => requests,
    stop() {
      if (own) prototype.send = send;
      else Reflect.deleteProperty(prototype, 'send');
    },
  };
}
