// The OVSDB layer's public face: values and schemas, the in-memory database
// and its transactions, the on-disk log, the server, and the IDL client that
// the CLIs and vswitchd build on.
export { OvsdbError } from './errors.js';
export type { AtomicType, BaseType, ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from './schema.js';
export { parseSchema, schemaToJson, columnTypeToJson, findColumn, isMap, isSet, isScalar, isOptional } from './schema.js';
export type { Atom, Datum, NamedUuids } from './datum.js';
export {
  atomCompare, atomFromJson, atomToJson, atomToText, atomDefault, checkConstraints, datumApplyDiff, datumDefault,
  datumDiff, datumEquals, datumFind, datumFromJson, datumIsDefault, datumToJson, datumToText, diffFromJson, isComposite,
  makeDatum, newUuid, stringNeedsQuotes, UUID_RE, ZERO_UUID,
} from './datum.js';
export type { Row, RowChange, Change } from './database.js';
export { Database } from './database.js';
export type { TxnContext, TxnOutcome } from './transaction.js';
export { executeTransaction, compileWhere } from './transaction.js';
export { DbFile } from './storage.js';
export type { ServerOptions } from './server.js';
export { OvsdbServer } from './server.js';
export type { IdlOptions, IdlRow, IdlTxn, TxnResult, TxnRow } from './idl.js';
export { Idl, IdlError, rowName } from './idl.js';
