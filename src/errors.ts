/**
 * A problem with what the caller gave us (a file, a key, a flag, a value), as opposed to a bug. Every layer's
 * user-facing error classes extend it; the command line prints its message as one line and exits with code 2.
 */
export class UserError extends Error {
  override name = 'UserError';
}
