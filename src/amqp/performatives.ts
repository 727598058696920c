// AMQP 1.0 composite types as plain objects: the performatives (Part 2 §2.7), SASL frame bodies (Part 5 §5.3.3),
// delivery states (Part 3 §3.4), source and target (§3.5), error (§2.8.14), and the message sections (§3.2).
// A composite is a described list (§1.4): 0x00, its ulong descriptor, then its fields in order; trailing null
// fields are left out. Each composite's fields are listed below in one string: a letter per field giving its type,
// upper case when mandatory,
//   S string  Y symbol  B boolean  Z ubyte  H ushort  U uint  L ulong  T timestamp  N binary (a string: its UTF-8)
//   Q symbols: one or an array (decoded: an array of strings)   M map with symbol keys from a plain object
//   V any value (src/amqp/types.ts shape), or a composite: a plain object with its descriptor code as `type`
// then a space and their names. The device builds (src/features.ts AMQP_ALL_FIELDS) name only the fields the IoT Hub session
// reads or writes: the others are checked by type the same, but neither written nor kept.
// Decoded composites are plain objects with `type` (the descriptor code) and every named field (null when absent); numbers
// of typed fields come bare (a uint is a number), binary as a view into the buffer.
import { encode, payload, putN, readN, readRaw, readValue, rawKind, decodeEnd, kindOf, Value, NULL, BOOLEAN, UBYTE, USHORT, UINT, ULONG, TIMESTAMP, BINARY, STRING, SYMBOL, MAP, ARRAY, DESCRIBED, OBJ_SYM, OBJ_STR, MAX_DEPTH } from "./types";
import { writeFrameHeader, FRAME_AMQP, FRAME_SASL } from "./frame";
import { E_BUFFER, E_ARGUMENT, E_AMQP_BODY, E_AMQP_VALUE, E_AMQP_DEPTH } from "../errors";
import { AMQP_ALL_FIELDS, AMQP_ALL_TYPES } from "../features";

/** Descriptor codes (ulong) of the composites (§2.7, §5.3.3, §3.4, §3.5, §3.2). */
export var OPEN = 0x10, BEGIN = 0x11, ATTACH = 0x12, FLOW = 0x13, TRANSFER = 0x14, DISPOSITION = 0x15, DETACH = 0x16, END = 0x17,
  CLOSE = 0x18, ERROR = 0x1d, RECEIVED = 0x23, ACCEPTED = 0x24, REJECTED = 0x25, RELEASED = 0x26, MODIFIED = 0x27, SOURCE = 0x28,
  TARGET = 0x29, SASL_MECHANISMS = 0x40, SASL_INIT = 0x41, SASL_CHALLENGE = 0x42, SASL_RESPONSE = 0x43, SASL_OUTCOME = 0x44,
  HEADER = 0x70, DELIVERY_ANNOTATIONS = 0x71, MESSAGE_ANNOTATIONS = 0x72, PROPERTIES = 0x73, APPLICATION_PROPERTIES = 0x74,
  DATA = 0x75, AMQP_SEQUENCE = 0x76, AMQP_VALUE = 0x77, FOOTER = 0x78;

