/*
 * Stress test of the firmware's pool allocator (targets/qemu/firmware/pool.c), run on the
 * emulated Cortex-M3 by test/qemu/pool.test.ts: random alloc/realloc/free of small and large
 * blocks, every byte of every live block checked against its fill pattern, the whole pool
 * checked (headers, footers, free list order, coalescing, byte count) every few operations.
 * Prints "pool-stress ok ..." and exits 0, or prints what broke and exits 1.
 */
#include <string.h>
#include "board.h"
#include "pool.h"

#define SLOTS 300
#define OPS 200000u

static uint8_t *slot[SLOTS];
static size_t len[SLOTS];
static uint8_t pattern[SLOTS];
static uint32_t seed = 2463534242u;

static uint32_t rnd(void) {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

static int intact(int i) {
  size_t k;
  for (k = 0; k < len[i]; k++)
    if (slot[i][k] != pattern[i]) return 0;
  return 1;
}

static int fail(const char *what, uint32_t op, int code) {
  console_puts("pool-stress FAILED: ");
  console_puts(what);
  console_puts(" at op ");
  console_putu(op);
  console_puts(" code ");
  console_putu((uint32_t) code);
  console_puts("\n");
  return 1;
}

int main(void);
int main(void) {
  uint32_t op, reallocs = 0, moved = 0;
  pool_stats_t st;
  int i, c;
  board_init();
  pool_init();
  for (op = 0; op < OPS; op++) {
    size_t n = (rnd() & 7) == 0 ? rnd() % 3000 : rnd() % 160;
    uint32_t kind = rnd() % 3;
    i = (int) (rnd() % SLOTS);
    if (slot[i] && !intact(i)) return fail("data", op, i);
    if (kind == 0 && !slot[i]) {
      slot[i] = pool_alloc(NULL, n);
      len[i] = slot[i] ? n : 0;
      pattern[i] = (uint8_t) rnd();
      if (slot[i]) memset(slot[i], pattern[i], n);
      if (slot[i] && ((uintptr_t) slot[i] & (POOL_ALIGN - 1u))) return fail("alignment", op, i);
    } else if (kind == 1) {
      uint8_t *q = pool_realloc(NULL, slot[i], n);
      if (q || !n) {
        if (q && slot[i] && q != slot[i]) moved++;
        if (q && n > len[i]) memset(q + len[i], pattern[i], n - len[i]);
        slot[i] = q;
        len[i] = q ? n : 0;
        reallocs++;
      } else if (slot[i] && !intact(i)) return fail("failed realloc lost data", op, i);
    } else {
      pool_free(NULL, slot[i]);
      slot[i] = NULL;
      len[i] = 0;
    }
    if ((op & 15) == 0 && (c = pool_check()) != 0) return fail("pool_check", op, c);
  }
  for (i = 0; i < SLOTS; i++) {
    if (slot[i] && !intact(i)) return fail("data at the end", OPS, i);
    pool_free(NULL, slot[i]);
  }
  pool_stats(&st);
  if ((c = pool_check()) != 0 || st.used != 0 || st.largest != POOL_SIZE - 8) return fail("empty pool", OPS, c ? c : (int) st.used);
  /* the soft limit: a request that takes the pool past it fails once (not counted as a
   * failure), the retry is served and the limit moves on from there; realloc likewise */
  {
    uint8_t *a, *b2, *r;
    uint32_t runs = pool_soft_runs(), fails0 = st.fails;
    pool_soft(512);
    if (!(a = pool_alloc(NULL, 400))) return fail("soft: under the limit", 0, 1);
    if (pool_alloc(NULL, 200)) return fail("soft: past the limit not refused", 0, 2);
    if (!(b2 = pool_alloc(NULL, 200))) return fail("soft: retry refused", 0, 3);
    if (!(r = pool_realloc(NULL, a, 420))) return fail("soft: a small growth within the new limit", 0, 4);
    a = r;
    if (pool_realloc(NULL, a, 1400)) return fail("soft: growth past the limit not refused", 0, 5);
    if (!(r = pool_realloc(NULL, a, 1400))) return fail("soft: realloc retry refused", 0, 6);
    a = r;
    pool_stats(&st);
    if (pool_soft_runs() != runs + 2 || st.fails != fails0) return fail("soft: counts", 0, (int) (pool_soft_runs() - runs));
    pool_soft(0);
    pool_free(NULL, a);
    pool_free(NULL, b2);
    if ((c = pool_check()) != 0) return fail("soft: pool_check", 0, c);
  }
  console_puts("pool-stress ok ops=");
  console_putu(OPS);
  console_puts(" reallocs=");
  console_putu(reallocs);
  console_puts(" moved=");
  console_putu(moved);
  console_puts(" peak=");
  console_putu(st.peak);
  console_puts(" fails=");
  console_putu(st.fails);
  console_puts("\n");
  return 0;
}
