import { describe, expect, it } from 'vitest';
import { envVars, eventEnvVars, tableEnvVars } from '../../definitions/env.js';
import { allHandlers } from '../../definitions/routes.js';
import { HANDLER_ENV } from '../fakes/env.js';

// Handler modules build their service at import time from their env: the dummy config every deployed
// function could find (test/fakes/env.ts), so a handler that reads a new variable needs it there once.
Object.assign(process.env, HANDLER_ENV);

interface HandlerModule {
  readonly handler: unknown;
  readonly needs?: { readonly tables: readonly string[]; readonly posts: boolean };
}

/** Read only when set: the local stack's JWKS URL and the demo delay. */
const optionalVars: readonly string[] = [envVars.jwksUrl, eventEnvVars.notifyDelaySeconds];

it('the dummy environment has every variable a handler may require', () => {
  const required = [
    ...Object.values(envVars),
    ...Object.values(eventEnvVars),
    ...Object.values(tableEnvVars),
  ].filter((name) => !optionalVars.includes(name));
  expect(required.filter((name) => !(name in HANDLER_ENV))).toEqual([]);
});

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
