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

/* Payload alignment: 4 is enough on the Cortex-M3 (LDRD/STRD need word alignment only; soft
 * float) and is what 16-bit heap pointers (word offsets) need; Duktape is built with
 * DUK_USE_ALIGN_BY 4 to match (duk_overrides.h). */
#ifndef POOL_ALIGN
#define POOL_ALIGN 4u
#endif

#if (POOL_SIZE % 8) != 0 || POOL_SIZE < 1024
#error POOL_SIZE must be a multiple of 8 and at least 1 KB
#endif
#if POOL_ALIGN != 4 && POOL_ALIGN != 8
#error POOL_ALIGN must be 4 or 8
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
/* blocks in use now */
uint32_t pool_blocks(void);
/* The soft limit: once the pool has grown `slack` bytes past where it stood after the last
 * collection, the next request that grows it fails once - a failure Duktape answers with a
 * collection and a retry, which is served. So garbage never piles up more than `slack` bytes,
 * not even inside one long JS call. 0 turns it off. Re-armed at the current level by each call
 * (call it after every collection the firmware runs itself). Not counted in `fails`. */
void pool_soft(size_t slack);
/* collections started by the soft limit */
uint32_t pool_soft_runs(void);
size_t pool_used(void);
/* checks every block and the free list; returns 0 when consistent */
int pool_check(void);

#endif
