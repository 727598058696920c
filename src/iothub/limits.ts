// IoT Hub limits and our timing choices (IoT Hub quotas and throttling doc; IoT Hub MQTT support doc).

/** Largest device-to-cloud message, body plus property names and values: 256 KB. */
export const HUB_D2C_MAX = 262144;

/** Largest cloud-to-device message: 64 KB. */
export const HUB_C2D_MAX = 65536;

/** Largest direct-method request or response payload: 128 KB. */
export const HUB_METHOD_MAX = 131072;

/** Largest twin desired (and, separately, reported) section: 32 KB. */
export const HUB_TWIN_MAX = 32768;

/** Largest usable keep-alive, seconds: the hub times out at 1.5 x keep-alive, capped at 1767 s; 1.5 x 1177 stays under the cap. */
export const HUB_KEEPALIVE_MAX = 1177;

/** Our keep-alive, seconds: the Embedded C SDK's 240 (Node: 180); fewer pings for battery, far inside the cap. */
export const HUB_KEEPALIVE = 240;

/**
 * Our SAS token lifetime, seconds: the Node SDK's hour (Embedded C samples: 2 h). Short enough that a leaked
 * token soon dies; on MQTT 3.1.1 each renewal is a reconnect, so not shorter.
 */
export const TOKEN_LIFETIME = 3600;

/**
 * Renew this many seconds before expiry (Node: 900). A renewal costs a reconnect and a TLS handshake, seconds
 * of CPU on a microcontroller; 5 minutes covers a reconnect with back-off and the clock error left after SNTP,
 * and reconnects every 55 minutes instead of 45.
 */
export const TOKEN_RENEW_BEFORE = 300;

/** Default wait between DPS status polls when the answer has no retry-after, seconds (the service's usual retry-after=3). */
export const DPS_RETRY_AFTER = 3;

/** IoT Hub and DPS MQTT port (TLS); MQTT over WebSockets uses 443. */
export const HUB_MQTT_PORT = 8883;
