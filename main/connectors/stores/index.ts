/**
 * File store registry: turns a file connection's plain {@link ConnectionConfig} (kind `file`,
 * `ftp`, `sftp`, `s3`) into a live {@link FileStore}. Store modules load lazily, so a job that
 * only reads local files never loads ssh2, basic-ftp or the AWS SDK.
 */
import type { ConnectionConfig } from '../types.js'
import type { FileStore } from './types.js'

/**
 * Open the store of a file connection. Connections are opened on first use; call `close()`.
 * Pinned host keys (SFTP) seen at first use are written into `config` (and the saved connection,
 * see main/connectors/types.ts `pinHostKey`).
 * @throws Error naming `connection.kind` when the kind is not a file store, or the field missing
 *   (`connection.path`, `connection.host`, `connection.bucket`).
 */
export async function storeFor(config: ConnectionConfig): Promise<FileStore> {
  switch (config.kind) {
    case 'file':
      return new (await import('./local.js')).LocalStore(config)
    case 'ftp':
      return new (await import('./ftp.js')).FtpStore(config)
    case 'sftp':
      return new (await import('./sftp.js')).SftpStore(config)
    case 's3':
      return new (await import('./s3.js')).S3Store(config)
    default:
      throw new Error(`connection.kind: '${config.kind}' is not a file store (expected file, ftp, sftp or s3)`)
  }
}

export type { FileStore, StoreEntry, StoreUpload } from './types.js'
