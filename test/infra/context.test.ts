import { describe, expect, it } from 'vitest';
import { uploadLimits } from '../../definitions/uploads.js';
import { parseAllowedOrigins, parseFlag, parseMaxUploadBytes } from '../../lib/context.js';

describe('allowedOrigins context', () => {
  it('means no CORS when absent or empty', () => {
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
  });

  it('splits a comma-separated list and trims it', () => {
    expect(parseAllowedOrigins('https://chat.example.com, http://localhost:5173,')).toEqual([
      'https://chat.example.com',
      'http://localhost:5173',
    ]);
  });

  it.each(['chat.example.com', 'https://chat.example.com/', 'https://chat.example.com/app', '*'])(
    'rejects %s, which is not an origin',
    (value) => {
      expect(() => parseAllowedOrigins(value)).toThrow(/allowedOrigins/);
    },
  );

  it.each([
    'http://chat.example.com',
    'http://10.0.0.5:8080',
    'ws://chat.example.com',
    'ftp://chat.example.com',
  ])('rejects %s, which is not https', (value) => {
    expect(() => parseAllowedOrigins(value)).toThrow(/must use https/);
  });

  it('accepts plain http for the loopback host only', () => {
    expect(parseAllowedOrigins('http://localhost:5173,http://127.0.0.1:3000,http://[::1]:8080')).toEqual([
      'http://localhost:5173',
      'http://127.0.0.1:3000',
      'http://[::1]:8080',
    ]);
  });

  it('rejects a value that is not a string', () => {
    expect(() => parseAllowedOrigins(['https://chat.example.com'])).toThrow(/comma-separated/);
  });
});

describe('on/off context values', () => {
  it('reads -c name=true (a string) and a cdk.json boolean alike', () => {
    expect(parseFlag('flag', 'true')).toBe(true);
    expect(parseFlag('flag', true)).toBe(true);
    expect(parseFlag('flag', 'false')).toBe(false);
    expect(parseFlag('flag', false)).toBe(false);
  });

  it('means off when absent', () => {
    expect(parseFlag('flag', undefined)).toBe(false);
    expect(parseFlag('flag', '')).toBe(false);
  });

  it.each(['yes', '1', 'TRUE', 1])('rejects %s rather than guessing', (value) => {
    expect(() => parseFlag('apiGatewayCloudWatchRole', value)).toThrow(
      /apiGatewayCloudWatchRole must be true or false/,
    );
  });
});

describe('maxUploadBytes context', () => {
  it('means the declared default when absent or empty', () => {
    expect(parseMaxUploadBytes(undefined)).toBe(uploadLimits.defaultMaxAttachmentBytes);
    expect(parseMaxUploadBytes('')).toBe(uploadLimits.defaultMaxAttachmentBytes);
  });

  it('reads -c maxUploadBytes=26214400 (a string) and a cdk.json number alike', () => {
    expect(parseMaxUploadBytes('26214400')).toBe(26_214_400);
    expect(parseMaxUploadBytes(10_485_760)).toBe(10_485_760);
  });

  it('accepts 1 byte up to 100 MiB, what the attachment check copies while the sender waits', () => {
    const postUploadLimitBytes = uploadLimits.maxAttachmentBytesLimit;
    expect(postUploadLimitBytes).toBe(100 * 1024 ** 2);
    expect(parseMaxUploadBytes('1')).toBe(1);
    expect(parseMaxUploadBytes(String(postUploadLimitBytes))).toBe(postUploadLimitBytes);
  });

  it.each([
    '0',
    0,
    '-1',
    String(uploadLimits.maxAttachmentBytesLimit + 1),
    uploadLimits.maxAttachmentBytesLimit + 1,
    '25MB',
    '2.5e7',
    '1.5',
    1.5,
    ' 1024',
    'abc',
    Number.NaN,
    true,
  ])('rejects %s with a message naming the context value and its range', (value) => {
    expect(() => parseMaxUploadBytes(value)).toThrow(
      /Context maxUploadBytes must be a whole number of bytes from 1 to 104857600/,
    );
  });
});
