// binary-parser's package.json "exports" points ESM imports at an .mjs with no .d.mts beside
// it, so NodeNext resolution finds no types. Its CJS declarations describe the same API.
declare module 'binary-parser' {
  export { Parser } from 'binary-parser/dist/binary_parser.js';
}
