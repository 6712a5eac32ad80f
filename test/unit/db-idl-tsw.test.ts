// The IDL scenarios of db-idl.test.ts, run against tsw-dbserver instead of
// Debian's ovsdb-server (the database file is still made by ovsdb-tool, and
// ovsdb-tool still reads it afterwards).
process.env.TSW_IDL_SERVER = 'tsw';
await import('./db-idl.test.js');
