/*
 * The firmware: a Duktape heap in the static pool, the JS bundle from flash, and an event loop
 * that hands link bytes and timer expiries to JS and sleeps (wfi) in between.
 *
 * Natives (globals, as lightweight functions):
 *   __print(s)                 a line on the console (UART0)
 *   __uartWrite(u8[, off, len])  bytes to the link (UART1): returns len, or 0 = ring full, try
 *                              after the onWritable callback
 *   __now()                    milliseconds since reset (SysTick)
 *   __setTimer(ms)             calls the timer callback once `ms` from now (< 0: cancel)
 *   __setTime(epochMs)         sets the wall clock behind Date (the board has no RTC)
 *   __config()                 the configuration line the harness sent on the link
 *   __heap()                   [used, peak, fails, pool size, largest free block]
 *   __gc()                     a full garbage collection
 *   __bind(onData, onTimer, onWritable)   the JS side of the loop: onData(u8, n) gets a
 *                              Uint8Array that is reused for every chunk (valid during the call)
 *   __exit(code)               ends the run after the current callback returns
 *   __fileRead(path, pos, u8, off, len)          bytes of a host file (semihosting) at pos: count, or -1
 *   __fileWrite(path, pos, u8, off, len, create) bytes to a host file at pos (created when missing,
 *                              emptied first when `create`): count, or -1
 *   __fileRename(from, to)     replaces `to` with `from` (atomic on the host): 0 or -1
 *   __hmacSha256(key, msg)     HMAC-SHA256 of two Uint8Arrays: a new Uint8Array of 32 bytes (crypto.c)
 *   __base64Encode(u8)         base64 of the bytes, padded
 *   __base64Decode(s)          the bytes of base64 `s` (a new Uint8Array), or null (as src/crypto/base64.ts)
 */
#include <string.h>
#include "duktape.h"
#include "board.h"
#include "pool.h"
#include "crypto.h"

extern const char bundle_start[], bundle_end[];

#define CHUNK 256          /* bytes per onData call at most */
#ifndef VALSTACK_RESERVE
#define VALSTACK_RESERVE 256 /* value stack entries (8 bytes) reserved at start-up (see main()) */
#endif
#define CONFIG_MAX 1024    /* the configuration line */
#define CONFIG_WAIT_MS 30000

/* Garbage policy: reference counting frees most garbage at once, but reference cycles (a
 * function's scope that holds closures made in it; a `function`'s automatic .prototype, which
 * the bench bundle avoids, see tools/qemu/methods.js) wait for mark-and-sweep, and Duktape's own
 * trigger waits for ~50x the heap's object count in allocations. So: once the pool has grown
 * GC_SLACK bytes past what the last collection left, the next allocation that grows it fails
 * once, which Duktape answers with a collection and a retry (pool_soft, pool.h) - also in the
 * middle of a long JS call - and the loop runs a full collection between events past the same
 * mark, as an idle MCU would. */
#ifndef GC_SLACK
#define GC_SLACK 4096u
#endif

static duk_context *ctx;
static int exit_code = -1;
static int timer_armed;
static uint64_t timer_due;
static int want_writable;
static uint8_t *chunk; /* data of the fixed buffer behind the Uint8Array given to onData */
static char config_line[CONFIG_MAX];
static double date_base; /* Date.now() = date_base + board_ms() */
static size_t gc_base, live_peak; /* pool bytes after the last collection, and their maximum */
static uint32_t gc_runs, gc_ms;

/* ---- hooks named in duk_overrides.h ----------------------------------------------------------- */
double tinyhub_date_now(void) {
  return date_base + (double) board_ms();
}

double tinyhub_monotonic_ms(void) {
  return (double) board_ms();
}

static void print_heap(const char *what) {
  pool_stats_t st;
  pool_stats(&st);
  console_puts("[fw] heap ");
  console_puts(what);
  console_puts(": used=");
  console_putu(st.used);
  console_puts(" peak=");
  console_putu(st.peak);
  console_puts(" pool=");
  console_putu(st.size);
  console_puts(" largest-free=");
  console_putu(st.largest);
  console_puts(" allocs=");
  console_putu(st.allocs);
  console_puts(" fails=");
  console_putu(st.fails);
  console_puts(" blocks=");
  console_putu(pool_blocks());
  console_puts("\n");
}

