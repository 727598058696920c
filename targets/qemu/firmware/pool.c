/*
 * Best-fit allocator over one static pool.
 *
 * Block = 4-byte header (size | flags) + payload; sizes are multiples of POOL_ALIGN (pool.h: 4)
 * and so are the payload addresses. A free block also keeps list links in its payload and its
 * size in its last word (the footer), so freeing coalesces with both neighbours in constant
 * time. The free list is kept in address order, so the layout is reproducible run to run. A
 * zero-size, always-used header at the end of the pool stops coalescing there. A soft limit
 * (pool_soft) makes the engine collect before the pool grows much past its live size.
 *
 * 16-bit heap pointers (duk_overrides.h) are word offsets from `tinyhub_pool`, so every
 * payload must lie below tinyhub_pool + 256 KB: pool.h refuses larger pools.
 */
#include <string.h>
#include "pool.h"

uint8_t tinyhub_pool[POOL_SIZE] __attribute__((aligned(8)));

#define HDR 4u
#define F_USED 1u
#define F_PREV_USED 2u
#define MASK ((uint32_t) POOL_ALIGN - 1u)
#define SIZE_OF(h) ((h) & ~MASK)

typedef struct block {
  uint32_t hdr;
  struct block *next; /* free blocks only */
  struct block *prev;
} block_t;

/* header + links + footer: 16 bytes on the 32-bit target (more on a 64-bit host test build) */
#define MIN_BLOCK ((uint32_t) ((sizeof(block_t) + 4u + MASK) & ~(size_t) MASK))

static block_t *head;
static size_t used, peak;
static uint32_t allocs, fails;
/* the soft limit (pool_soft): 0 = off; `soft_at` is the level that, once passed, makes the next
 * growing request fail once; `soft_again`: that happened, the engine collects and asks again */
static size_t soft_slack, soft_at;
static int soft_again;
static uint32_t soft_runs;

static inline uint32_t bsize(const block_t *b) {
  return SIZE_OF(b->hdr);
}

static inline block_t *after(block_t *b) {
  return (block_t *) ((uint8_t *) b + bsize(b));
}

static inline void set_footer(block_t *b) {
  *(uint32_t *) ((uint8_t *) b + bsize(b) - 4) = bsize(b);
}

static void unlink_block(block_t *b) {
  if (b->prev) b->prev->next = b->next;
  else head = b->next;
  if (b->next) b->next->prev = b->prev;
}

/* links `r` between `prev` and `next` */
static void link_between(block_t *r, block_t *prev, block_t *next) {
  r->prev = prev;
  r->next = next;
  if (next) next->prev = r;
  if (prev) prev->next = r;
  else head = r;
}

/* puts `r` in the list where `old` was (r and old share the same gap between used blocks);
 * r's header must not have been written yet if r lies inside old's links */
static void replace_block(block_t *old, block_t *r) {
  link_between(r, old->prev, old->next);
}

static void insert_block(block_t *b) {
  block_t *p = NULL, *q = head;
  while (q && q < b) {
    p = q;
    q = q->next;
  }
  b->prev = p;
  b->next = q;
  if (p) p->next = b;
  else head = b;
  if (q) q->prev = b;
}

static void account(size_t grow) {
  used += grow;
  if (used > peak) peak = used;
  allocs++;
}

/* block bytes for a request of n payload bytes; 0 when it can never fit */
static uint32_t need_of(size_t n) {
  uint32_t s;
  if (n > POOL_SIZE) return 0;
  s = ((uint32_t) n + HDR + MASK) & ~MASK;
  return s < MIN_BLOCK ? MIN_BLOCK : s;
}

/* 1: refuse this request (growing the pool by `grow`) once, so that the engine collects first */
static int soft_refuse(uint32_t grow) {
  if (!soft_slack) return 0;
  if (soft_again) {
    /* the engine's retry after its collection: served, and the next limit counts from here */
    soft_again = 0;
    soft_at = used + soft_slack;
    return 0;
  }
  if (used + grow <= soft_at) return 0;
  soft_again = 1;
  soft_runs++;
  return 1;
}

void pool_soft(size_t slack) {
  soft_slack = slack;
  soft_at = used + slack;
  soft_again = 0;
}

uint32_t pool_soft_runs(void) {
  return soft_runs;
}

void pool_init(void) {
  block_t *b = (block_t *) (tinyhub_pool + HDR);
  uint32_t *end;
  b->hdr = (POOL_SIZE - 2 * HDR) | F_PREV_USED;
  set_footer(b);
  b->next = b->prev = NULL;
  head = b;
  end = (uint32_t *) after(b);
  *end = 0 | F_USED; /* sentinel: its PREV_USED is clear while b is free */
  used = peak = 0;
  allocs = fails = 0;
  soft_slack = soft_at = 0;
  soft_again = 0;
  soft_runs = 0;
}

/* The smallest free block that fits (the lowest address among equals); an exact fit ends the
 * search. Best fit leaves the big free blocks whole for big requests (buffers, property tables,
 * value stacks) where first fit would nibble at them. */
static block_t *best_fit(uint32_t need) {
  block_t *b, *best = NULL;
  if (!need) return NULL;
  for (b = head; b; b = b->next) {
    if (bsize(b) < need || (best && bsize(b) >= bsize(best))) continue;
    best = b;
    if (bsize(b) == need) break;
  }
  return best;
}

