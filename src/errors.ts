// Error codes: small negative integers, one table for the whole library.
// Hot paths return these instead of throwing. Names live in errornames.ts (development builds only).

export const E_BUFFER = -1;            // caller's buffer too small for the packet
export const E_MALFORMED = -2;         // malformed packet (bad length, truncated field)
export const E_FLAGS = -3;             // reserved flag bits wrong [MQTT-2.2.2-2]
export const E_LENGTH = -4;            // remaining length over 4 bytes [MQTT-2.2.3]
export const E_UTF8 = -5;              // ill-formed UTF-8 or U+0000 [MQTT-1.5.3-1], [MQTT-1.5.3-2]
export const E_TOPIC = -6;             // empty topic, wildcard in a topic name [MQTT-3.3.2-2]
export const E_PACKET_ID = -7;         // packet identifier 0 [MQTT-2.3.1-1]
export const E_PACKET_TYPE = -8;       // a packet type a client never receives
export const E_QOS = -9;               // QoS not 0, 1 or 2
export const E_REFUSED_PROTOCOL = -11; // CONNACK 1: unacceptable protocol version
export const E_REFUSED_ID = -12;       // CONNACK 2: identifier rejected
export const E_REFUSED_UNAVAILABLE = -13; // CONNACK 3: server unavailable
export const E_REFUSED_CREDENTIALS = -14; // CONNACK 4: bad user name or password
export const E_REFUSED_AUTH = -15;     // CONNACK 5: not authorized
export const E_REFUSED = -16;          // CONNACK with a return code above 5
export const E_OUTBOX_FULL = -20;      // no room in the buffer now; wait for onWritable
export const E_TOO_LARGE = -21;        // can never fit in the buffer
export const E_NOT_CONNECTED = -22;    // no session (use after end(), or before connect())
export const E_KEEPALIVE = -23;        // no PINGRESP within the keep-alive
export const E_CLOSED = -24;           // connection closed by the peer or the network
export const E_SUBACK = -25;           // subscription refused by the server (0x80)
export const E_PROTOCOL = -26;         // the server broke the protocol (unexpected packet)
export const E_TRANSPORT = -27;        // the transport failed to open or write
export const E_ENDED = -28;            // the client was ended; pending work abandoned
export const E_TIMEOUT = -29;          // no answer in time (CONNACK, SUBACK, request)
export const E_BUSY = -30;             // too many requests of this kind in flight
export const E_ARGUMENT = -31;         // invalid argument
export const E_NO_MEMORY = -32;        // the engine ran out of memory
