/**
 * Connector registry: turns plain {@link ConnectionConfig} into a live {@link Connector}.
 * Drivers load lazily so a CLI call that only needs SQLite never loads mysql2 or pg.
 */
import type { ConnectionConfig, Connector } from './types.js'

/**
 * Open a connector for `config`. Connections are opened lazily on first use; call `close()`.
 * @throws Error naming `kind` when the kind is unknown.
 */
export async function openConnector(config: ConnectionConfig): Promise<Connector> {
  if (config.ssh && (config.kind === 'mysql' || config.kind === 'postgres')) {
    // Through an SSH tunnel (main/connectors/tunnel.ts): the tunnel opens first, the connector
    // connects to its local port, and closes it with itself.
    const { openTunneled } = await import('./tunnel.js')
    return openTunneled(config, (c) => openConnector(c))
  }
  switch (config.kind) {
    case 'mysql':
      return (await import('./mysql/index.js')).createMysqlConnector(config)
    case 'postgres':
      return (await import('./postgres/index.js')).createPostgresConnector(config)
    case 'sqlite':
      return (await import('./sqlite/index.js')).createSqliteConnector(config)
    case 'file':
    case 'ftp':
    case 'sftp':
    case 's3':
      // A file store with its format (main/connectors/file/): the engine's reader / writer of files.
      return new (await import('./file/connector.js')).FileConnector(config)
    default:
      throw new Error(`connection.kind: unknown connector kind '${(config as { kind: string }).kind}' (expected mysql, postgres or sqlite)`)
  }
}

export * from './types.js'