static void *alloc_block(size_t n) {
  uint32_t need = need_of(n), sz;
  block_t *b, *r;
  if (!n) return NULL;
  b = best_fit(need);
  if (!b) {
    fails++;
    return NULL;
  }
  sz = bsize(b);
  if (sz - need >= MIN_BLOCK) {
    /* split: the tail stays free, in the same place in the list */
    r = (block_t *) ((uint8_t *) b + need);
    r->hdr = (sz - need) | F_PREV_USED;
    set_footer(r);
    replace_block(b, r);
    b->hdr = need | F_USED | (b->hdr & F_PREV_USED);
  } else {
    unlink_block(b);
    b->hdr |= F_USED;
    after(b)->hdr |= F_PREV_USED;
  }
  account(bsize(b));
  return (uint8_t *) b + HDR;
}

void *pool_alloc(void *udata, size_t n) {
  (void) udata;
  if (n && soft_refuse(need_of(n))) return NULL;
  return alloc_block(n);
}

void pool_free(void *udata, void *p) {
  block_t *b, *nx, *pb;
  uint32_t sz;
  (void) udata;
  if (!p) return;
  b = (block_t *) ((uint8_t *) p - HDR);
  sz = bsize(b);
  used -= sz;
  nx = after(b);
  if (!(b->hdr & F_PREV_USED)) {
    /* the previous block is free: it grows over b (and over a free next block) */
    pb = (block_t *) ((uint8_t *) b - *(uint32_t *) ((uint8_t *) b - 4));
    if (!(nx->hdr & F_USED)) {
      unlink_block(nx);
      sz += bsize(nx);
    }
    pb->hdr = (bsize(pb) + sz) | (pb->hdr & F_PREV_USED);
    set_footer(pb);
    after(pb)->hdr &= ~F_PREV_USED;
    return;
  }
  if (!(nx->hdr & F_USED)) {
    /* a free next block: b takes its place in the list */
    b->hdr = (sz + bsize(nx)) | F_PREV_USED;
    replace_block(nx, b);
  } else {
    b->hdr = sz | F_PREV_USED;
    insert_block(b);
  }
  set_footer(b);
  after(b)->hdr &= ~F_PREV_USED;
}

void *pool_realloc(void *udata, void *p, size_t n) {
  block_t *b, *nx, *r;
  uint32_t need, sz, total;
  void *q;
  if (!p) return pool_alloc(udata, n);
  if (!n) {
    pool_free(udata, p);
    return NULL;
  }
  need = need_of(n);
  if (!need) {
    fails++;
    return NULL;
  }
  b = (block_t *) ((uint8_t *) p - HDR);
  sz = bsize(b);
  if (need > sz && soft_refuse(need - sz)) return NULL;
  if (need <= sz) {
    if (sz - need >= MIN_BLOCK) {
      /* shrink in place: the tail becomes a used block, then is freed (and coalesced) */
      b->hdr = need | (b->hdr & (F_USED | F_PREV_USED));
      r = after(b);
      r->hdr = (sz - need) | F_USED | F_PREV_USED;
      pool_free(udata, (uint8_t *) r + HDR);
    }
    allocs++;
    return p;
  }
  nx = after(b);
  if (!(nx->hdr & F_USED) && (total = sz + bsize(nx)) >= need) {
    /* grow in place into the free next block; the rest of it stays free where it was in the
     * list (its new header may land on nx's links: read them first) */
    if (total - need >= MIN_BLOCK) {
      block_t *prev = nx->prev, *next = nx->next;
      r = (block_t *) ((uint8_t *) b + need);
      r->hdr = (total - need) | F_PREV_USED;
      set_footer(r);
      link_between(r, prev, next);
    } else {
      unlink_block(nx);
      need = total;
    }
    b->hdr = need | (b->hdr & (F_USED | F_PREV_USED));
    if (need == total) after(b)->hdr |= F_PREV_USED;
    account(need - sz);
    return p;
  }
  q = alloc_block(n);
  if (!q) return NULL; /* counted by alloc_block; the old block stays valid */
  memcpy(q, p, sz - HDR);
  pool_free(udata, p);
  return q;
}

void pool_stats(pool_stats_t *st) {
  block_t *b;
  st->size = POOL_SIZE;
  st->used = used;
  st->peak = peak;
  st->largest = 0;
  for (b = head; b; b = b->next)
    if (bsize(b) > st->largest) st->largest = bsize(b);
  st->allocs = allocs;
  st->fails = fails;
}

uint32_t pool_blocks(void) {
  block_t *b = (block_t *) (tinyhub_pool + HDR);
  uint32_t n = 0;
  for (; bsize(b); b = after(b))
    if (b->hdr & F_USED) n++;
  return n;
}

uint32_t pool_fails(void) {
  return fails;
}

size_t pool_used(void) {
  return used;
}

int pool_check(void) {
  block_t *b = (block_t *) (tinyhub_pool + HDR), *f = head;
  uint32_t prev_used = F_PREV_USED;
  size_t inuse = 0;
  while (bsize(b)) {
    if ((b->hdr & F_PREV_USED) != prev_used) return 1;
    if (bsize(b) < MIN_BLOCK || (uint8_t *) after(b) > tinyhub_pool + POOL_SIZE - HDR) return 2;
    if (b->hdr & F_USED) inuse += bsize(b);
    else {
      if (b != f) return 3; /* free blocks appear in the list in address order */
      if (*(uint32_t *) ((uint8_t *) b + bsize(b) - 4) != bsize(b)) return 4;
      if (!prev_used) return 5; /* two free neighbours should have been merged */
      f = f->next;
    }
    prev_used = (b->hdr & F_USED) ? F_PREV_USED : 0;
    b = after(b);
  }
  if ((uint8_t *) b != tinyhub_pool + POOL_SIZE - HDR || f) return 6;
  if ((b->hdr & F_PREV_USED) != prev_used) return 7;
  return inuse == used ? 0 : 8;
}
