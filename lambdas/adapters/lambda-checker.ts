/**
 * The attachment check as the functions that attach call it: a synchronous invocation of its function
 * (definitions/routes.ts `attachmentCheck`). The function answers refusals as data; only a crash of it
 * (FunctionError) is an error here, and an internal one for the client.
 */
import type { AttachmentChecker, CheckAnswer, CheckRequest } from '../domain/files.js';

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

export class LambdaAttachmentChecker implements AttachmentChecker {
  private sdk: Promise<{ client: InstanceType<LambdaSdk['LambdaClient']>; sdk: LambdaSdk }> | undefined;

  /** `endpoint`: a custom one (the local stack's), as configured at cold start; none on AWS. */
  constructor(
    private readonly functionName: string,
    private readonly endpoint: string | undefined,
  ) {}

  async check(request: CheckRequest): Promise<CheckAnswer> {
    const { client, sdk } = await this.lambda();
    const output = await client.send(
      new sdk.InvokeCommand({
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

  /**
   * The Lambda client, loaded on the first message with files: a text-only send (and a cold start)
   * never loads it. A failed load is forgotten so that the next message tries again.
   */
  private lambda() {
    this.sdk ??= import('@aws-sdk/client-lambda').then(
      (sdk) => ({ client: new sdk.LambdaClient(this.endpoint ? { endpoint: this.endpoint } : {}), sdk }),
      (error: unknown) => {
        this.sdk = undefined;
        throw error;
      },
    );
    return this.sdk;
  }
}
