/**
 * Errors thrown by the state store. They carry a stable `code` and, when the error is about one
 * input field, its name (or JSON path) in `path`, so the API layer can send them across as data
 * (`{ name, code, message, path? }`, see DESIGN.md "The contract").
 *
 * Messages never contain a secret (password, key material, ciphertext).
 */

/** Stable machine-readable codes of {@link StoreError}. */
export type StoreErrorCode =
  /** The row asked for does not exist (`path` names the key used: `id`, `name`, `version`). */
  | 'NOT_FOUND'
  /** A unique field already holds this value (`path` names it, e.g. `name`). */
  | 'DUPLICATE'
  /** An input value has the wrong shape (`path` names the field / JSON path). */
  | 'INVALID'
  /** The database was written by a newer Sluice: it holds migrations this code does not know. */
  | 'SCHEMA_TOO_NEW'
  /** A migration failed; nothing of it was applied. */
  | 'MIGRATION_FAILED'
  /** A secret was written by another {@link SecretBox} scheme than the one in use. */
  | 'SECRET_SCHEME_MISMATCH'
  /** A secret could not be decrypted (other master key, corrupted blob). */
  | 'SECRET_UNREADABLE'
  /** The master key is missing or malformed (`SLUICE_MASTER_KEY`, `<dataDir>/master.key`). */
  | 'MASTER_KEY'

/** Every error the store throws on purpose. `path` names the offending field when there is one. */
export class StoreError extends Error {
  override name = 'StoreError'
  constructor(
    public readonly code: StoreErrorCode,
    message: string,
    public readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