var CAPS = " offeredCapabilities desiredCapabilities properties";
var SCHEMAS: { [code: number]: string } = AMQP_ALL_FIELDS
  ? {
      0x10: "Ssuhuqqqqm containerId hostname maxFrameSize channelMax idleTimeOut outgoingLocales incomingLocales" + CAPS,
      0x11: "hUUUuqqm remoteChannel nextOutgoingId incomingWindow outgoingWindow handleMax" + CAPS,
      0x12: "SUBzzvvvbulqqm name handle role sndSettleMode rcvSettleMode source target unsettled incompleteUnsettled initialDeliveryCount maxMessageSize" + CAPS,
      0x13: "uUUUuuuubbm nextIncomingId incomingWindow nextOutgoingId outgoingWindow handle deliveryCount linkCredit available drain echo properties",
      0x14: "Uunubbzvbbb handle deliveryId deliveryTag messageFormat settled more rcvSettleMode state resume aborted batchable",
      0x15: "BUubvb role first last settled state batchable",
      0x16: "Ubv handle closed error",
      0x17: "v error",
      0x18: "v error",
      0x1d: "Ysm condition description info",
      0x23: "UL sectionNumber sectionOffset",
      0x24: "",
      0x25: "v error",
      0x26: "",
      0x27: "bbm deliveryFailed undeliverableHere messageAnnotations",
      0x28: "vuyubmymvqq address durable expiryPolicy timeout dynamic dynamicNodeProperties distributionMode filter defaultOutcome outcomes capabilities",
      0x29: "vuyubmq address durable expiryPolicy timeout dynamic dynamicNodeProperties capabilities",
      0x40: "Q saslServerMechanisms",
      0x41: "Yns mechanism initialResponse hostname",
      0x42: "N challenge",
      0x43: "N response",
      0x44: "Zn code additionalData",
      0x70: "bzubu durable priority ttl firstAcquirer deliveryCount",
      0x73: "vnvsvvyyttsus messageId userId to subject replyTo correlationId contentType contentEncoding absoluteExpiryTime creationTime groupId groupSequence replyToGroupId",
    }
  : {
      // the same letters; one space between names, so an unnamed field in the middle is two, and the ones after the last name are unnamed
      0x10: "Ssuhuqqqqm containerId hostname maxFrameSize channelMax idleTimeOut",
      0x11: "hUUUuqqm remoteChannel nextOutgoingId incomingWindow outgoingWindow handleMax",
      0x12: "SUBzzvvvbulqqm name handle role sndSettleMode rcvSettleMode source target   initialDeliveryCount    properties",
      0x13: "uUUUuuuubbm nextIncomingId incomingWindow nextOutgoingId outgoingWindow handle deliveryCount linkCredit  drain echo",
      0x14: "Uunubbzvbbb handle deliveryId deliveryTag messageFormat settled more    aborted",
      0x15: "BUubvb role first last settled state",
      0x16: "Ubv handle closed error",
      0x17: "v error",
      0x18: "v error",
      0x1d: "Ysm condition description",
      0x23: "UL",
      0x24: "",
      0x25: "v error",
      0x26: "",
      0x27: "bbm",
      0x28: "vuyubmymvqq address",
      0x29: "vuyubmq address",
      0x40: "Q saslServerMechanisms",
      0x41: "Yns mechanism initialResponse hostname",
      0x42: "N",
      0x43: "N",
      0x44: "Zn code",
      0x70: "bzubu",
      0x73: "vnvsvvyyttsus messageId userId to  replyTo correlationId contentType contentEncoding absoluteExpiryTime creationTime",
    };
// the kind of each type letter
var LETTERS = "SYBZHULTNQMV", KINDS = [STRING, SYMBOL, BOOLEAN, UBYTE, USHORT, UINT, ULONG, TIMESTAMP, BINARY, ARRAY, OBJ_SYM, DESCRIBED];
// parsed schemas by code: [names, kinds, mandatory], made on first use
var PARSED: { [code: number]: [string[], number[], boolean[]] } = {};

/** The fields of composite `code`: their names ("" unnamed), kinds and whether each is mandatory; null for a code this codec does not know. */
export function fields(code: number): [string[], number[], boolean[]] | null {
  var s = SCHEMAS[code], f = PARSED[code], names: string[], t: string, i: number, c: string;
  if (f || s == null) return f || null;
  f = PARSED[code] = [[], [], []];
  names = s.split(" ");
  for (t = names[0], i = 0; i < t.length; i++) {
    c = t.charAt(i);
    f[0].push(names[i + 1] || "");
    f[1].push(KINDS[LETTERS.indexOf(c.toUpperCase())]);
    f[2].push(c < "a");
  }
  return f;
}

// the array a Q field is encoded as (symbols), reused
var SYMS = { t: ARRAY, v: null as any, e: SYMBOL };

