/**
 * S3's browser upload (POST Object with a SigV4 POST policy), which s3rver accepts without checking
 * anything: the front answers it itself. Sources: AWS's "POST Object", "Authenticating Requests in
 * Browser-Based Uploads Using POST (AWS Signature Version 4)", "POST Policy" and "Error Responses"
 * pages; where they are silent or wrong (the status of a failed condition, the messages), S3's
 * recorded answers. local/README.md lists what is and is not emulated.
 *
 * The file is streamed to a spool file while it is counted (and hashed for Content-MD5), refused as
 * soon as it passes the policy's maximum, and stored only once every check has passed: S3 never
 * stores part of an object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { accessDenied, requestIds, S3Error, sigV4Error, xmlEscape } from './s3-errors.js';
import {
  ALGORITHM,
  type Credentials,
  checkScope,
  hmacHex,
  parseAmzDate,
  parseCredential,
  sameSignature,
  signingKey,
} from './sigv4.js';

/** "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB." */
export const MAX_PRE_DATA_BYTES = 20 * 1024;
/** The largest object one POST may carry when the policy sets no range (a single PUT's limit). */
const MAX_OBJECT_BYTES = 5 * 1024 ** 3;
/** The form variable S3 replaces with the uploaded file's name, written as S3 spells it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: this is S3's variable, not a template placeholder.
const FILENAME_VARIABLE = '${filename}';
/** Fields the coverage rule exempts ("except x-amz-signature, file, policy, and x-ignore-*"). */
const UNCOVERED = new Set(['x-amz-signature', 'file', 'policy']);
/** Fields whose conditions may only be exact ("This condition supports exact matching"). */
const exactOnly = (name: string) =>
  name === 'bucket' ||
  name === 'success_action_status' ||
  (name.startsWith('x-amz-') && !name.startsWith('x-amz-meta-'));
/** Object headers a form may set (the REST headers of PutObject). */
const OBJECT_HEADERS = [
  'cache-control',
  'content-type',
  'content-disposition',
  'content-encoding',
  'expires',
];
const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
];
/** Form fields this emulator understands; any other `x-amz-*` field is refused as not implemented. */
const KNOWN_AMZ = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-signature',
  'x-amz-storage-class',
]);

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface UploadToStore {
  readonly key: string;
  /** The spool file holding exactly the uploaded bytes. */
  readonly path: string;
  readonly size: number;
  /** `content-type` and the other object headers the form set. */
  readonly headers: Readonly<Record<string, string>>;
  /** User metadata without the `x-amz-meta-` prefix, names lower-cased. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: readonly Tag[] | undefined;
  readonly storageClass: string | undefined;
}

export interface PostUploadOptions {
  readonly bucket: string;
  readonly region: string;
  readonly credentials: Credentials;
  /** Folder for spool files (removed after each upload). */
  readonly spoolDir: string;
  /** Stores the object; answers its ETag (quoted). */
  readonly store: (upload: UploadToStore) => Promise<string>;
  /** `http://host:port/bucket`: where the object's `Location` points. */
  readonly bucketUrl: string;
  /** Headers every answer carries (CORS). */
  readonly headers: OutgoingHttpHeaders;
  readonly now?: () => Date;
}

interface Field {
  /** As sent (S3 names extra fields as sent). */
  readonly name: string;
  value: string;
}

type Condition =
  | {
      readonly kind: 'eq' | 'starts-with';
      readonly field: string;
      readonly value: string;
      readonly text: string;
    }
  | { readonly kind: 'range'; readonly min: number; readonly max: number; readonly text: string };

const invalidPolicy = (message: string) =>
  new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${message}`);
const policyFailed = (message: string) =>
  new S3Error(403, 'AccessDenied', `Invalid according to Policy: ${message}`);
const missingField = (name: string) =>
  new S3Error(
    400,
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' },
  );

/** How S3 prints a condition in "Policy Condition failed: [...]". */
const conditionText = (items: readonly unknown[]) =>
  `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;

