/*
 * Low-memory Duktape 2.7 configuration for the QEMU bench (Cortex-M3, 256 KB RAM).
 *
 * Debian ships Duktape's prepared sources with a generated default duk_config.h; the build
 * (tools/qemu/build.js) copies it and puts `#include "duk_overrides.h"` at its
 * __OVERRIDE_DEFINES__ marker, so everything here is applied after the defaults and before
 * the option checks. Modelled on Duktape's config/examples/low_memory.yaml, plus 16-bit heap
 * pointers: the JS heap is one static pool of at most 256 KB (see pool.c), so a heap pointer
 * fits 16 bits as a word offset into the pool.
 *
 * Not available with the prepared sources: ROM strings/objects (need configure.py
 * --rom-support), so the built-ins live in RAM as lightweight functions.
 */
#ifndef TINYHUB_DUK_OVERRIDES_H
#define TINYHUB_DUK_OVERRIDES_H

#include <stdint.h>

/* --- code size over speed ------------------------------------------------------------- */
#define DUK_USE_PREFER_SIZE
#define DUK_USE_EXEC_PREFER_SIZE
#undef DUK_USE_FAST_REFCOUNT_DEFAULT
#undef DUK_USE_JSON_STRINGIFY_FASTPATH
#undef DUK_USE_JSON_QUOTESTRING_FASTPATH
#undef DUK_USE_JSON_DECSTRING_FASTPATH
#undef DUK_USE_JSON_DECNUMBER_FASTPATH
#undef DUK_USE_JSON_EATWHITE_FASTPATH
#undef DUK_USE_BASE64_FASTPATH
#undef DUK_USE_HEX_FASTPATH
#undef DUK_USE_IDCHAR_FASTPATH
#undef DUK_USE_ARRAY_PROP_FASTPATH
#undef DUK_USE_ARRAY_FASTPATH
#undef DUK_USE_LEXER_SLIDING_WINDOW
#undef DUK_USE_REGEXP_CANON_WORKAROUND
#undef DUK_USE_PROVIDE_DEFAULT_ALLOC_FUNCTIONS /* the pool allocator only: no malloc */

/* --- errors: keep the messages ("alloc failed" names the out-of-memory case), drop the
 *     tracebacks and line tables that cost RAM per error and per function ----------------- */
#undef DUK_USE_AUGMENT_ERROR_CREATE
#undef DUK_USE_AUGMENT_ERROR_THROW
#undef DUK_USE_TRACEBACKS
#undef DUK_USE_ERRCREATE
#undef DUK_USE_ERRTHROW
#undef DUK_USE_PC2LINE
#undef DUK_USE_DEBUGGER_SUPPORT
#undef DUK_USE_FUNC_FILENAME_PROPERTY
#undef DUK_USE_FUNC_NAME_PROPERTY

/* --- features the bundle does not use --------------------------------------------------- */
#undef DUK_USE_BYTECODE_DUMP_SUPPORT
#undef DUK_USE_JX
#undef DUK_USE_JC
#undef DUK_USE_ES7_EXP_OPERATOR
#undef DUK_USE_SOURCE_NONBMP
#undef DUK_USE_ES6_UNICODE_ESCAPE
#undef DUK_USE_HTML_COMMENTS
#undef DUK_USE_SHEBANG_COMMENTS
/* kept: RegExp (the library tests ids and topics with regexps), typed arrays, JSON, Date.
 * Also kept, because the prepared sources' built-in tables name their functions (dropping them
 * needs configure.py): Proxy, Reflect, CBOR, TextEncoder/Decoder, performance, Duktape.Thread,
 * finalizers. As lightweight functions they cost a few objects of RAM, not a function each. */

/* --- RAM: built-ins as lightweight functions, compact headers, small tables ------------- */
#define DUK_USE_LIGHTFUNC_BUILTINS
#undef DUK_USE_REFCOUNT32
#define DUK_USE_REFCOUNT16
#define DUK_USE_STRHASH16
#define DUK_USE_STRLEN16
#define DUK_USE_BUFLEN16
#define DUK_USE_OBJSIZES16
#undef DUK_USE_HSTRING_CLEN /* character length computed when asked (lazy), not stored */
#define DUK_USE_HSTRING_LAZY_CLEN
#undef DUK_USE_HSTRING_ARRIDX
#undef DUK_USE_HOBJECT_HASH_PART
#undef DUK_USE_LITCACHE_SIZE /* a 256-entry literal cache inside the heap struct: 2 KB */

/* no free lists of activations and catchers kept for reuse; value stack grown to what is
 * needed, without the default 25% slack */
#undef DUK_USE_CACHE_ACTIVATION
#undef DUK_USE_CACHE_CATCHER
#undef DUK_USE_VALSTACK_GROW_SHIFT

