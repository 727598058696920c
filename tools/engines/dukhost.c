/*
 * A tiny Duktape host for the engine tests (tools/engines/duktape.js compiles it against Debian's
 * libduktape, the engine of the `duk` CLI, which cannot read stdin from a script).
 *
 *   dukhost <script.js>...
 *
 * The script gets:
 *   __read()      one line of stdin without its newline, or undefined at end of input
 *   __write(s)    s and a newline to stdout, flushed
 *   __heap()      {used, peak, allocs}: bytes the Duktape heap holds now / at most, live allocations
 *   __gc()        a full mark-and-sweep (twice, so finalized objects go too)
 *   print(...)    to stderr (diagnostics)
 *   __heaps       bytes in use (after a GC) before each script was compiled: [engine alone, +script 1, ...]
 * and runs the scripts in order, the last until its code returns (it loops on __read()). Exit status 0, or 1 with the error's
 * stack on stderr. Memory is counted by the allocator below; cap the process with `ulimit -v`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "duktape.h"

/* each block carries its size in a header, aligned for any type */
typedef union { size_t size; max_align_t align; } header_t;
static size_t used = 0, peak = 0, allocs = 0;

static void *my_alloc(void *udata, duk_size_t size) {
	header_t *h;
	(void) udata;
	if (size == 0) return NULL;
	h = (header_t *) malloc(sizeof(header_t) + size);
	if (!h) return NULL;
	h->size = size;
	used += size;
	allocs++;
	if (used > peak) peak = used;
	return h + 1;
}

static void my_free(void *udata, void *ptr) {
	header_t *h;
	(void) udata;
	if (!ptr) return;
	h = (header_t *) ptr - 1;
	used -= h->size;
	allocs--;
	free(h);
}

static void *my_realloc(void *udata, void *ptr, duk_size_t size) {
	header_t *h, *n;
	if (!ptr) return my_alloc(udata, size);
	if (size == 0) {
		my_free(udata, ptr);
		return NULL;
	}
	h = (header_t *) ptr - 1;
	n = (header_t *) realloc(h, sizeof(header_t) + size);
	if (!n) return NULL;
	used = used - n->size + size;
	n->size = size;
	if (used > peak) peak = used;
	return n + 1;
}

static void fatal(void *udata, const char *msg) {
	(void) udata;
	fprintf(stderr, "duktape fatal error: %s\n", msg ? msg : "(none)");
	fflush(stderr);
	abort();
}

static duk_ret_t js_read(duk_context *ctx) {
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return 0;
	}
	if (n > 0 && line[n - 1] == '\n') n--;
	duk_push_lstring(ctx, line, (duk_size_t) n);
	free(line);
	return 1;
}

static duk_ret_t js_write(duk_context *ctx) {
	duk_size_t n;
	const char *s = duk_to_lstring(ctx, 0, &n);
	fwrite(s, 1, n, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	return 0;
}

static duk_ret_t js_print(duk_context *ctx) {
	duk_idx_t i, n = duk_get_top(ctx);
	for (i = 0; i < n; i++) fprintf(stderr, "%s%s", i ? " " : "", duk_to_string(ctx, i));
	fputc('\n', stderr);
	fflush(stderr);
	return 0;
}

static duk_ret_t js_heap(duk_context *ctx) {
	duk_push_object(ctx);
	duk_push_number(ctx, (double) used);
	duk_put_prop_string(ctx, -2, "used");
	duk_push_number(ctx, (double) peak);
	duk_put_prop_string(ctx, -2, "peak");
	duk_push_number(ctx, (double) allocs);
	duk_put_prop_string(ctx, -2, "allocs");
	return 1;
}

static duk_ret_t js_gc(duk_context *ctx) {
	duk_gc(ctx, 0);
	duk_gc(ctx, 0);
	return 0;
}

static void define(duk_context *ctx, const char *name, duk_c_function fn, duk_idx_t nargs) {
	duk_push_c_function(ctx, fn, nargs);
	duk_put_global_string(ctx, name);
}

/* reads a whole file; NULL on failure */
static char *slurp(const char *path, long *len) {
	FILE *f = fopen(path, "rb");
	char *src;
	if (!f) return NULL;
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	src = (char *) malloc((size_t) *len + 1);
	if (src && fread(src, 1, (size_t) *len, f) != (size_t) *len) {
		free(src);
		src = NULL;
	}
	fclose(f);
	return src;
}

int main(int argc, char *argv[]) {
	duk_context *ctx;
	char *src;
	long len;
	int i, rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s <script.js>...\n", argv[0]);
		return 2;
	}
	ctx = duk_create_heap(my_alloc, my_realloc, my_free, NULL, fatal);
	if (!ctx) {
		fprintf(stderr, "cannot create the Duktape heap\n");
		return 2;
	}
	define(ctx, "__read", js_read, 0);
	define(ctx, "__write", js_write, 1);
	define(ctx, "__heap", js_heap, 0);
	define(ctx, "__gc", js_gc, 0);
	define(ctx, "print", js_print, DUK_VARARGS);
	/* __heaps[i]: bytes in use (after a GC) before script i was compiled */
	duk_push_array(ctx);
	duk_put_global_string(ctx, "__heaps");

	for (i = 1; i < argc && rc == 0; i++) {
		duk_gc(ctx, 0);
		duk_gc(ctx, 0);
		duk_get_global_string(ctx, "__heaps");
		duk_push_number(ctx, (double) used);
		duk_put_prop_index(ctx, -2, (duk_uarridx_t) (i - 1));
		duk_pop(ctx);
		src = slurp(argv[i], &len);
		if (!src) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			rc = 2;
			break;
		}
		duk_push_string(ctx, argv[i]);
		if (duk_pcompile_lstring_filename(ctx, 0, src, (duk_size_t) len) != 0 || duk_pcall(ctx, 0) != 0) {
			if (duk_is_error(ctx, -1)) {
				duk_get_prop_string(ctx, -1, "stack");
				fprintf(stderr, "%s\n", duk_safe_to_string(ctx, -1));
				duk_pop(ctx);
			} else fprintf(stderr, "%s\n", duk_safe_to_string(ctx, -1));
			rc = 1;
		}
		duk_pop(ctx);
		free(src);
	}
	duk_destroy_heap(ctx);
	return rc;
}