static void collect(void) {
  uint64_t t = board_ms();
  duk_gc(ctx, 0);
  gc_base = pool_used();
  pool_soft(GC_SLACK);
  if (gc_base > live_peak) live_peak = gc_base;
  gc_runs++;
  gc_ms += (uint32_t) (board_ms() - t);
}

static void maybe_collect(void) {
  if (pool_used() > gc_base + GC_SLACK) collect();
}

static void finish(int code) __attribute__((noreturn));
static void finish(int code) {
  int bad = pool_check();
  print_heap("final");
  console_puts("[fw] gc runs=");
  console_putu(gc_runs);
  console_puts(" soft=");
  console_putu(pool_soft_runs());
  console_puts(" ms=");
  console_putu(gc_ms);
  console_puts(" live-peak=");
  console_putu(live_peak);
  console_puts(" slack=");
  console_putu(GC_SLACK);
  console_puts("\n");
  console_puts("[fw] stack peak=");
  console_putu(stack_peak());
  console_puts(" of ");
  console_putu(stack_size());
  if (bad) {
    console_puts(" POOL CORRUPT ");
    console_putu((uint32_t) bad);
  }
  console_puts("\n[fw] exit ");
  console_putu((uint32_t) code);
  console_puts("\n");
  board_exit(bad && !code ? EXIT_FATAL : code);
}

static void no_memory(const char *where) {
  console_puts("[fw] E_NO_MEMORY (-32): ");
  console_puts(where);
  console_puts("\n");
  finish(EXIT_NO_MEMORY);
}

/* Duktape's last resort (an error outside any protected call, or an internal failure). */
void tinyhub_fatal(const char *msg) {
  console_puts("[fw] duktape fatal: ");
  console_puts(msg ? msg : "(no message)");
  console_puts("\n");
  if (pool_fails()) no_memory("fatal error after allocation failures");
  finish(EXIT_FATAL);
}

/* An error that escaped JS: the adapter catches everything it can, so this is rare; when the
 * pool ran dry during the call, it is the out-of-memory case. */
static void escaped(uint32_t fails_before, const char *where) {
  const char *msg = duk_safe_to_string(ctx, -1);
  console_puts("[fw] uncaught in ");
  console_puts(where);
  console_puts(": ");
  console_puts(msg ? msg : "?");
  console_puts("\n");
  if (pool_fails() != fails_before) no_memory(where);
  finish(EXIT_JS_ERROR);
}

/* ---- natives ------------------------------------------------------------------------------------ */
static duk_ret_t n_print(duk_context *c) {
  const char *s = duk_safe_to_string(c, 0);
  console_puts(s ? s : "");
  console_putc('\n');
  return 0;
}

static duk_ret_t n_uart_write(duk_context *c) {
  duk_size_t size;
  uint8_t *p = duk_require_buffer_data(c, 0, &size);
  duk_int_t off = duk_opt_int(c, 1, 0), len = duk_opt_int(c, 2, (duk_int_t) size - off);
  if (off < 0 || len < 0 || (duk_size_t) off + (duk_size_t) len > size) return duk_range_error(c, "bad range");
  if ((duk_size_t) len > link_tx_capacity()) return duk_range_error(c, "write larger than the link buffer");
  if (!link_write(p + off, (size_t) len)) {
    want_writable = 1;
    duk_push_int(c, 0);
  } else duk_push_int(c, len);
  return 1;
}

static duk_ret_t n_now(duk_context *c) {
  duk_push_number(c, (double) board_ms());
  return 1;
}

static duk_ret_t n_set_timer(duk_context *c) {
  duk_double_t ms = duk_require_number(c, 0);
  if (!(ms >= 0)) timer_armed = 0;
  else {
    uint64_t whole;
    if (ms > 86400000.0) ms = 86400000.0;
    whole = (uint64_t) ms;
    if ((duk_double_t) whole < ms) whole++; /* never early: JS would find nothing due yet */
    timer_due = board_ms() + whole;
    timer_armed = 1;
  }
  return 0;
}

static duk_ret_t n_set_time(duk_context *c) {
  date_base = duk_require_number(c, 0) - (double) board_ms();
  return 0;
}

static duk_ret_t n_config(duk_context *c) {
  duk_push_string(c, config_line);
  return 1;
}