/** Counts (b null) or writes field value `x` of kind `k`. */
function field(b: Uint8Array | null, off: number, k: number, x: any, depth: number): number {
  if (x == null) return encode(b, off, NULL, null, depth, 0);
  if (k == ARRAY) {
    if (typeof x == "string") return encode(b, off, SYMBOL, x, depth, 0);
    if (!AMQP_ALL_TYPES) return E_ARGUMENT; // (the device builds encode no arrays)
    SYMS.v = x;
    return encode(b, off, ARRAY, SYMS, depth, 0);
  }
  if (k == DESCRIBED) {
    // a composite object, or any value
    if (typeof x == "object" && typeof x.type == "number" && !(x instanceof Uint8Array) && !Array.isArray(x)) return composite(b, off, x.type, x, depth);
    k = kindOf(x);
    x = payload(x);
  }
  return encode(b, off, k, x, depth, 0);
}

/** Counts (b null) or writes composite `code` from the plain object `o`: 0x00, smallulong code, the fields as a list (§1.4). */
export function composite(b: Uint8Array | null, off: number, code: number, o: any, depth?: number): number {
  var f = fields(code), n = 0, s = 0, i: number, r: number, k: number, w: number;
  depth = depth || 0;
  if (!f || o == null || typeof o != "object") return E_ARGUMENT;
  if (depth > MAX_DEPTH) return E_AMQP_DEPTH;
  // fields up to the last one present; a mandatory one missing is refused
  for (i = 0; i < f[0].length; i++) {
    if (o[f[0][i]] != null) n = i + 1;
    else if (f[2][i]) return E_ARGUMENT;
  }
  for (i = 0; i < n; i++) {
    if ((r = field(null, 0, f[1][i], o[f[0][i]], depth + 2)) < 0) return r;
    s += r;
  }
  w = n < 256 && s < 255 ? 1 : 4;
  if (b) {
    b[off] = 0;
    b[off + 1] = 0x53; // smallulong
    b[off + 2] = code;
    b[off + 3] = n ? (w == 1 ? 0xc0 : 0xd0) : 0x45; // list8, list32, or list0 when no field is present
  }
  off += 4;
  if (!n) return off;
  off = putN(b, putN(b, off, s + w, w), n, w);
  if (!b) return off + s;
  for (i = 0; i < n; i++) off = field(b, off, f[1][i], o[f[0][i]], depth + 2);
  return off;
}

/** Bytes of composite `code` (a performative, SASL body, delivery state, source, target, error, header or properties) from `o`, or a negative code. */
export function sizeComposite(code: number, o: any): number {
  return composite(null, 0, code, o);
}

/** Writes composite `code` from `o` at `off`; returns the new offset, or E_BUFFER (nothing written) or the code sizeComposite gives. */
export function writeComposite(b: Uint8Array, off: number, code: number, o: any): number {
  var n = composite(null, 0, code, o);
  return n < 0 ? n : off + n > b.length ? E_BUFFER : composite(b, off, code, o);
}

/** A message (§3.2): its sections, each optional but one body: data (bytes, or a string sent as UTF-8), sequence (a list) or value. */
export interface Message {
  header?: any; deliveryAnnotations?: any; messageAnnotations?: any; properties?: any; applicationProperties?: any;
  data?: Uint8Array | string; sequence?: Value[]; value?: Value; footer?: any;
}

// the sections in their order (§3.2), 0x70 + index, and the kind of each section's value (0: a composite)
var SECTIONS = "header deliveryAnnotations messageAnnotations properties applicationProperties data sequence value footer".split(" ");
var SECTION_KINDS = [0, OBJ_SYM, OBJ_SYM, 0, OBJ_STR, BINARY, 0xc0, DESCRIBED, OBJ_SYM];

/** Counts (b null) or writes the sections of `m`. */
function message(b: Uint8Array | null, off: number, m: any): number {
  var i: number, k: number, x: any, bodies = 0;
  if (m == null || typeof m != "object") return E_ARGUMENT;
  for (i = 0; i < SECTIONS.length; i++) {
    x = m[SECTIONS[i]];
    if (x === undefined) continue;
    k = SECTION_KINDS[i];
    if (i > 4 && i < 8 && ++bodies > 1) return E_ARGUMENT; // one body: data, sequence or value (§3.2)
    if (!k && i != 7) off = composite(b, off, 0x70 + i, x); // amqp-value (7): any value, DESCRIBED being 0 too
    else {
      if (b) (b[off] = 0), (b[off + 1] = 0x53), (b[off + 2] = 0x70 + i);
      off = field(b, off + 3, k, x, 1);
    }
    if (off < 0) return off;
  }
  return bodies ? off : E_ARGUMENT;
}

