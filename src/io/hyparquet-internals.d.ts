// Types of the hyparquet modules imported by their own path (hyparquet exports ./src/*.js with types in
// ./types/*.d.ts, which this project's module resolution does not follow through the package's exports).
declare module 'hyparquet/src/column.js' {
  export { readColumn } from 'hyparquet/types/column';
}
declare module 'hyparquet/src/convert.js' {
  export { DEFAULT_PARSERS } from 'hyparquet/types/convert';
}
declare module 'hyparquet/src/schema.js' {
  export { getSchemaPath } from 'hyparquet/types/schema';
}
