// QEMU bench glue: a Transport and a Clock over the firmware's natives (natives.d.ts).
//
// The link is a UART: there is no connection to open or close. open() succeeds at once (the
// app is told the link is "open" on the next turn of the loop), close() stops delivering, and
// whatever the other end does (the harness connects and reconnects to the broker) is invisible
// here - a cut link looks like silence, which only the MQTT keep-alive notices.
//
// Every call from the firmware's loop into JS goes through guard(): an exception that escapes
// the library ends the run through onFatal, and an engine allocation failure (Duktape throws
// Error "alloc failed") is reported as E_NO_MEMORY instead of a generic error.

/// <reference path="./natives.d.ts" />
import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_NO_MEMORY, E_TRANSPORT } from "../../src/errors";

interface Timer { at: number; fn: () => void; next: Timer | null }

/** Pending timers, soonest first (equal times in the order they were set). */
var timers: Timer | null = null;
/** The events of the open transport; null while closed. */
var link: TransportEvents | null = null;
/** Bumped by every open() and close(), so a stale scheduled open does nothing. */
var gen = 0;
var fatal: (code: number, e: unknown) => void = function (code, e) {
  __print((code == E_NO_MEMORY ? "E_NO_MEMORY (-32) " : "uncaught ") + e);
  __exit(code == E_NO_MEMORY ? 32 : 2);
};

function arm() {
  __setTimer(timers ? Math.max(0, timers.at - __now()) : -1);
}

/**
 * True for Duktape's out-of-memory errors: Error "alloc failed", or the preallocated
 * DoubleError it throws when there is not even room for that error object. Tells without
 * allocating.
 */
export function isNoMemory(e: any): boolean {
  var m = e && typeof e.message == "string" ? e.message : "";
  return m.indexOf("alloc failed") >= 0 || !!(e && e.name == "DoubleError");
}

function guard(fn: () => void) {
  try {
    fn();
  } catch (e) {
    fatal(isNoMemory(e) ? E_NO_MEMORY : 0, e);
  }
}

// The loop's callbacks. No closure is made per event: in Duktape a closure made in a scope that
// keeps it is a reference cycle that waits for mark-and-sweep.
var rxChunk: Uint8Array, rxCount = 0;

function runTimers() {
  var t: Timer | null, now = __now();
  while ((t = timers) && t.at <= now) {
    timers = t.next;
    t.next = null;
    t.fn();
  }
}

function deliver() {
  if (link) link.onData(rxCount == rxChunk.length ? rxChunk : rxChunk.subarray(0, rxCount));
}

function writable() {
  if (link) link.onWritable();
}

function onTimer() {
  guard(runTimers);
  arm();
}

function onData(chunk: Uint8Array, n: number) {
  rxChunk = chunk;
  rxCount = n;
  guard(deliver);
}

function onWritable() {
  guard(writable);
}

/**
 * Binds the firmware's loop to this adapter; `onFatal(code, error)` hears about an exception
 * that escaped: code E_NO_MEMORY when the JS heap ran out, else 0. Call once, first.
 */
export function startLoop(onFatal?: (code: number, e: unknown) => void): void {
  if (onFatal) fatal = onFatal;
  __bind(onData, onTimer, onWritable);
}

/**
 * Runs `fn` (the application's start-up) from the firmware's loop, under the same guard as the
 * other callbacks, once the bundle's top level has returned: by then the compiled program and
 * the templates of its functions are freed (~8 KB in Duktape), so they do not add to the
 * start-up's own needs.
 */
export function run(fn: () => void): void {
  qemuClock.set(fn, 0);
}

/** Milliseconds since reset; timers served by the firmware's loop (one hardware deadline). */
export var qemuClock: Clock = {
  now: function () {
    return __now();
  },
  set: function (fn: () => void, ms: number) {
    var t: Timer = { at: __now() + (ms > 0 ? ms : 0), fn: fn, next: null }, p = timers, q: Timer | null = null;
    while (p && p.at <= t.at) {
      q = p;
      p = p.next;
    }
    t.next = p;
    if (q) q.next = t;
    else timers = t;
    arm();
    return t;
  },
  clear: function (t: unknown) {
    var p = timers, q: Timer | null = null;
    while (p && p != t) {
      q = p;
      p = p.next;
    }
    if (!p) return;
    if (q) q.next = p.next;
    else timers = p.next;
    p.next = null;
    arm();
  },
};

/** The Transport over the UART link. `host`, `port` are ignored: the harness picks the broker. */
export function qemuTransport(): Transport {
  return {
    open: function (host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
      var g = ++gen;
      link = null;
      qemuClock.set(function () {
        if (g != gen) return;
        // no TLS on a UART: refuse rather than send plain text to a peer expecting TLS
        if (tls) return ev.onClose(E_TRANSPORT);
        link = ev;
        ev.onOpen();
      }, 0);
    },
    write: function (buf: Uint8Array, off: number, len: number): number {
      return link ? __uartWrite(buf, off, len) : E_CLOSED;
    },
    close: function () {
      gen++;
      link = null;
    },
  };
}
