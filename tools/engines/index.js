// Running the shipped bundles inside embedded JavaScript engines, bridged to real sockets in Node.
export { startXSEngine } from "./xs.js";
export { startDuktapeEngine, dukHost } from "./duktape.js";
export { startQuickJSEngine } from "./quickjs.js";
export { startXS, xsnapBinary } from "./xsnap.js";
export { createHost } from "./host.js";
export { measureQuickJS, measureXS, record, REPORT } from "./measure.js";
export { script, bundlePath, ROOT } from "./paths.js";