static duk_ret_t n_heap(duk_context *c) {
  pool_stats_t st;
  pool_stats(&st);
  duk_push_array(c);
  duk_push_uint(c, st.used);
  duk_put_prop_index(c, -2, 0);
  duk_push_uint(c, st.peak);
  duk_put_prop_index(c, -2, 1);
  duk_push_uint(c, st.fails);
  duk_put_prop_index(c, -2, 2);
  duk_push_uint(c, st.size);
  duk_put_prop_index(c, -2, 3);
  duk_push_uint(c, st.largest);
  duk_put_prop_index(c, -2, 4);
  return 1;
}

static void collect(void);

static int id_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '$';
}

/* 1 when `s` occurs in the bundle's source as a whole word (an identifier, a property name or
 * the text of a string) */
static int named(const char *s, size_t n) {
  const char *p;
  if (!n) return 0;
  for (p = bundle_start; p + n <= bundle_end; p++)
    if (*p == *s && !memcmp(p, s, n) && (p == bundle_start || !id_char(p[-1])) && (p + n == bundle_end || !id_char(p[n])))
      return 1;
  return 0;
}

static duk_ret_t n_named(duk_context *c) {
  duk_size_t n;
  const char *s = duk_require_lstring(c, 0, &n);
  duk_push_boolean(c, named(s, n));
  return 1;
}

/* Built-ins the bundle never names go before it is compiled, as Duktape's configure.py would
 * leave them out of a build (here they exist in RAM, see duk_overrides.h): from the global
 * object down through every object it reaches, each own property whose name does not occur in
 * the bundle's source is deleted (when configurable) and each object compacted. Kept whatever
 * its name: what the engine itself looks up by name (conversions, JSON, Error's toString). */
static const char trim_js[] =
    "(function(named,keep){"
    "var gopn=Object.getOwnPropertyNames,proto=Object.getPrototypeOf,compact=Duktape.compact,seen=[];"
    "function trim(o){var i,k,names;"
    "if(o===null||(typeof o!='object'&&typeof o!='function'))return;"
    "for(i=0;i<seen.length;i++)if(seen[i]===o)return;"
    "seen[seen.length]=o;"
    "try{names=gopn(o)}catch(e){return}"
    "for(i=0;i<names.length;i++){k=names[i];"
    "if(keep[k]===1||named(k)){try{trim(o[k])}catch(e){}}else try{delete o[k]}catch(e){}}"
    "try{trim(proto(o))}catch(e){}"
    "try{compact(o)}catch(e){}}"
    "trim(this)"
    "})(__named,{constructor:1,prototype:1,length:1,name:1,message:1,toString:1,valueOf:1,toJSON:1,toISOString:1,"
    "join:1,lastIndex:1,index:1,input:1,exec:1})";

static duk_ret_t n_gc(duk_context *c) {
  (void) c;
  collect();
  return 0;
}

static duk_ret_t n_bind(duk_context *c) {
  duk_push_global_stash(c);
  duk_dup(c, 0);
  duk_put_prop_string(c, -2, "d");
  duk_dup(c, 1);
  duk_put_prop_string(c, -2, "t");
  duk_dup(c, 2);
  duk_put_prop_string(c, -2, "w");
  return 0;
}

static duk_ret_t n_exit(duk_context *c) {
  exit_code = duk_require_int(c, 0);
  return 0;
}

/* (path, pos, u8, off, len): the range checked against the buffer */
static uint8_t *file_args(duk_context *c, const char **path, uint32_t *pos, uint32_t *len) {
  duk_size_t size;
  uint8_t *p;
  duk_int_t off, n;
  *path = duk_require_string(c, 0);
  *pos = (uint32_t) duk_require_uint(c, 1);
  p = duk_require_buffer_data(c, 2, &size);
  off = duk_require_int(c, 3);
  n = duk_require_int(c, 4);
  if (off < 0 || n < 0 || (duk_size_t) off + (duk_size_t) n > size) (void) duk_range_error(c, "bad range");
  *len = (uint32_t) n;
  return p + off;
}

static duk_ret_t n_file_read(duk_context *c) {
  const char *path;
  uint32_t pos, len;
  uint8_t *p = file_args(c, &path, &pos, &len);
  duk_push_int(c, board_file_read(path, pos, p, len));
  return 1;
}