/** Decodes and checks the shape of the policy; conditions are not evaluated here. */
export function parsePolicy(policyBase64: string): { expiration: Date; conditions: Condition[] } {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(policyBase64) || policyBase64.length % 4 !== 0) {
    throw invalidPolicy('invalid Base64 encoding.');
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(policyBase64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw invalidPolicy('Invalid JSON.');
  const members = document as Record<string, unknown>;
  for (const name of Object.keys(members)) {
    if (name !== 'expiration' && name !== 'conditions')
      throw invalidPolicy(`Unexpected: '${name.toLowerCase()}'`);
  }
  if (!('expiration' in members)) throw invalidPolicy('Policy missing expiration.');
  if (!('conditions' in members)) throw invalidPolicy('Policy missing conditions.');
  const { expiration, conditions } = members;
  // ISO 8601 in UTC only: an offset or a space for the T is refused.
  if (
    typeof expiration !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(expiration)
  ) {
    throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  }
  const expires = new Date(expiration);
  if (Number.isNaN(expires.getTime())) throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");
  return { expiration: expires, conditions: conditions.map(parseCondition) };
}

function parseCondition(condition: unknown): Condition {
  if (typeof condition === 'object' && condition !== null && !Array.isArray(condition)) {
    const entries = Object.entries(condition);
    if (entries.length !== 1) {
      throw invalidPolicy(
        'Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.',
      );
    }
    const [field, value] = entries[0] as [string, unknown];
    if (typeof value !== 'string') throw invalidPolicy('Invalid Simple-Condition: value must be a string.');
    // S3 prints a simple condition as the eq array it stands for.
    return { kind: 'eq', field: `$${field}`, value, text: conditionText(['eq', `$${field}`, value]) };
  }
  if (!Array.isArray(condition)) throw invalidPolicy('Invalid condition test: must be a List or Object.');
  if (condition.length === 0) throw invalidPolicy('Invalid Condition: missing operation identifier.');
  const [operation, ...operands] = condition as [unknown, ...unknown[]];
  if (typeof operation !== 'string') throw invalidPolicy('Invalid Condition: missing operation identifier.');
  const op = operation.toLowerCase();
  const text = conditionText(condition);
  if (op === 'content-length-range') {
    if (operands.length !== 2) throw invalidPolicy(`Invalid ${operation}: wrong number of arguments.`);
    const bound = (value: unknown): number => {
      // Integers, or strings of digits (S3 took ["content-length-range", "5", "10"]); a float is not JSON to S3.
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'number') throw invalidPolicy('Invalid JSON.');
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
      // S3 answers a bound it cannot read as a failed condition.
      return Number.NaN;
    };
    const [min, max] = [bound(operands[0]), bound(operands[1])];
    if (min < 0 || max < 0) throw invalidPolicy(`Invalid ${operation}: the bounds must not be negative.`);
    return { kind: 'range', min, max, text };
  }
  if (op !== 'eq' && op !== 'starts-with')
    throw invalidPolicy(`Invalid Condition: unknown operation '${operation}'.`);
  if (operands.length !== 2) throw invalidPolicy(`Invalid ${operation}: wrong number of arguments.`);
  const [field, value] = operands;
  if (typeof field !== 'string' || typeof value !== 'string') throw invalidPolicy('Invalid JSON.');
  return { kind: op, field, value, text };
}

/** RFC 2047 "B" encoding for a metadata value that is not US-ASCII, as S3 stores it. */
function mailSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

const xmlUnescape = (text: string) =>
  text.replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) =>
    name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'amp' ? '&' : name === 'quot' ? '"' : "'",
  );

