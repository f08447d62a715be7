import { describe, expect, it } from 'vitest';
import { parseAllowedOrigins } from '../../lib/context.js';

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