static duk_ret_t n_file_write(duk_context *c) {
  const char *path;
  uint32_t pos, len;
  uint8_t *p = file_args(c, &path, &pos, &len);
  duk_push_int(c, board_file_write(path, pos, p, len, duk_to_boolean(c, 5)));
  return 1;
}

static duk_ret_t n_file_rename(duk_context *c) {
  duk_push_int(c, board_file_rename(duk_require_string(c, 0), duk_require_string(c, 1)));
  return 1;
}

static duk_ret_t n_hmac_sha256(duk_context *c) {
  duk_size_t key_len, msg_len;
  const uint8_t *key = duk_require_buffer_data(c, 0, &key_len), *msg = duk_require_buffer_data(c, 1, &msg_len);
  uint8_t out[32];
  hmac_sha256(key, key_len, msg, msg_len, out);
  memcpy(duk_push_fixed_buffer(c, 32), out, 32);
  duk_push_buffer_object(c, -1, 0, 32, DUK_BUFOBJ_UINT8ARRAY);
  return 1;
}

static duk_ret_t n_base64_encode(duk_context *c) {
  duk_size_t n;
  const uint8_t *p = duk_require_buffer_data(c, 0, &n);
  size_t len = (n + 2) / 3 * 4;
  char *out = duk_push_fixed_buffer(c, len);
  base64_encode(p, n, out);
  duk_buffer_to_string(c, -1);
  return 1;
}

static duk_ret_t n_base64_decode(duk_context *c) {
  duk_size_t n;
  const char *s = duk_require_lstring(c, 0, &n);
  long len = base64_decoded_size(s, n);
  if (len < 0 || base64_decode(s, n, duk_push_fixed_buffer(c, (duk_size_t) len)) < 0) {
    duk_push_null(c);
    return 1;
  }
  duk_push_buffer_object(c, -1, 0, (duk_size_t) len, DUK_BUFOBJ_UINT8ARRAY);
  return 1;
}

static const struct {
  const char *name;
  duk_c_function fn;
  duk_idx_t nargs;
} natives[] = {
  {"__print", n_print, 1},
  {"__uartWrite", n_uart_write, 3},
  {"__now", n_now, 0},
  {"__setTimer", n_set_timer, 1},
  {"__setTime", n_set_time, 1},
  {"__config", n_config, 0},
  {"__heap", n_heap, 0},
  {"__gc", n_gc, 0},
  {"__bind", n_bind, 3},
  {"__exit", n_exit, 1},
  {"__named", n_named, 1},
  {"__fileRead", n_file_read, 5},
  {"__fileWrite", n_file_write, 6},
  {"__fileRename", n_file_rename, 2},
  {"__hmacSha256", n_hmac_sha256, 2},
  {"__base64Encode", n_base64_encode, 1},
  {"__base64Decode", n_base64_decode, 1},
};

static duk_ret_t setup(duk_context *c, void *udata) {
  size_t i;
  (void) udata;
  duk_push_global_object(c);
  for (i = 0; i < sizeof natives / sizeof natives[0]; i++) {
    duk_push_c_lightfunc(c, natives[i].fn, natives[i].nargs, natives[i].nargs, 0);
    duk_put_prop_string(c, -2, natives[i].name);
  }
  duk_pop(c);
  /* one Uint8Array over one fixed buffer carries every received chunk */
  duk_push_global_stash(c);
  chunk = duk_push_fixed_buffer(c, CHUNK);
  duk_push_buffer_object(c, -1, 0, CHUNK, DUK_BUFOBJ_UINT8ARRAY);
  duk_put_prop_string(c, -3, "u8");
  duk_pop_2(c);
  return 0;
}

/* ---- the loop -------------------------------------------------------------------------------------- */

/* Calls stash[key](args...) with n pushed arguments below it; errors are fatal. */
static void invoke(const char *key, duk_idx_t nargs, const char *where) {
  uint32_t fails = pool_fails();
  duk_push_global_stash(ctx);
  if (!duk_get_prop_string(ctx, -1, key)) {
    duk_pop_2(ctx);
    duk_pop_n(ctx, nargs);
    return;
  }
  duk_remove(ctx, -2);                 /* [args fn] */
  duk_insert(ctx, -(nargs + 1));       /* [fn args] */
  if (duk_pcall(ctx, nargs) != DUK_EXEC_SUCCESS) escaped(fails, where);
  duk_pop(ctx);
}