/** The `tagging` field: `<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>`. */
export function parseTagging(xml: string): Tag[] {
  const malformed = () =>
    new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  const document =
    /^\s*(?:<\?xml[^>]*\?>\s*)?<Tagging(?:\s[^>]*)?>\s*<TagSet>([\s\S]*)<\/TagSet>\s*<\/Tagging>\s*$/.exec(
      xml,
    );
  if (document === null) throw malformed();
  const body = document[1] ?? '';
  const tags: Tag[] = [];
  const tagPattern = /\s*<Tag>\s*<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>\s*<\/Tag>\s*/y;
  let match = tagPattern.exec(body);
  let consumed = 0;
  while (match !== null) {
    tags.push({ key: xmlUnescape(match[1] ?? ''), value: xmlUnescape(match[2] ?? '') });
    consumed = tagPattern.lastIndex;
    match = tagPattern.exec(body);
  }
  if (body.slice(consumed).trim() !== '') throw malformed();
  if (tags.length > 10) throw new S3Error(400, 'BadRequest', 'Object tags cannot be greater than 10');
  const keys = new Set<string>();
  for (const tag of tags) {
    if (tag.key === '' || tag.key.length > 128) {
      throw new S3Error(400, 'InvalidTag', 'The TagKey you have provided is invalid');
    }
    if (tag.value.length > 256)
      throw new S3Error(400, 'InvalidTag', 'The TagValue you have provided is too long, max 256');
    if (keys.has(tag.key))
      throw new S3Error(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key');
    keys.add(tag.key);
  }
  return tags;
}

/** Checks the form's authentication and policy against its fields, before any file byte is read. */
export function checkForm(
  fields: ReadonlyMap<string, Field>,
  options: Pick<PostUploadOptions, 'bucket' | 'region' | 'credentials'>,
  now: Date,
): { maxBytes: number; minBytes: number } {
  const get = (name: string) => fields.get(name)?.value;
  if (fields.has('awsaccesskeyid') || fields.has('signature')) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
  const authFields = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'];
  // Without any signature field the request is anonymous, and the bucket is private.
  if (authFields.every((name) => !fields.has(name))) throw accessDenied();
  for (const name of [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Signature',
    'Policy',
    'key',
  ]) {
    if (!fields.has(name.toLowerCase())) throw missingField(name);
  }
  if (get('x-amz-algorithm') !== ALGORITHM) {
    throw new S3Error(400, 'InvalidArgument', `X-Amz-Algorithm only supports "${ALGORITHM}"`, {
      ArgumentName: 'X-Amz-Algorithm',
      ArgumentValue: get('x-amz-algorithm') ?? '',
    });
  }
  const amzDate = get('x-amz-date') ?? '';
  if (parseAmzDate(amzDate) === undefined) {
    throw new S3Error(400, 'InvalidArgument', 'X-Amz-Date must be formated via ISO8601 Long format', {
      ArgumentName: 'X-Amz-Date',
      ArgumentValue: amzDate,
    });
  }
  const scope = parseCredential(get('x-amz-credential') ?? '');
  const scopeFailure = checkScope(
    scope,
    { region: options.region, service: 's3', credentials: options.credentials },
    amzDate,
  );
  if (scopeFailure !== undefined || scope === undefined) {
    throw sigV4Error(scopeFailure ?? { reason: 'malformed', message: 'bad credential' }, 'form');
  }
  // The string to sign is the base64 policy exactly as received, checked before it is decoded.
  const policy = get('policy') ?? '';
  const key = signingKey(options.credentials.secretAccessKey, scope.date, scope.region, 's3');
  const signature = get('x-amz-signature') ?? '';
  if (!sameSignature(hmacHex(key, policy), signature)) {
    throw sigV4Error(
      {
        reason: 'mismatch',
        accessKeyId: scope.accessKeyId,
        stringToSign: policy,
        canonicalRequest: '',
        signatureProvided: signature,
      },
      'form',
    );
  }
  const { expiration, conditions } = parsePolicy(policy);
  if (now.getTime() >= expiration.getTime()) throw policyFailed('Policy expired.');

  let maxBytes = MAX_OBJECT_BYTES;
  let minBytes = 0;
  const covered = new Set<string>();
  for (const condition of conditions) {
    if (condition.kind === 'range') {
      if (Number.isNaN(condition.min) || Number.isNaN(condition.max))
        throw policyFailed(`Policy Condition failed: ${condition.text}`);
      maxBytes = Math.min(maxBytes, condition.max);
      minBytes = Math.max(minBytes, condition.min);
      continue;
    }
    // Names are compared without regard to case; values exactly.
    const name = condition.field.startsWith('$') ? condition.field.slice(1).toLowerCase() : undefined;
    if (name === undefined) throw policyFailed(`Policy Condition failed: ${condition.text}`);
    covered.add(name);
    // The bucket condition is about the bucket the form is posted to (a `bucket` field must agree).
    const values =
      name === 'bucket' ? [options.bucket, ...(fields.has('bucket') ? [get('bucket') ?? ''] : [])] : [];
    const value = get(name);
    if (name !== 'bucket' && value === undefined)
      throw policyFailed(`Policy Condition failed: ${condition.text}`);
    if (name !== 'bucket') values.push(value ?? '');
    const passes = values.every((candidate) => {
      if (condition.kind === 'eq') return candidate === condition.value;
      if (exactOnly(name)) return false;
      // "Content-Types values for a starts-with condition that include commas are interpreted as lists."
      const items = name === 'content-type' ? candidate.split(',').map((item) => item.trim()) : [candidate];
      return items.every((item) => item.startsWith(condition.value));
    });
    if (!passes) throw policyFailed(`Policy Condition failed: ${condition.text}`);
  }
  for (const [name, field] of fields) {
    if (UNCOVERED.has(name) || name.startsWith('x-ignore-') || covered.has(name)) continue;
    throw policyFailed(`Extra input fields: ${field.name}`);
  }
  if (minBytes > maxBytes)
    throw policyFailed('Policy Condition failed: content-length-range min is above max');
  return { maxBytes, minBytes };
}

/** What the form asks of the object, beyond its bytes; refuses what this emulator cannot honour. */
function objectSettings(fields: ReadonlyMap<string, Field>): Omit<UploadToStore, 'key' | 'path' | 'size'> {
  const headers: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  let storageClass: string | undefined;
  for (const [name, field] of fields) {
    if (OBJECT_HEADERS.includes(name)) headers[name] = field.value;
    else if (name.startsWith('x-amz-meta-'))
      metadata[name.slice('x-amz-meta-'.length)] = mailSafe(field.value);
    else if (name === 'x-amz-storage-class') {
      if (!STORAGE_CLASSES.includes(field.value)) {
        throw new S3Error(400, 'InvalidStorageClass', 'The storage class you specified is not valid', {
          StorageClassRequested: field.value,
        });
      }
      storageClass = field.value;
    } else if (name === 'acl' && field.value !== 'bucket-owner-full-control') {
      // The bucket enforces bucket-owner object ownership (lib/chat-files.ts): ACLs are off.
      throw new S3Error(400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
    } else if (name.startsWith('x-amz-') && !KNOWN_AMZ.has(name)) {
      throw new S3Error(
        501,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        {
          Header: field.name,
        },
      );
    }
  }
  headers['content-type'] ??= 'binary/octet-stream';
  const tagging = fields.get('tagging')?.value;
  return { headers, metadata, tags: tagging === undefined ? undefined : parseTagging(tagging), storageClass };
}

/** Path-style object URL with the key's reserved characters encoded, `/` included, as S3's Location has it. */
const objectLocation = (bucketUrl: string, key: string) => `${bucketUrl}/${encodeURIComponent(key)}`;

/**
 * Handles `POST /<bucket>` with a multipart form. Answers the request in every case (errors as S3
 * does); resolves once the answer is sent.
 */
export async function handlePostUpload(
  req: IncomingMessage,
  res: ServerResponse,
  options: PostUploadOptions,
): Promise<void> {
  const now = (options.now ?? (() => new Date()))();
  const contentType = String(req.headers['content-type'] ?? '');
  if (!/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    throw new S3Error(
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
      },
    );
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      preservePath: true,
      limits: { fieldSize: MAX_PRE_DATA_BYTES + 1, fieldNameSize: MAX_PRE_DATA_BYTES },
    });
  } catch {
    throw new S3Error(
      400,
      'MalformedPOSTRequest',
      'The body of your POST request is not well-formed multipart/form-data.',
    );
  }
  const boundaryBytes = (/boundary=("?)([^";]+)\1/i.exec(contentType)?.[2] ?? '').length + 8;
  const fields = new Map<string, Field>();
  let preDataBytes = 0;
  let fileSeen = false;
  const spoolPath = join(options.spoolDir, `post-${randomBytes(8).toString('hex')}`);

  const addField = (name: string, value: string) => {
    if (fileSeen) return; // "Any fields below it are ignored."
    preDataBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + boundaryBytes + 48;
    if (preDataBytes > MAX_PRE_DATA_BYTES) {
      throw new S3Error(
        400,
        'MaxPostPreDataLengthExceeded',
        'Your POST request fields preceeding the upload file was too large.',
        {
          MaxPostPreDataLengthBytes: String(MAX_PRE_DATA_BYTES),
        },
      );
    }
    const lower = name.toLowerCase();
    const existing = fields.get(lower);
    // "If you have multiple fields with the same name, the values must be separated by commas."
    if (existing !== undefined) existing.value = `${existing.value},${value}`;
    else fields.set(lower, { name, value });
  };

  const outcome = new Promise<{ etag: string; key: string; status: number; redirect: string | undefined }>(
    (resolve, reject) => {
      const fail = (error: unknown) => {
        // Stop parsing; the rest of the body is read and dropped so that the client gets the answer.
        req.unpipe(parser);
        req.resume();
        reject(error);
      };
      parser.on('field', (name, value, info) => {
        try {
          if (info.valueTruncated || info.nameTruncated) addField(name, 'x'.repeat(MAX_PRE_DATA_BYTES));
          if (name.toLowerCase() === 'file' && !fileSeen) {
            // A file part without a file name (text sent as a plain field): small enough to be a field.
            startFile(name, undefined, Readable.from([Buffer.from(value, 'utf8')]));
            return;
          }
          addField(name, value);
        } catch (error) {
          fail(error);
        }
      });
      parser.on('file', (name, stream, info) => {
        if (fileSeen || name.toLowerCase() !== 'file') {
          // Only a part named "file" is the file; any other part is a field, and its content counts as one.
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => {
            if (chunks.reduce((sum, one) => sum + one.length, 0) <= MAX_PRE_DATA_BYTES) chunks.push(chunk);
          });
          stream.on('end', () => {
            try {
              addField(name, Buffer.concat(chunks).toString('utf8'));
            } catch (error) {
              fail(error);
            }
          });
          return;
        }
        startFile(name, info.filename, stream);
      });
      parser.on('error', () =>
        fail(
          new S3Error(
            400,
            'MalformedPOSTRequest',
            'The body of your POST request is not well-formed multipart/form-data.',
          ),
        ),
      );
      parser.on('close', () => {
        if (!fileSeen) {
          fail(
            new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.', {
              ArgumentName: 'file',
              ArgumentValue: '0',
            }),
          );
        }
      });

      function startFile(_name: string, filename: string | undefined, stream: Readable) {
        fileSeen = true;
        let limits: { maxBytes: number; minBytes: number };
        let settings: ReturnType<typeof objectSettings>;
        try {
          // "${filename}" is replaced in every field by the file's name (its last path segment); a
          // file part without a filename leaves it as it is (as S3 was recorded doing).
          if (filename !== undefined) {
            const base = filename.split(/[/\\]/).pop() ?? '';
            for (const field of fields.values())
              field.value = field.value.split(FILENAME_VARIABLE).join(base);
          }
          limits = checkForm(fields, options, now);
          settings = objectSettings(fields);
        } catch (error) {
          stream.resume();
          fail(error);
          return;
        }
        const md5Field = fields.get('content-md5')?.value;
        if (md5Field !== undefined && Buffer.from(md5Field, 'base64').length !== 16) {
          stream.resume();
          fail(new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.'));
          return;
        }
        let size = 0;
        const md5 = createHash('md5');
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            if (size > limits.maxBytes) {
              callback(
                new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
                  MaxSizeAllowed: String(limits.maxBytes),
                }),
              );
              return;
            }
            md5.update(chunk);
            callback(null, chunk);
          },
        });
        pipeline(stream, counter, createWriteStream(spoolPath))
          .then(async () => {
            if (size < limits.minBytes) {
              throw new S3Error(
                400,
                'EntityTooSmall',
                'Your proposed upload is smaller than the minimum allowed size',
                {
                  ProposedSize: String(size),
                  MinSizeAllowed: String(limits.minBytes),
                },
              );
            }
            const digest = md5.digest();
            if (md5Field !== undefined && !digest.equals(Buffer.from(md5Field, 'base64'))) {
              throw new S3Error(
                400,
                'BadDigest',
                'The Content-MD5 you specified did not match what we received.',
              );
            }
            const key = fields.get('key')?.value ?? '';
            const etag = await options.store({ key, path: spoolPath, size, ...settings });
            const statusField = fields.get('success_action_status')?.value;
            const status = statusField === '200' ? 200 : statusField === '201' ? 201 : 204;
            resolve({
              etag,
              key,
              status,
              redirect: fields.get('success_action_redirect')?.value ?? fields.get('redirect')?.value,
            });
          })
          .catch((error: unknown) => fail(error));
      }
    },
  );

  req.pipe(parser);
  try {
    const { etag, key, status, redirect } = await outcome;
    const location = objectLocation(options.bucketUrl, key);
    const common: OutgoingHttpHeaders = {
      ...options.headers,
      ...requestIds(),
      etag,
      // The bucket encrypts every object with S3-managed keys (lib/chat-files.ts).
      'x-amz-server-side-encryption': 'AES256',
    };
    const target = redirectTarget(redirect);
    if (target !== undefined) {
      target.search += `${target.search === '' ? '' : '&'}${new URLSearchParams({ bucket: options.bucket, key, etag }).toString()}`;
      res.writeHead(303, { ...common, location: target.href, 'content-length': 0 });
      res.end();
    } else if (status === 201) {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<PostResponse><Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(options.bucket)}</Bucket>` +
        `<Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></PostResponse>`;
      res.writeHead(201, {
        ...common,
        location,
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    } else {
      res.writeHead(status, { ...common, location, ...(status === 200 ? { 'content-length': 0 } : {}) });
      res.end();
    }
  } finally {
    await rm(spoolPath, { force: true });
  }
}

/** "If Amazon S3 cannot interpret the URL, it acts as if the field is not present." */
function redirectTarget(value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
