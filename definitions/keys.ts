/**
 * Key prefixes that both the handlers and the infrastructure need. Apart from tables.ts so that a
 * handler importing one does not bundle every table's definition.
 */

/**
 * The partition key prefix of the notified marks in the rooms table: the one kind of item the notify
 * function writes, so its grant to write that table is limited to keys with this prefix (IAM
 * dynamodb:LeadingKeys).
 */
export const notifiedMarkKeyPrefix = 'notified#';
