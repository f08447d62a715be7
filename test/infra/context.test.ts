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

  it('rejects a value that is not a string', () => {
    expect(() => parseAllowedOrigins(['https://chat.example.com'])).toThrow(/comma-separated/);
  });
});
