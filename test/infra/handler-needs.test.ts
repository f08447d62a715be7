import { describe, expect, it } from 'vitest';
import { allHandlers } from '../../definitions/routes.js';
import { tables } from '../../definitions/tables.js';

// Handler modules build their service at import time from their env: give them dummy config.
for (const table of Object.values(tables)) process.env[table.envVar] = `${table.constructId}-test`;
process.env.WS_CALLBACK_URL = 'https://example.execute-api.us-east-1.amazonaws.com/prod';
process.env.USER_POOL_ID = 'us-east-1_test';
process.env.USER_POOL_CLIENT_ID = 'test-client';
process.env.AWS_REGION = 'us-east-1';
process.env.FILES_BUCKET = 'files-test';
process.env.MAX_UPLOAD_BYTES = '26214400';
process.env.ATTACHMENT_CHECK_FUNCTION = 'attachment-check-test';

interface HandlerModule {
  readonly handler: unknown;
  readonly needs?: { readonly tables: readonly string[]; readonly posts: boolean };
}

describe('handler needs match the grants in definitions/routes.ts', () => {
  for (const definition of allHandlers) {
    it(`${definition.functionId} (${definition.entry}) uses exactly what it is granted`, async () => {
      const module = (await import(`../../${definition.entry}`)) as HandlerModule;

      expect(typeof module.handler).toBe('function');
      const granted = Object.keys(definition.tables).sort();
      expect([...(module.needs?.tables ?? [])].sort()).toEqual(granted);
      expect(module.needs?.posts ?? false).toBe(definition.postsToConnections);
    });
  }
});
