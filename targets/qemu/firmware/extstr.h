/* External strings in flash for Duktape (extstr.c). */
#ifndef TINYHUB_EXTSTR_H
#define TINYHUB_EXTSTR_H

#include <stddef.h>

/* The flash copy (NUL-terminated) of the `len` bytes at `ptr`, or NULL when there is none. */
const void *tinyhub_extstr(const void *ptr, size_t len);

#endif
