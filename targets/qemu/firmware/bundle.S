/* The JS bundle, embedded in flash as it is (the build puts bundle.js beside this file's
 * include path); main.c compiles it from here without copying it into the JS heap. */
  .section .rodata.bundle, "a"
  .global bundle_start
  .global bundle_end
  .balign 4
bundle_start:
  .incbin "bundle.js"
bundle_end:
  .byte 0
  .balign 4
