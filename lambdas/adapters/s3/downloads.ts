/**
 * Download URLs, presigned locally with SigV4: no request per URL. Not `getSignedUrl`: that runs the
 * client's whole middleware stack (endpoint rules included) for every URL, milliseconds each, while
 * a history page may carry hundreds; the request to sign is built here once per URL instead.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { uploadLimits } from '../../../definitions/uploads.js';
import type { DownloadSigner, DownloadTarget } from '../../domain/files.js';
import { objectUrl } from './client.js';

/** RFC 3986 encoding, as SigV4 canonicalises the query: encodeURIComponent leaves `!'()*` as they are. */
const strictEncode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `Content-Disposition` for a file: `inline` for images, `attachment` otherwise, so a document is
 * saved under its name and nothing the bucket serves is rendered as a page. The name is given twice:
 * ASCII for old agents, UTF-8 (RFC 6266 / 5987) for the rest.
 */
export function contentDisposition(fileName: string, inline: boolean): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${strictEncode(fileName)}`;
}

export class S3DownloadSigner implements DownloadSigner {
  private readonly presigner: S3RequestPresigner;
  private region: Promise<string> | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly clock: { now(): Date },
  ) {
    // The client's resolved configuration: its credentials provider (cached), region and hash.
    this.presigner = new S3RequestPresigner({ ...client.config });
  }

  async url(target: DownloadTarget): Promise<string> {
    this.region ??= this.client.config.region();
    const url = objectUrl(this.bucket, target.key, await this.region);
    const signed = await this.presigner.presign(
      {
        method: 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query: { 'response-content-disposition': contentDisposition(target.fileName, target.inline) },
        headers: { host: url.host },
      },
      { expiresIn: uploadLimits.downloadSeconds, signingDate: this.clock.now() },
    );
    const query = Object.entries(signed.query ?? {})
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map(
          (one) => `${strictEncode(name)}=${strictEncode(String(one))}`,
        ),
      )
      .join('&');
    return `${url.origin}${url.pathname}?${query}`;
  }
}
