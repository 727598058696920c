/*
 * mclaunch: runs a Moddable app built with `mcconfig -m -p lin` (its mc.so) headless, with GLib only.
 *
 *   mclaunch <path/to/mc.so> [timeout-ms]
 *
 * It fills the txScreen callbacks of $MODDABLE/build/simulators/modules/screen.h, calls the app's
 * fxScreenLaunch() and runs a GLib main loop (timers, promise jobs, the ECMA-419 socket tasks all run
 * from it). trace() goes to stdout as the app writes it.
 *
 *   - each line read on standard input reaches JavaScript as screen.onMessage(line) (a string);
 *   - screen.postMessage("exit <code>") from JavaScript ends the process with that code; any other
 *     message is written to stdout as one line;
 *   - an XS abort (stack overflow, memory full, unhandled exception...) prints
 *     {"ev":"abort","status":N} on stdout and exits with 70 + N;
 *   - past timeout-ms (default 60000) it prints {"ev":"timeout"} and exits with 124;
 *   - the end of standard input is ignored (the app may keep running).
 *
 * Built by tools/engines/moddable-build.js: cc -O2 mclaunch.c $(pkg-config --cflags --libs glib-2.0) -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "screen.h"

typedef void (*txLaunch)(txScreen* screen);

static GMainLoop* gLoop = NULL;
static txScreen* gScreen = NULL;
static guint gIdle = 0;
static int gExit = 0;
static GString* gLine = NULL;

static void onAbort(txScreen* screen, int status)
{
	fflush(stdout);
	printf("{\"ev\":\"abort\",\"status\":%d}\n", status);
	fflush(stdout);
	_exit(70 + (status & 0x3F));
}

static void onNothing(txScreen* screen)
{
}

static void onPost(txScreen* screen, char* buffer, int size)
{
	if (size == 0 && strncmp(buffer, "exit ", 5) == 0) {
		gExit = atoi(buffer + 5);
		fflush(stdout);
		g_main_loop_quit(gLoop);
		return;
	}
	if (size == 0)
		printf("%s\n", buffer);
	else
		printf("%.*s\n", size, buffer);
	fflush(stdout);
}

static gboolean onIdle(gpointer data)
{
	txScreen* screen = data;
	if (screen->idle)
		(*screen->idle)(screen);
	return G_SOURCE_CONTINUE;
}

static void onStart(txScreen* screen, double interval)
{
	if (gIdle)
		g_source_remove(gIdle);
	gIdle = g_timeout_add((guint)(interval > 1 ? interval : 1), onIdle, screen);
}

static void onStop(txScreen* screen)
{
	if (gIdle)
		g_source_remove(gIdle);
	gIdle = 0;
}

static gboolean onTimeout(gpointer data)
{
	fflush(stdout);
	printf("{\"ev\":\"timeout\"}\n");
	fflush(stdout);
	_exit(124);
	return G_SOURCE_REMOVE;
}

static gboolean onInput(GIOChannel* channel, GIOCondition condition, gpointer data)
{
	char buffer[4096];
	gsize count = 0;
	GIOStatus status = G_IO_STATUS_EOF;
	if (condition & G_IO_IN)
		status = g_io_channel_read_chars(channel, buffer, sizeof(buffer), &count, NULL);
	if (count) {
		gsize i;
		for (i = 0; i < count; i++) {
			if (buffer[i] == '\n') {
				if (gScreen->invoke)
					(*gScreen->invoke)(gScreen, gLine->str, 0);
				g_string_truncate(gLine, 0);
			}
			else if (buffer[i] != '\r')
				g_string_append_c(gLine, buffer[i]);
		}
		return G_SOURCE_CONTINUE;
	}
	if (status == G_IO_STATUS_AGAIN)
		return G_SOURCE_CONTINUE;
	return G_SOURCE_REMOVE; /* end of input: keep running */
}

int main(int argc, char** argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mclaunch <mc.so> [timeout-ms]\n");
		return 2;
	}
	long timeout = argc > 2 ? atol(argv[2]) : 60000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!library) {
		fprintf(stderr, "mclaunch: %s\n", dlerror());
		return 2;
	}
	txLaunch launch = (txLaunch)dlsym(library, "fxScreenLaunch");
	if (!launch) {
		fprintf(stderr, "mclaunch: no fxScreenLaunch in %s\n", argv[1]);
		return 2;
	}
	gLoop = g_main_loop_new(NULL, FALSE);
	gLine = g_string_new(NULL);
	gScreen = calloc(1, sizeof(txScreen) + 16);
	gScreen->width = 1;
	gScreen->height = 1;
	gScreen->abort = onAbort;
	gScreen->bufferChanged = onNothing;
	gScreen->formatChanged = onNothing;
	gScreen->post = onPost;
	gScreen->start = onStart;
	gScreen->stop = onStop;
	mxCreateMutex(&gScreen->workersMutex);

	GIOChannel* input = g_io_channel_unix_new(0);
	g_io_channel_set_encoding(input, NULL, NULL);
	g_io_channel_set_flags(input, G_IO_FLAG_NONBLOCK, NULL);
	g_io_add_watch(input, G_IO_IN | G_IO_HUP | G_IO_ERR, onInput, NULL);
	if (timeout > 0)
		g_timeout_add((guint)timeout, onTimeout, NULL);

	(*launch)(gScreen);
	if (!gScreen->machine) {
		fprintf(stderr, "mclaunch: the machine could not be created\n");
		return 3;
	}
	g_main_loop_run(gLoop);
	fflush(stdout);
	/* leave without deleting the machine: the process ends here */
	_exit(gExit);
}
