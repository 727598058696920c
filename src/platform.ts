// The primitives an engine may have natively: text as UTF-8 for now. This is the portable version, linked into
// the Node and QEMU builds; a target whose engine does it differently links targets/<name>/platform.ts in its
// place (rollup.config.js, `platformOf`), with the same exports.
export { utf8Length, utf8Write, utf8Read } from "./bytes";
