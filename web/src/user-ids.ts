/**
 * User ids as typed into "Start a chat". On AWS an id is the Cognito `sub`, a lowercase UUID, so a
 * UUID-shaped id is lowercased: pasted in capitals it still finds the user. Any other id (the local
 * stack's developer ids: letters, digits and `_ . @ + -`) is kept exactly, as the server matches ids
 * exactly and folds no case: "Bob" and "bob" may be two users.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether case can matter for `userId`: not for a UUID (always lowercase), for any other id. */
export const isCaseSensitiveId = (userId: string): boolean => !UUID.test(userId);

/** The id to ask the API for: a UUID lowercased, any other id exactly as typed. */
export const normalizeUserId = (userId: string): string =>
  isCaseSensitiveId(userId) ? userId : userId.toLowerCase();