/* string table: 2-byte slots, grown at 4 strings per slot (default ~1), shrunk at 1 */
#undef DUK_USE_STRTAB_MINSIZE
#define DUK_USE_STRTAB_MINSIZE 64
#undef DUK_USE_STRTAB_MAXSIZE
#define DUK_USE_STRTAB_MAXSIZE 4096
#undef DUK_USE_STRTAB_GROW_LIMIT
#define DUK_USE_STRTAB_GROW_LIMIT 64
#undef DUK_USE_STRTAB_SHRINK_LIMIT
#define DUK_USE_STRTAB_SHRINK_LIMIT 16

/* limits sized for a 32 KB C stack and a heap of a few hundred KB at most */
#undef DUK_USE_NATIVE_CALL_RECLIMIT
#define DUK_USE_NATIVE_CALL_RECLIMIT 32
#undef DUK_USE_COMPILER_RECLIMIT
#define DUK_USE_COMPILER_RECLIMIT 200
#undef DUK_USE_REGEXP_COMPILER_RECLIMIT
#define DUK_USE_REGEXP_COMPILER_RECLIMIT 200
#undef DUK_USE_REGEXP_EXECUTOR_RECLIMIT
#define DUK_USE_REGEXP_EXECUTOR_RECLIMIT 400
#undef DUK_USE_JSON_ENC_RECLIMIT
#define DUK_USE_JSON_ENC_RECLIMIT 32
#undef DUK_USE_JSON_DEC_RECLIMIT
#define DUK_USE_JSON_DEC_RECLIMIT 32
#undef DUK_USE_MARK_AND_SWEEP_RECLIMIT
#define DUK_USE_MARK_AND_SWEEP_RECLIMIT 32
#undef DUK_USE_CALLSTACK_LIMIT
#define DUK_USE_CALLSTACK_LIMIT 200
#undef DUK_USE_VALSTACK_LIMIT
#define DUK_USE_VALSTACK_LIMIT 10000L

/* --- 4-byte alignment (pool.h POOL_ALIGN): enough for the Cortex-M3 with soft float, and no
 *     padding of structures and buffer data to 8 ------------------------------------------ */
#undef DUK_USE_ALIGN_BY
#define DUK_USE_ALIGN_BY 4

/* --- 16-bit heap pointers: word offsets into the pool (pool.c) --------------------------- */
extern uint8_t tinyhub_pool[];
#define TINYHUB_PTR16_ENC(p) ((uint16_t) ((p) ? (((uintptr_t) (p) - (uintptr_t) tinyhub_pool) >> 2) : 0))
#define TINYHUB_PTR16_DEC(x) ((void *) ((x) ? tinyhub_pool + ((uintptr_t) (x) << 2) : 0))
#define DUK_USE_HEAPPTR16
#define DUK_USE_HEAPPTR_ENC16(udata, ptr) (((void) (udata)), TINYHUB_PTR16_ENC(ptr))
#define DUK_USE_HEAPPTR_DEC16(udata, x) (((void) (udata)), TINYHUB_PTR16_DEC(x))
#define DUK_USE_STRTAB_PTRCOMP

/* --- strings whose bytes are in flash stay there (extstr.c): only a header in the heap ---- */
#include "extstr.h"
#define DUK_USE_HSTRING_EXTDATA
#define DUK_USE_EXTSTR_INTERN_CHECK(udata, ptr, len) (((void) (udata)), tinyhub_extstr((ptr), (len)))
#define DUK_USE_EXTSTR_FREE(udata, ptr) ((void) (udata), (void) (ptr)) /* flash: nothing to free */

/* --- bare metal: time from SysTick, no time()/gmtime(), no abort() ---------------------- */
extern double tinyhub_date_now(void);
extern double tinyhub_monotonic_ms(void);
extern void tinyhub_fatal(const char *msg);
#undef DUK_USE_DATE_NOW_GETTIMEOFDAY
#undef DUK_USE_DATE_NOW_TIME
#undef DUK_USE_DATE_TZO_GMTIME
#undef DUK_USE_DATE_TZO_GMTIME_R
#undef DUK_USE_DATE_PRS_STRPTIME
#undef DUK_USE_DATE_FMT_STRFTIME
#undef DUK_USE_DATE_GET_NOW
#define DUK_USE_DATE_GET_NOW(ctx) tinyhub_date_now()
#undef DUK_USE_DATE_GET_LOCAL_TZOFFSET
#define DUK_USE_DATE_GET_LOCAL_TZOFFSET(d) 0 /* the device keeps UTC */
#undef DUK_USE_GET_MONOTONIC_TIME
#define DUK_USE_GET_MONOTONIC_TIME(ctx) tinyhub_monotonic_ms()
#undef DUK_USE_FATAL_HANDLER
#define DUK_USE_FATAL_HANDLER(udata, msg) do { (void) (udata); tinyhub_fatal((msg)); } while (0)

#endif /* TINYHUB_DUK_OVERRIDES_H */
