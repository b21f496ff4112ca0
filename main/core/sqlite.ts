/**
 * Open a better-sqlite3 database with the native addon the running runtime needs.
 *
 * better-sqlite3 is a native module: the copy in node_modules is built for Node's ABI (what
 * `npm test` and the CLI use). Electron has its own ABI, so `scripts/electron-start.mjs` builds a
 * second copy into `.electron-native/` and passes its path in `SLUICE_SQLITE_BINDING`; the
 * packaged app gets one rebuilt by electron-builder (`npmRebuild`) and leaves the variable unset.
 * better-sqlite3 accepts the addon path as the `nativeBinding` option (its docs, "new Database").
 */
import Database from 'better-sqlite3'

/** Environment variable naming the `better_sqlite3.node` file to load instead of the default. */
export const SQLITE_BINDING_ENV = 'SLUICE_SQLITE_BINDING'

/**
 * `new Database(file, options)`, adding `nativeBinding: $SLUICE_SQLITE_BINDING` when that variable
 * is set and `options.nativeBinding` is not.
 * @throws better-sqlite3's errors (`SQLITE_CANTOPEN`...), or the addon load error when the binding
 *   does not match the runtime's ABI (`NODE_MODULE_VERSION` mismatch).
 */
export function openDatabase(file: string, options: Database.Options = {}): Database.Database {
  const binding = process.env[SQLITE_BINDING_ENV]
  return new Database(file, binding && options.nativeBinding === undefined ? { ...options, nativeBinding: binding } : options)
}
