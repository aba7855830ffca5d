/**
 * Types of the hyparquet-writer modules the Parquet page tests import by subpath (the package exports
 * "./src/*.js" with "./types/*.d.ts"; this project resolves modules the Node 10 way, which ignores "exports").
 */
declare module 'hyparquet-writer/src/datapage.js' {
  export * from 'hyparquet-writer/types/datapage';
}
declare module 'hyparquet-writer/src/metadata.js' {
  export * from 'hyparquet-writer/types/metadata';
}
declare module 'hyparquet-writer/src/snappy.js' {
  export * from 'hyparquet-writer/types/snappy';
}
