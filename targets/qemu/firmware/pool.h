/*
 * The JS heap: one static pool served by a deterministic best-fit allocator with boundary
 * tags and immediate coalescing. Same inputs, same addresses, every run.
 */
#ifndef TINYHUB_POOL_H
#define TINYHUB_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifndef POOL_SIZE
#define POOL_SIZE (192u * 1024u)
#endif

#if (POOL_SIZE % 8) != 0 || POOL_SIZE < 1024
#error POOL_SIZE must be a multiple of 8 and at least 1 KB
#endif
#if POOL_SIZE > 262144
#error POOL_SIZE over 256 KB: 16-bit heap pointers (word offsets) cannot reach it
#endif

typedef struct {
  size_t size;      /* bytes in the pool */
  size_t used;      /* bytes in allocated blocks, headers included */
  size_t peak;      /* highest `used` so far */
  size_t largest;   /* largest free block now */
  uint32_t allocs;  /* successful alloc/realloc calls */
  uint32_t fails;   /* alloc/realloc calls that returned NULL */
} pool_stats_t;

void pool_init(void);
void *pool_alloc(void *udata, size_t n);
void *pool_realloc(void *udata, void *p, size_t n);
void pool_free(void *udata, void *p);
void pool_stats(pool_stats_t *st);
uint32_t pool_fails(void);
size_t pool_used(void);
/* checks every block and the free list; returns 0 when consistent */
int pool_check(void);

#endif
