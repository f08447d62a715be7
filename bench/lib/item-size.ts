/**
 * DynamoDB item size by the rules AWS documents for capacity ("Item sizes and formats"): attribute
 * names count in UTF-8 bytes; strings UTF-8 bytes; numbers about 1 byte per 2 significant digits
 * plus 1; booleans and null 1 byte; lists and maps 3 bytes plus 1 byte per element plus their
 * contents (and, for maps, the element names). Used to cross-check the capacity DynamoDB Local
 * reports, and to say what a bigger message would cost.
 */

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

function numberSize(value: number): number {
  const digits = String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').replace(/e.*$/i, '');
  return 1 + Math.ceil(Math.max(1, digits.length) / 2);
}

export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, item) => sum + 1 + valueSize(item), 0);
  if (value instanceof Set) return [...value].reduce((sum: number, item) => sum + valueSize(item), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [name, item]) => sum + 1 + utf8(name) + valueSize(item),
        0,
      )
    );
  }
  return 0;
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

/** Write request units of writing an item of `bytes` (1 per started KB). */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
/** Read request units of an eventually consistent read of `bytes` (0.5 per started 4 KB). */
export const eventualReadUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096)) / 2;
