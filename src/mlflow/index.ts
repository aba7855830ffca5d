/** MLflow clients: tracking, the filter builder, the workspace registry and Unity Catalog models. */
export * from './types';
export * from './filter';
export * from './tracking';
export * from './registry';
export * from './unity-catalog';
export { collect } from './paging';