static int pending(void) {
  return link_rx_available() || (timer_armed && board_ms() >= timer_due) ||
         (want_writable && link_tx_free() >= link_tx_capacity() / 2) || exit_code >= 0;
}

static void deliver_data(void) {
  size_t n = link_read(chunk, CHUNK);
  link_rx_poll(); /* room again: take what the UART held back */
  duk_push_global_stash(ctx);
  duk_get_prop_string(ctx, -1, "u8");
  duk_remove(ctx, -2);
  duk_push_uint(ctx, (duk_uint_t) n);
  invoke("d", 2, "onData");
}

static void read_config(void) {
  size_t n = 0;
  uint64_t until = board_ms() + CONFIG_WAIT_MS;
  uint8_t c;
  for (;;) {
    link_rx_poll();
    while (link_read(&c, 1)) {
      if (c == '\n') {
        config_line[n] = 0;
        return;
      }
      if (n < CONFIG_MAX - 1) config_line[n++] = (char) c;
    }
    if (board_ms() >= until) {
      console_puts("[fw] no configuration line on the link\n");
      finish(EXIT_NO_CONFIG);
    }
    __asm__ volatile("wfi");
  }
}

int main(void) {
  uint32_t fails;
  uint64_t t0;
  stack_paint();
  board_init();
  pool_init();
  console_puts("[fw] tinyhub qemu bench: mps2-an385 cortex-m3, pool=");
  console_putu(POOL_SIZE);
  console_puts(" bundle=");
  console_putu((uint32_t) (bundle_end - bundle_start));
  console_puts(" duktape=");
  console_putu(DUK_VERSION);
  console_puts("\n");

  read_config();
  console_puts("[fw] config received\n");

  t0 = board_ms();
  ctx = duk_create_heap(pool_alloc, pool_realloc, pool_free, NULL, NULL);
  if (!ctx) no_memory("duk_create_heap");
  /* the value stack, allocated while the pool is empty, for the usual call depth: grown on
   * demand it needs a new, larger contiguous block each time, in a pool that compiling the bundle
   * has fragmented. A reservation made at the top level is never shrunk; the deepest chain of the
   * session (~370 entries, at start-up) grows past it and shrinks back. */
  if (!duk_check_stack(ctx, VALSTACK_RESERVE)) no_memory("value stack");
  if (duk_safe_call(ctx, setup, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
    if (pool_fails()) no_memory("setup");
    finish(EXIT_FATAL);
  }
  duk_pop(ctx);
  if (duk_peval_string(ctx, trim_js) != 0) {
    console_puts("[fw] trimming the built-ins failed: ");
    console_puts(duk_safe_to_string(ctx, -1));
    console_puts("\n");
    if (pool_fails()) no_memory("trimming the built-ins");
    finish(EXIT_FATAL);
  }
  duk_pop(ctx);
  collect();
  print_heap("engine");

  /* the bundle is compiled straight from flash: the source never becomes a heap string */
  fails = pool_fails();
  if (duk_pcompile_lstring(ctx, 0, bundle_start, (duk_size_t) (bundle_end - bundle_start)) != 0) {
    console_puts("[fw] bundle does not compile: ");
    console_puts(duk_safe_to_string(ctx, -1));
    console_puts("\n");
    if (pool_fails() != fails) no_memory("compiling the bundle");
    finish(EXIT_JS_ERROR);
  }
  print_heap("compiled");
  if (duk_pcall(ctx, 0) != DUK_EXEC_SUCCESS) escaped(fails, "bundle");
  duk_pop(ctx);
  collect();
  console_puts("[fw] bundle started in ");
  console_putu((uint32_t) (board_ms() - t0));
  console_puts(" ms\n");
  print_heap("started");

  while (exit_code < 0) {
    if (link_rx_available()) deliver_data();
    else link_rx_poll();
    if (exit_code < 0 && timer_armed && board_ms() >= timer_due) {
      timer_armed = 0;
      invoke("t", 0, "onTimer");
    }
    if (exit_code < 0 && want_writable && link_tx_free() >= link_tx_capacity() / 2) {
      want_writable = 0;
      invoke("w", 0, "onWritable");
    }
    maybe_collect();
    board_idle(pending);
  }
  finish(exit_code);
}
