/**
 * UI strings in zh-CN and English (switchable at run time: `useUi().locale`). Chinese terms follow
 * the glossary in DESIGN.md (数据来源 / 数据去向 / 字段映射 / 同名映射 / 同行映射 / 脏数据 / 切分键 ...).
 * vue-i18n message syntax: `{name}` is a parameter; literal braces must not appear in messages.
 */
import { createI18n } from 'vue-i18n'
import { wbEn, wbZh } from './i18n-workbench.js'
import { schedulerMessages } from './i18n.scheduler.js'

export type Locale = 'zh-CN' | 'en'

const en = {
  nav: { connections: 'Connections', jobs: 'Jobs', runs: 'Runs', sql: 'SQL', cleanup: 'Data clean-up' },
  theme: { auto: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' },
  channel: { ipc: 'Live (IPC)', open: 'Live', connecting: 'Connecting…', closed: 'Offline, reconnecting' },
  common: { cancel: 'Cancel', save: 'Save', edit: 'Edit', delete: 'Delete', duplicate: 'Duplicate', search: 'Search' },
  state: { created: 'created', running: 'running', succeeded: 'succeeded', succeeded_with_warnings: 'succeeded with warnings', failed: 'failed', terminated: 'terminated', inconsistent: 'inconsistent', skipped: 'skipped', pending: 'pending' },
  conn: {
    new: 'New connection', edit: 'Edit {name}', name: 'Name', kind: 'Type', host: 'Host', port: 'Port', user: 'User', password: 'Password',
    passwordSaved: 'saved — leave empty to keep', clearPassword: 'Remove the saved password', database: 'Database', schema: 'Schema', path: 'File path',
    timezone: 'Session time zone', address: 'Address', updated: 'Updated', test: 'Test connection', testOk: 'OK in {ms} ms — {version}',
    required: '{field} is required', portRange: 'Port must be an integer from 1 to 65535', savedMsg: 'Saved {name}', confirmDelete: 'Delete connection {name}?',
    kindFile: 'Local folder', kindS3: 'S3 / compatible', folder: 'Folder', remoteFolder: 'Remote folder', prefix: 'Key prefix', bucket: 'Bucket',
    region: 'Region', endpoint: 'Endpoint', pathStyle: 'Path-style addressing', accessKey: 'Access key ID', secretKey: 'Secret access key',
    ftps: 'Explicit FTPS (TLS)', passive: 'Passive mode (off: active, PORT)', tlsAcceptAny: 'Accept any certificate', privateKey: 'Private key', passphrase: 'Key passphrase',
    keyFile: 'or read a file:', keyPaste: 'Paste an OpenSSH, PEM or PKCS#8 private key', secretSaved: 'saved — leave empty to keep',
    clearSecret: 'Remove the saved value', hostKey: 'Host key', hostKeyNone: 'pinned at the first connection', hostKeyClear: 'Forget',
    sshTunnel: 'SSH tunnel', sshHost: 'SSH host', sshPort: 'SSH port', sshUser: 'SSH user', sshPassword: 'SSH password', jump: 'Jump host',
    jumpHost: 'Jump host address', jumpUser: 'Jump host user', entries: 'Found: {list}', emptyRoot: 'the folder is empty',
  },
  job: {
    new: 'New job', edit: 'Job', name: 'Job name', version: 'Version', lastRun: 'Last run', nextRun: 'Next run', updated: 'Updated', run: 'Run',
    confirmDelete: 'Delete job {name} and its versions?', wizard: 'Wizard', script: 'Script', versions: 'Versions', validate: 'Validate',
    exportForServer: 'Export for server', exportFormat: 'Format', exportWarnings: 'Not expressible in this format', download: 'Download', exportSecrets: 'Passwords are placeholders ({ph}); inject them on the server.',
    unsaved: 'unsaved', nameRequired: 'Give the job a name first', savedMsg: 'Saved as version {version}', valid: 'No problems found',
    schemaUnavailable: 'Job schema unavailable', scriptSyntax: 'The script is not valid JSON', scriptInvalid: 'The script does not match the job schema',
    line: 'line', openVersion: 'Open v{v} in the editor',
  },
  wiz: {
    step1: 'Source', step2: 'Target', step3: 'Field mapping', step4: 'Channel control', step5: 'Save / run', prev: 'Previous', next: 'Next',
    connection: 'Connection', schema: 'Schema / database', schemaDefault: "the connection's default", selection: 'Read', someTables: 'Tables',
    wholeDb: 'Whole database', tables: 'Tables', exclude: 'Except', filter: 'Filter', filterNormal: 'Where', filterTime: 'Time range',
    filterCustom: 'Custom SQL', timeColumn: 'Time column', timeRange: 'Range', pairWhere: 'Some tables carry their own where (see the script); it overrides this one.',
    identifierCase: 'Created names', caseKeep: 'Keep as source', caseLower: 'lower case', targetTables: 'Target tables', exists: 'exists',
    willCreate: 'will be created', createTable: 'Missing tables', createTableHint: 'Create if missing', truncate: 'Truncate before load',
    sqlPerLine: 'one statement per line', ddl: 'DDL', ddlPreview: 'Preview DDL', finalHint: 'Save writes a new version of the job; Run saves (if changed) and starts it.',
    saveVersion: 'Save new version',
  },
  map: {
    sameName: 'Same-name mapping', sameRow: 'Same-row mapping', unmapAll: 'Unmap all', reset: 'Reset', addConstant: 'Add constant field',
    count: '{mapped} mapped · {sources} source / {targets} target columns', defaultMode: 'default: same-name', source: 'Source column', type: 'Type',
    target: 'Target column', from: 'Fed by', value: 'NULL default / constant', timeFormat: 'Time format (from → to)', warnings: 'Warnings',
    constant: '= constant', constantValue: 'constant value', nullDefault: 'when NULL', unmapped: 'not mapped', noPreview: 'No preview for this table',
    noWriter: 'Pick the target connection first', emptyFallsBack: 'No column is mapped: an empty mapping means the default same-name mapping when the job runs.',
    wholeDb: 'Whole-database jobs map every table by name; pick tables to edit their mapping.',
  },
  ch: {
    channel: 'Channels (speed.channel)', channelDefault: 'default: min(4, cores)', splitPk: 'Split key (splitPk)', splitPkHint: 'none: one channel per table',
    record: 'Max records/s (0 = no limit)', byte: 'Max bytes/s (0 = no limit)', errorRecord: 'Max dirty records', errorPct: 'Max dirty share',
  },
  run: {
    name: 'Run', job: 'Job', state: 'State', started: 'Started', duration: 'Duration', rows: 'Rows written', rowsRead: 'Rows read', rate: 'Rows/s',
    dirty: 'Dirty', table: 'Table', stages: 'Stages', progress: 'Progress', error: 'Error', terminate: 'Terminate', rerun: 'Rerun',
    retryFailed: 'Retry failed tasks', openJob: 'Open job', throughput: 'Throughput', logs: 'Log', dirtyRecords: 'Dirty records', task: 'Task',
    reason: 'Reason', code: 'Code', values: 'Source values',
  },
  files: {
    patterns: 'Files (path patterns)', addPattern: '+ another pattern', patternHint: "Relative to the connection folder; wildcards * ? and {'{a,b}'}, variables such as {'${YYYYMMDD}'}. Each file is one split.",
    targets: 'Base file names', format: 'Format', byExtension: 'by file extension', compression: 'Compression', auto: 'auto', none: 'none',
    delimiter: 'Field delimiter', delimiterHint: 'escapes: \\t, \\001, \\u0001', header: 'Header row', quote: 'Quote', skipRows: 'Skip lines', nullFormat: 'NULL as',
    encoding: 'Encoding', bytes: 'Bytes', folder: 'Folder', fileName: 'File name', fileNameDefault: 'default: the table name', batchRows: 'Rows per part file',
    parquetCodec: 'Parquet codec', manifest: 'Manifest', exportFiles: 'Export files', clean: 'Clean up files', cleaned: '{n} files deleted',
    path: 'Path', rows: 'Rows', state: 'State', exists: 'exists', deleted: 'deleted', absent: 'absent',
  },
  sql: {
    run: 'Run', cancel: 'Cancel', history: 'History', elapsed: '{ms} ms', rows: '{n} rows | {n} row | {n} rows', affected: '{n} rows affected',
    truncated: 'first {n} rows', more: 'Fetch {n} more', rowsPerPage: 'rows / page', rowsShort: 'rows',
  },
  cleanup: {
    hint: 'After a verified run, delete the rows it copied from the source, in primary-key batches. A run whose TableDataDiff did not pass needs a recorded reason.',
    dataTime: 'Data time', lastRun: 'Last run', verified: 'Verified', yes: 'consistent', no: 'not verified', sourceState: 'Source data', deleted: 'Rows deleted',
    exportFiles: 'Export files', filesExist: '{n} exist', filesDeleted: '{n} deleted', filesAbsent: '{n} absent',
    dryRun: 'Dry run', run: 'Clean up', batch: 'Rows per batch', dryRunOf: 'Dry run: {job}', gateOk: 'Verified consistent', gateNo: 'Not verified consistent',
    rowsToDelete: '{n} rows to delete', started: 'Clean-up started', forceTitle: 'Force the clean-up?', force: 'Force',
    forceText: 'The run is not verified consistent. Deleting source rows now may lose data that never reached the target. Give the reason (it is recorded).',
    reason: 'Reason', history: 'Clean-up history', rows: 'rows', lastKey: 'Last key', who: 'User / host', forcedBecause: 'forced: {reason}',
    state: { not_cleaned: 'not cleaned', cleaning: 'cleaning', cleaned: 'cleaned', refused: 'refused' },
    run_state: { running: 'running', succeeded: 'succeeded', failed: 'failed', terminated: 'terminated', refused: 'refused' },
  },
  mappingImport: {
    button: 'Import table mapping', title: 'Import a table-mapping file', file: 'Mapping file', fill: 'Give a name, a source and a target first',
    placeholder: 'source_db.table[:partition spec],target_db.table — one line per table', import: 'Import', saved: 'Saved a job with {n} tasks', line: 'line {line}',
  },
}

const zh: typeof en = {
  nav: { connections: '数据源', jobs: '同步任务', runs: '运行记录', sql: 'SQL 查询', cleanup: '清理源数据' },
  theme: { auto: '主题：跟随系统', light: '主题：浅色', dark: '主题：深色' },
  channel: { ipc: '实时（IPC）', open: '实时', connecting: '连接中…', closed: '已断开，重连中' },
  common: { cancel: '取消', save: '保存', edit: '编辑', delete: '删除', duplicate: '复制', search: '搜索' },
  state: { created: '已创建', running: '运行中', succeeded: '成功', succeeded_with_warnings: '成功（有警告）', failed: '失败', terminated: '已终止', inconsistent: '不一致', skipped: '已跳过', pending: '等待中' },
  conn: {
    new: '新建数据源', edit: '编辑 {name}', name: '名称', kind: '类型', host: '主机', port: '端口', user: '用户名', password: '密码',
    passwordSaved: '已保存 — 留空则保持不变', clearPassword: '清除已保存的密码', database: '数据库', schema: 'Schema', path: '文件路径',
    timezone: '会话时区', address: '地址', updated: '更新时间', test: '测试连接', testOk: '连接成功，耗时 {ms} ms — {version}',
    required: '请填写{field}', portRange: '端口必须是 1 到 65535 之间的整数', savedMsg: '已保存 {name}', confirmDelete: '删除数据源 {name}？',
    kindFile: '本地文件夹', kindS3: 'S3 / 兼容存储', folder: '文件夹', remoteFolder: '远程目录', prefix: '对象前缀', bucket: '存储桶 (Bucket)',
    region: '区域 (Region)', endpoint: '服务地址 (Endpoint)', pathStyle: '路径风格访问 (Path style)', accessKey: 'Access Key ID', secretKey: 'Secret Access Key',
    ftps: '显式 FTPS（TLS）', passive: '被动模式（关闭则为主动模式 PORT）', tlsAcceptAny: '接受任意证书', privateKey: '私钥', passphrase: '私钥口令',
    keyFile: '或读取文件：', keyPaste: '粘贴 OpenSSH、PEM 或 PKCS#8 格式的私钥', secretSaved: '已保存 — 留空则保持不变',
    clearSecret: '清除已保存的值', hostKey: '主机密钥', hostKeyNone: '首次连接时固定', hostKeyClear: '忘记',
    sshTunnel: 'SSH 隧道', sshHost: 'SSH 主机', sshPort: 'SSH 端口', sshUser: 'SSH 用户名', sshPassword: 'SSH 密码', jump: '跳板机',
    jumpHost: '跳板机地址', jumpUser: '跳板机用户名', entries: '根目录内容：{list}', emptyRoot: '目录为空',
  },
  job: {
    new: '新建任务', edit: '任务', name: '任务名称', version: '版本', lastRun: '最近运行', nextRun: '下次运行', updated: '更新时间', run: '运行',
    confirmDelete: '删除任务 {name} 及其所有版本？', wizard: '向导模式', script: '脚本模式', versions: '版本', validate: '校验',
    exportForServer: '导出到服务器', exportFormat: '格式', exportWarnings: '该格式无法表达的内容', download: '下载', exportSecrets: '密码已替换为占位符（{ph}），请在服务器端注入。',
    unsaved: '未保存', nameRequired: '请先填写任务名称', savedMsg: '已保存为版本 {version}', valid: '未发现问题',
    schemaUnavailable: '无法获取任务 Schema', scriptSyntax: '脚本不是合法的 JSON', scriptInvalid: '脚本不符合任务 Schema',
    line: '行', openVersion: '在编辑器中打开 v{v}',
  },
  wiz: {
    step1: '数据来源', step2: '数据去向', step3: '字段映射', step4: '通道控制', step5: '保存/运行', prev: '上一步', next: '下一步',
    connection: '数据源', schema: 'Schema / 数据库', schemaDefault: '使用数据源默认值', selection: '读取范围', someTables: '指定表',
    wholeDb: '整库', tables: '表', exclude: '排除', filter: '过滤条件', filterNormal: '普通', filterTime: '时间范围',
    filterCustom: '自定义 SQL', timeColumn: '时间字段', timeRange: '范围', pairWhere: '部分表在脚本中有自己的 where，会覆盖此处的条件。',
    identifierCase: '新建表名', caseKeep: '保持源端', caseLower: '小写', targetTables: '目标表', exists: '已存在',
    willCreate: '将自动建表', createTable: '目标表不存在时', createTableHint: '自动建表', truncate: '写入前清空数据',
    sqlPerLine: '每行一条语句', ddl: '建表语句', ddlPreview: '预览建表语句', finalHint: '保存会生成任务的新版本；运行会先保存（如有修改）再启动。',
    saveVersion: '保存新版本',
  },
  map: {
    sameName: '同名映射', sameRow: '同行映射', unmapAll: '取消映射', reset: '重置', addConstant: '添加常量字段',
    count: '已映射 {mapped} · 源 {sources} 列 / 目标 {targets} 列', defaultMode: '默认：同名映射', source: '源字段', type: '类型',
    target: '目标字段', from: '来源', value: 'NULL 默认值 / 常量', timeFormat: '时间格式（源 → 目标）', warnings: '警告',
    constant: '= 常量', constantValue: '常量值', nullDefault: 'NULL 时写入', unmapped: '未映射', noPreview: '无法预览此表',
    noWriter: '请先选择目标数据源', emptyFallsBack: '没有映射任何字段：运行时空映射等同于默认的同名映射。',
    wholeDb: '整库任务按同名映射所有表；如需编辑字段映射，请改为指定表。',
  },
  ch: {
    channel: '并发数（speed.channel）', channelDefault: '默认：min(4, CPU 核数)', splitPk: '切分键（splitPk）', splitPkHint: '不切分：每张表一个通道',
    record: '同步速率上限 条/秒（0 不限）', byte: '同步速率上限 字节/秒（0 不限）', errorRecord: '脏数据条数上限', errorPct: '脏数据比例上限',
  },
  run: {
    name: '运行', job: '任务', state: '状态', started: '开始时间', duration: '耗时', rows: '写入行数', rowsRead: '读取行数', rate: '行/秒',
    dirty: '脏数据', table: '表', stages: '阶段', progress: '进度', error: '错误', terminate: '终止', rerun: '重跑',
    retryFailed: '重试失败的表', openJob: '打开任务', throughput: '吞吐量', logs: '日志', dirtyRecords: '脏数据记录', task: '表任务',
    reason: '原因', code: '错误码', values: '源数据',
  },
  files: {
    patterns: '文件（路径模式）', addPattern: '+ 再加一个模式', patternHint: "相对连接的目录；支持 * ? 和 {'{a,b}'} 通配，以及 {'${YYYYMMDD}'} 等变量。每个文件是一个切分。",
    targets: '文件基本名', format: '格式', byExtension: '按扩展名', compression: '压缩', auto: '自动', none: '无',
    delimiter: '列分隔符', delimiterHint: '转义：\\t、\\001、\\u0001', header: '表头行', quote: '引号', skipRows: '跳过行数', nullFormat: 'NULL 写作',
    encoding: '编码', bytes: '二进制', folder: '目录', fileName: '文件名', fileNameDefault: '默认：表名', batchRows: '每个分片文件行数',
    parquetCodec: 'Parquet 压缩', manifest: '清单文件', exportFiles: '导出文件', clean: '清理文件', cleaned: '已删除 {n} 个文件',
    path: '路径', rows: '行数', state: '状态', exists: '存在', deleted: '已删除', absent: '不存在',
  },
  sql: {
    run: '执行', cancel: '取消', history: '历史记录', elapsed: '{ms} 毫秒', rows: '{n} 行 | {n} 行 | {n} 行', affected: '影响 {n} 行',
    truncated: '前 {n} 行', more: '再取 {n} 行', rowsPerPage: '行/页', rowsShort: '行',
  },
  cleanup: {
    hint: '运行校验一致后，按主键分批从源端删除已迁移的数据。数据校验未通过的运行需要填写原因（会被记录）才能强制清理。',
    dataTime: '数据时间', lastRun: '最近运行', verified: '校验', yes: '一致', no: '未校验通过', sourceState: '源数据', deleted: '已删除行数',
    exportFiles: '导出文件', filesExist: '{n} 个存在', filesDeleted: '{n} 个已删除', filesAbsent: '{n} 个不存在',
    dryRun: '试运行', run: '清理', batch: '每批行数', dryRunOf: '试运行：{job}', gateOk: '校验一致', gateNo: '校验未通过',
    rowsToDelete: '将删除 {n} 行', started: '已开始清理', forceTitle: '强制清理？', force: '强制清理',
    forceText: '该运行未校验一致。现在删除源数据可能丢失未到达目标端的数据。请填写原因（会被记录）。',
    reason: '原因', history: '清理历史', rows: '行', lastKey: '最后主键', who: '用户 / 主机', forcedBecause: '强制：{reason}',
    state: { not_cleaned: '未清理', cleaning: '清理中', cleaned: '已清理', refused: '已拒绝' },
    run_state: { running: '运行中', succeeded: '成功', failed: '失败', terminated: '已终止', refused: '已拒绝' },
  },
  mappingImport: {
    button: '导入表映射', title: '导入表映射文件', file: '映射文件', fill: '请先填写名称并选择数据来源和数据去向',
    placeholder: '源库.表[:分区条件],目标库.表 —— 每行一张表', import: '导入', saved: '已保存任务，共 {n} 个表任务', line: '第 {line} 行',
  },
}

/** The i18n instance (Composition API mode). */
export const i18n = createI18n({ legacy: false, locale: 'en', fallbackLocale: 'en', messages: { en: { ...en, ...wbEn }, 'zh-CN': { ...zh, ...wbZh } } })

// Scheduler screens (issue 10): their own file, merged here.
for (const [l, m] of Object.entries(schedulerMessages)) i18n.global.mergeLocaleMessage(l, m)