/** Bytes of the message `m`, or a negative code. */
export function sizeMessage(m: Message): number {
  return message(null, 0, m);
}

/** Writes the message `m` at `off`; returns the new offset, or E_BUFFER (nothing written) or the code sizeMessage gives. */
export function writeMessage(b: Uint8Array, off: number, m: Message): number {
  var n = message(null, 0, m);
  return n < 0 ? n : off + n > b.length ? E_BUFFER : message(b, off, m);
}

/** Bytes of a frame carrying composite `code` (and, for a transfer, the message `m`), or a negative code. */
export function sizeFrame(code: number, o: any, m?: Message): number {
  var n = composite(null, 0, code, o), k = m ? message(null, 0, m) : 0;
  return n < 0 ? n : k < 0 ? k : 8 + n + k;
}

/**
 * Writes a whole frame (§2.3): header (an AMQP frame on `channel`, or a SASL frame on 0 for codes 0x40-0x44), the
 * composite `code` from `o`, then the message `m` if given (a transfer's payload). Returns the new offset, or
 * E_BUFFER (nothing written) or the code sizeFrame gives.
 */
export function writeFrame(b: Uint8Array, off: number, channel: number, code: number, o: any, m?: Message): number {
  var n = sizeFrame(code, o, m);
  if (n < 0) return n;
  var sasl = code >= SASL_MECHANISMS && code <= SASL_OUTCOME;
  if ((off = writeFrameHeader(b, off, n, sasl ? FRAME_SASL : FRAME_AMQP, sasl ? 0 : channel)) < 0) return off; // SASL: channel 0 (§5.3.1)
  off = composite(b, off, code, o);
  return m ? message(b, off, m) : off;
}

// where the last decodeComposite / decodeMessage ended
var END_AT = 0;

/** Where the last decodePerformative or decodeMessage stopped: a transfer's message starts there. */
export function decodedTo(): number {
  return END_AT;
}

/** A map's keys and values as a plain object: keys strings (string keys), symbols, or ulongs as decimal text. */
function toObject(pairs: Value[]): any {
  var o = Object.create(null), i: number, k: any;
  for (i = 0; i < pairs.length; i += 2) {
    k = pairs[i];
    if (typeof k != "string") {
      if (k == null || typeof k != "object" || (k.t != SYMBOL && k.t != ULONG)) return E_AMQP_BODY;
      k = String(k.v);
    }
    if (k in o) return E_AMQP_VALUE; // a key twice (§1.6.23)
    o[k] = pairs[i + 1];
  }
  return o;
}

