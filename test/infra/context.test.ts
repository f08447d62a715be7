import { describe, expect, it } from 'vitest';
import { uploadLimits } from '../../definitions/uploads.js';
import {
  maxNotifyDelaySeconds,
  parseAllowedOrigins,
  parseEmailSettings,
  parseFlag,
  parseMaxUploadBytes,
  parseNotifyDelaySeconds,
  parseWebhookUrl,
} from '../../lib/context.js';

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

describe('webhookUrl context', () => {
  it('means no webhook when absent or empty', () => {
    expect(parseWebhookUrl(undefined)).toBeUndefined();
    expect(parseWebhookUrl('')).toBeUndefined();
  });

  it('accepts an https URL, path and query included, trimmed', () => {
    expect(parseWebhookUrl(' https://hooks.example.com/chat?team=1 ')).toBe(
      'https://hooks.example.com/chat?team=1',
    );
    expect(parseWebhookUrl('https://hooks.example.com:8443')).toBe('https://hooks.example.com:8443');
  });

  it.each(['http://hooks.example.com/chat', 'ftp://hooks.example.com', 'wss://hooks.example.com'])(
    'rejects %s, which is not https',
    (value) => {
      expect(() => parseWebhookUrl(value)).toThrow(/webhookUrl.*must use https/);
    },
  );

  it.each(['hooks.example.com/chat', '/chat', 'https://', 'not a url'])(
    'rejects %s, which is not a URL',
    (value) => {
      expect(() => parseWebhookUrl(value)).toThrow(/webhookUrl/);
    },
  );

  it('rejects credentials in the URL, which would be in the template', () => {
    expect(() => parseWebhookUrl('https://user:secret@hooks.example.com/chat')).toThrow(/credentials/);
  });

  it('rejects a value that is not a string', () => {
    expect(() => parseWebhookUrl(42)).toThrow(/webhookUrl must be a string/);
  });
});

describe('emailFrom and appUrl context', () => {
  it('means no e-mail when both are absent or empty', () => {
    expect(parseEmailSettings(undefined, undefined)).toBeUndefined();
    expect(parseEmailSettings('', '')).toBeUndefined();
  });

  it('reads one address and an https URL, trimmed', () => {
    expect(parseEmailSettings(' chat@example.com ', ' https://chat.example.com/app ')).toEqual({
      from: 'chat@example.com',
      appUrl: 'https://chat.example.com/app',
    });
  });

  it('refuses one without the other', () => {
    // Without appUrl the e-mails link to the stack's own web client (chat-stack.ts).
    expect(parseEmailSettings('chat@example.com', undefined)).toEqual({ from: 'chat@example.com' });
    expect(() => parseEmailSettings(undefined, 'https://chat.example.com')).toThrow(/give emailFrom too/);
  });

  it.each([
    'chat',
    'chat@example',
    'Chat <chat@example.com>',
    'a@example.com,b@example.com',
    'a b@example.com',
    7,
  ])('rejects the From address %s', (value) => {
    expect(() => parseEmailSettings(value, 'https://chat.example.com')).toThrow(
      /emailFrom must be one e-mail address/,
    );
  });

  it.each(['chät@example.com', 'chat@exämple.com'])(
    'rejects the non-ASCII From address %s (SES has no SMTPUTF8)',
    (value) => {
      expect(() => parseEmailSettings(value, 'https://chat.example.com')).toThrow(/emailFrom must be ASCII/);
      expect(parseEmailSettings('chat@xn--exmple-cua.com', 'https://chat.example.com')?.from).toBe(
        'chat@xn--exmple-cua.com',
      );
    },
  );

  it.each(['http://chat.example.com', 'chat.example.com', 'https://user:pw@chat.example.com'])(
    'rejects the app URL %s',
    (value) => {
      expect(() => parseEmailSettings('chat@example.com', value)).toThrow(/appUrl/);
    },
  );
});

describe('notifyDelaySeconds context', () => {
  it('means the users’ preferences when absent or empty', () => {
    expect(parseNotifyDelaySeconds(undefined)).toBeUndefined();
    expect(parseNotifyDelaySeconds('')).toBeUndefined();
  });

  it('reads -c notifyDelaySeconds=60 (a string) and a cdk.json number alike, up to the longest delay', () => {
    expect(parseNotifyDelaySeconds('60')).toBe(60);
    expect(parseNotifyDelaySeconds(120)).toBe(120);
    expect(maxNotifyDelaySeconds).toBe(1440 * 60);
    expect(parseNotifyDelaySeconds(String(maxNotifyDelaySeconds))).toBe(maxNotifyDelaySeconds);
  });

  it.each([
    '0',
    0,
    '-5',
    '1.5',
    1.5,
    '60s',
    ' 60',
    // Not whole minutes: EventBridge Scheduler could run the check before its delay.
    '30',
    90,
    String(maxNotifyDelaySeconds + 60),
    true,
  ])('rejects %s', (value) => {
    expect(() => parseNotifyDelaySeconds(value)).toThrow(
      /Context notifyDelaySeconds must be a whole number of minutes in seconds \(60, 120, \.\.\.\) up to 86400/,
    );
  });
});
