// Development switch. The embedded builds (Espruino, Moddable) replace this module with
// `export const DEV = false`, so code under `if (DEV) { ... }` and error names disappear there.
// Node builds and the tests see `true`.

/** True in development builds (Node, tests); false in the embedded bundles. */
export const DEV: boolean = true;
