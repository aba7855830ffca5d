/** Python sources bundled as text by esbuild (`loader: {'.py': 'text'}` in scripts/build.mjs). */
declare module '*.py' {
  const text: string;
  export default text;
}
