/*
 * External strings: Duktape asks, for every string it interns, whether its bytes already sit in
 * flash (DUK_USE_EXTSTR_INTERN_CHECK in duk_overrides.h). The table (extstr_table.h, generated
 * by tools/qemu/extstr.js from the bundle and the built-ins' names) holds the NUL-terminated
 * strings of 4 bytes or more, sorted by length, then bytes. A string found there costs a
 * 16-byte header in the JS heap instead of 12 bytes + its bytes + NUL.
 */
#include <string.h>
#include "extstr.h"
#include "extstr_table.h"

const void *tinyhub_extstr(const void *ptr, size_t len) {
  unsigned lo = 0, hi = EXTSTR_COUNT;
  if (len < 4 || len > 255) return NULL;
  while (lo < hi) {
    unsigned mid = (lo + hi) / 2;
    const char *s = extstr_data + extstr_off[mid];
    size_t n = strlen(s);
    int c = n != len ? (n < len ? -1 : 1) : memcmp(s, ptr, len);
    if (!c) return s;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}
