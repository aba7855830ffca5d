/**
 * Types of the hyparquet modules src/io/parquet.ts imports by subpath. hyparquet exports every module of its
 * src/ folder with its declaration (package.json "exports": "./src/*.js" -> "./types/*.d.ts"); this project
 * resolves modules the Node 10 way, which does not read "exports", so each subpath is mapped to its
 * declaration here. The version is pinned in package.json, so these functions cannot change under us.
 */
declare module 'hyparquet/src/column.js' {
  export * from 'hyparquet/types/column';
}
declare module 'hyparquet/src/convert.js' {
  export * from 'hyparquet/types/convert';
}
declare module 'hyparquet/src/datapage.js' {
  export * from 'hyparquet/types/datapage';
}
declare module 'hyparquet/src/encoding.js' {
  export * from 'hyparquet/types/encoding';
}
declare module 'hyparquet/src/plain.js' {
  export * from 'hyparquet/types/plain';
}
declare module 'hyparquet/src/schema.js' {
  export * from 'hyparquet/types/schema';
}
