// Features chosen at build time. This file holds the full set, for the Node build and the tests; an embedded build
// links its own values in its place (tools/build-plugins.js, `featuresOf`), and the minifier drops the code a false
// one guards.

/** QoS 2 in both directions. IoT Hub refuses it (a QoS 2 PUBLISH closes the connection), so its builds leave it out. */
export var QOS2 = true;

/**
 * Payloads given as a source (PayloadSource), read and written a chunk at a time: messages larger than the buffer.
 * The lean MQTT build leaves them out (a source is then refused like any other bad payload).
 */
export var SOURCES = true;

/**
 * The MQTT client's QoS 0 paths (src/mqtt/client.ts): a QoS 0 message to the topic of the last one written at once, a
 * whole QoS 0 PUBLISH from the topic of the last one handed over from the chunk. For Espruino, which runs through the
 * source text of every function a message passes through: about 800 bytes that make its QoS 0 messages 2-3 times
 * cheaper. The IoT Hub bundles (telemetry and C2D at QoS 1 mostly) and Moddable's (bytecode) leave them out.
 */
export var FAST = true;

/**
 * IoT Edge module helpers: `sendOutputEvent(output, ...)` and `inputs: { name: handler }`. The device bundles leave
 * them out (Edge modules run on the Edge device, the Node build); there the same wire is `sendEvent` with the
 * `$outputName` property, and `onMessage` with `properties.$inputName`.
 */
export var EDGE = true;

/**
 * File upload (`uploadToBlob`, src/sessions/upload.ts): request bodies read from a source as they are sent. In the
 * Node build; the device bundles leave it out (no entry includes file upload yet).
 */
export var UPLOAD = true;

/**
 * AMQP: encoding the kinds of value an IoT Hub device never sends: arrays, lists, maps given as pairs, described values
 * other than the performatives and sections, float, decimal32/64/128, byte, short, char (it sends null, booleans, integers, doubles,
 * timestamps, UUIDs, binary, strings, symbols, maps from plain objects, composites). The Node build and the codec's tests have them; the device bundles leave
 * them out (encoding one there is E_ARGUMENT). Decoding always takes every kind: the peer may send any.
 */
export var AMQP_ALL_TYPES = true;

/**
 * AMQP: the names of the composites' fields an IoT Hub device never reads or writes (the capabilities and properties of
 * open and begin, a source's durability or filter, a transfer's resume, a message's group...; src/amqp/performatives.ts).
 * The device bundles leave them out: such a field is still checked by its type when it arrives, but not kept in the
 * decoded object, and never written.
 */
export var AMQP_ALL_FIELDS = true;

/**
 * AMQP: what only the Node build's users of the connection client itself reach (the gateway, src/sessions/gateway.ts,
 * and callers of createAmqpClient), never an IoT Hub device session: the client's detach(), credit() and remoteError(),
 * SASL PLAIN or none, a source or target of the caller's, SND_MIXED, a rejection with an error, the options maxLinks
 * (8) and the defaults of hostname, port and containerId (the session gives them), and the device's `client` option (a
 * gateway's connection). The device bundles leave them out: their `amqp` has connect, attach, send, flow, settle, end
 * and connected.
 */
export var AMQP_CLIENT_ALL = true;