/** Reads the composite at `off` as a plain object (into `out` when given); returns it or a negative code. */
function decodeComposite(b: Uint8Array, off: number, end: number, depth: number, out: any, any?: boolean): any {
  var code!: number, f!: [string[], number[], boolean[]] | null, n: number, w: number, e: number, i: number, j: number, k: number, x: any, at = off;
  if (depth > MAX_DEPTH) return E_AMQP_DEPTH;
  if (off < end && b[off] === 0) {
    code = readRaw(b, off + 1, end, depth + 1, 0);
    if ((off = decodeEnd()) < 0) return off;
    f = rawKind() == ULONG ? fields(code) : null;
  }
  // not a composite this codec knows: any value where `any`
  if (!f) return any ? readAny(b, at, end, depth) : E_AMQP_BODY;
  // the list: list0, or a size and a count of 1 or 4 bytes (§1.6.22)
  if (off >= end) return E_AMQP_BODY;
  x = b[off++];
  if (x == 0x45) (n = 0), (e = off);
  else {
    if (x != 0xc0 && x != 0xd0) return E_AMQP_BODY;
    w = x == 0xc0 ? 1 : 4;
    if (off + 2 * w > end) return E_AMQP_BODY;
    e = off + w + readN(b, off, w);
    n = readN(b, off + w, w);
    off += 2 * w;
    if (e > end || e < off || n > e - off) return E_AMQP_BODY;
  }
  out = out || {};
  out.type = code;
  for (i = 0; i < f[0].length || i < n; i++) {
    k = i < f[0].length ? f[1][i] : DESCRIBED;
    x = null;
    if (i < n) {
      if (k == DESCRIBED) {
        // a composite this codec knows, or any value
        if (typeof (x = decodeComposite(b, off, e, depth + 1, null, true)) == "number") return x;
        off = END_AT;
      } else {
        x = readRaw(b, off, e, depth + 1, 0);
        if ((off = decodeEnd()) < 0) return off;
        j = rawKind();
        if (x != null) {
          if (k == ARRAY) {
            // Q: one symbol, or an array of symbols
            if (j == SYMBOL) x = [x];
            else if (j != ARRAY || x.e != SYMBOL) return E_AMQP_BODY;
            else for (x = x.v.slice(), j = 0; j < x.length; j++) x[j] = x[j].v;
          } else if (k == OBJ_SYM) {
            if (j != MAP) return E_AMQP_BODY;
            if (typeof (x = toObject(x.v)) == "number") return x;
          } else if (j != k) return E_AMQP_BODY;
        }
      }
    }
    if (i < f[0].length) {
      if (x == null && f[2][i]) return E_AMQP_BODY; // a mandatory field missing (§1.4)
      if (f[0][i]) out[f[0][i]] = x;
    }
  }
  if (off != e) return E_AMQP_BODY;
  END_AT = off;
  return out;
}

/** Reads any value in the plain shape; sets END_AT; returns it or a negative code. */
function readAny(b: Uint8Array, off: number, end: number, depth: number): any {
  var x = readValue(b, off, end, depth, 0);
  END_AT = decodeEnd();
  return END_AT < 0 ? END_AT : x;
}

/**
 * Reads a frame body's performative or SASL body (§2.7, §5.3.3) at `off`, not past `end`, as a plain object with
 * `type` (into `out` when given, so a connection may reuse one). Returns it or a negative code; decodedTo() then
 * gives where it ended (a transfer's message follows).
 */
export function decodePerformative(b: Uint8Array, off: number, end: number, out?: any): any {
  var x = decodeComposite(b, off, end, 0, out);
  return typeof x != "number" && (x.type < OPEN || x.type > CLOSE) && (x.type < SASL_MECHANISMS || x.type > SASL_OUTCOME) ? E_AMQP_BODY : x;
}

/**
 * Reads the message sections from `off` to `end` (§3.2) into a plain object with a field per section present
 * (names as in Message; maps as plain objects, data a view into the buffer). Sections must come in their order,
 * each once (a message of several data sections is refused: E_AMQP_BODY). Returns it or a negative code.
 */
export function decodeMessage(b: Uint8Array, off: number, end: number, out?: any): any {
  var last = -1, i: number, k: number, x: any, m = out || {};
  while (off < end) {
    if (b[off] !== 0 || off + 3 > end || b[off + 1] != 0x53 || (i = b[off + 2] - 0x70) <= last || i > 8) return E_AMQP_BODY;
    if (i > 4 && i < 8 && last > 4) return E_AMQP_BODY; // one body
    last = i;
    k = SECTION_KINDS[i];
    if (!k && i != 7) {
      if (typeof (x = decodeComposite(b, off, end, 0, null)) == "number") return x;
    } else {
      if (typeof (x = readAny(b, off + 3, end, 1)) == "number") return x;
      if (k == OBJ_SYM || k == OBJ_STR) {
        if (kindOf(x) != MAP) return E_AMQP_BODY;
        if (typeof (x = toObject(x.v)) == "number") return x;
      } else if (k != DESCRIBED && kindOf(x) != k) return E_AMQP_BODY;
    }
    m[SECTIONS[i]] = x;
    off = END_AT;
  }
  END_AT = off;
  return m;
}
