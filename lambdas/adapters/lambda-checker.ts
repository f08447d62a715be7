/**
 * The attachment check as the functions that attach call it: a synchronous invocation of its function
 * (definitions/routes.ts `attachmentCheck`). The function answers refusals as data; only a crash of it
 * (FunctionError) is an error here, and an internal one for the client.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { AttachmentChecker, CheckAnswer, CheckRequest } from '../domain/files.js';

export class LambdaAttachmentChecker implements AttachmentChecker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async check(request: CheckRequest): Promise<CheckAnswer> {
    const output = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    const text = output.Payload ? new TextDecoder().decode(output.Payload) : '';
    if (output.FunctionError !== undefined) {
      throw new Error(`attachment check failed (${output.FunctionError}): ${text.slice(0, 500)}`);
    }
    return JSON.parse(text) as CheckAnswer;
  }
}
