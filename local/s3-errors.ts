/** S3's error answer: a status, and `<Error><Code/><Message/>...details...</Error>` as XML. */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { SigV4Failure } from './sigv4.js';

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements after `Message`, in order (S3 adds them per error, e.g. `ProposedSize`). */
    readonly detail: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/** Escapes XML text content (S3 leaves quotes as they are in its messages). */
export function xmlEscape(value: string): string {
  return value.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
}

/** S3's request ids: 16 upper-case hex digits, and a longer base64 "host id". */
export function requestIds(): { 'x-amz-request-id': string; 'x-amz-id-2': string } {
  return {
    'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
    'x-amz-id-2': randomBytes(48).toString('base64'),
  };
}

export function sendS3Error(res: ServerResponse, error: S3Error, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const ids = requestIds();
  const details = Object.entries(error.detail)
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message>${details}` +
    `<RequestId>${ids['x-amz-request-id']}</RequestId><HostId>${xmlEscape(ids['x-amz-id-2'])}</HostId></Error>`;
  res.writeHead(error.status, {
    ...headers,
    ...ids,
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  // A HEAD answer carries the status and headers only.
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

export const accessDenied = () => new S3Error(403, 'AccessDenied', 'Access Denied');

const hexBytes = (text: string) => (Buffer.from(text, 'utf8').toString('hex').match(/../g) ?? []).join(' ');

/**
 * S3's answer to a refused signature. `where` is the mechanism: the Authorization header, the
 * presigned query string, or a POST form (whose errors name the form field).
 */
export function sigV4Error(failure: SigV4Failure, where: 'header' | 'query' | 'form'): S3Error {
  switch (failure.reason) {
    case 'malformed':
      if (where === 'header') {
        return new S3Error(
          400,
          'AuthorizationHeaderMalformed',
          `The authorization header is malformed; ${failure.message}`,
        );
      }
      if (where === 'query') return new S3Error(400, 'AuthorizationQueryParametersError', failure.message);
      return new S3Error(400, 'InvalidArgument', failure.message, { ArgumentName: 'X-Amz-Credential' });
    case 'region': {
      const text = `the region '${failure.region}' is wrong; expecting '${failure.expected}'`;
      if (where === 'header') {
        return new S3Error(
          400,
          'AuthorizationHeaderMalformed',
          `The authorization header is malformed; ${text}`,
          {
            Region: failure.expected,
          },
        );
      }
      if (where === 'query') {
        return new S3Error(
          400,
          'AuthorizationQueryParametersError',
          `Error parsing the X-Amz-Credential parameter; ${text}`,
          {
            Region: failure.expected,
          },
        );
      }
      return new S3Error(400, 'InvalidArgument', text, {
        ArgumentName: 'X-Amz-Credential',
        Region: failure.expected,
      });
    }
    case 'service': {
      const text = `incorrect service "${failure.service}". This endpoint belongs to "${failure.expected}".`;
      if (where === 'header')
        return new S3Error(
          400,
          'AuthorizationHeaderMalformed',
          `The authorization header is malformed; ${text}`,
        );
      if (where === 'query') {
        return new S3Error(
          400,
          'AuthorizationQueryParametersError',
          `Error parsing the X-Amz-Credential parameter; ${text}`,
        );
      }
      return new S3Error(400, 'InvalidArgument', text, { ArgumentName: 'X-Amz-Credential' });
    }
    case 'unknownKey':
      return new S3Error(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        {
          AWSAccessKeyId: failure.accessKeyId,
        },
      );
    case 'mismatch':
      return new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        {
          AWSAccessKeyId: failure.accessKeyId,
          StringToSign: failure.stringToSign,
          SignatureProvided: failure.signatureProvided,
          StringToSignBytes: hexBytes(failure.stringToSign),
          ...(failure.canonicalRequest === ''
            ? {}
            : {
                CanonicalRequest: failure.canonicalRequest,
                CanonicalRequestBytes: hexBytes(failure.canonicalRequest),
              }),
        },
      );
    case 'skewed':
      return new S3Error(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        {
          RequestTime: failure.requestTime,
          ServerTime: failure.serverTime.toISOString().replace(/\.\d+/, ''),
          MaxAllowedSkewMilliseconds: '900000',
        },
      );
    case 'expired':
      return new S3Error(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': failure.expiresSeconds,
        Expires: failure.expires.toISOString().replace(/\.\d+/, ''),
        ServerTime: failure.serverTime.toISOString().replace(/\.\d+/, ''),
      });
    case 'notYetValid':
      return new S3Error(403, 'AccessDenied', 'Request is not valid yet');
    case 'unsignedHeaders':
      return new S3Error(
        403,
        'AccessDenied',
        'There were headers present in the request which were not signed',
        {
          HeadersNotSigned: failure.headers.join(', '),
        },
      );
  }
}
