// IoT Hub error codes, -40..-69 (-1..-32 are MQTT and core, in src/errors.ts).
// Names for development builds come from src/errornames.ts.

export const E_CS_SYNTAX = -40;      // connection string: a segment without '=' or with an empty key
export const E_CS_HOST = -41;        // connection string: HostName missing or empty
export const E_CS_DEVICE = -42;      // connection string: DeviceId missing, empty, too long or with a character IoT Hub refuses
export const E_CS_CREDENTIAL = -43;  // connection string: no credential, more than one, or SharedAccessKeyName without SharedAccessKey
export const E_CS_KEY = -44;         // SharedAccessKey (or a DPS group key) empty or not valid base64
export const E_CS_UNKNOWN = -45;     // connection string: a key this library does not know
export const E_TOKEN_EXPIRED = -46;  // a fixed SharedAccessSignature has expired: a new connection string is needed
export const E_HUB_QOS2 = -47;       // QoS 2 refused in IoT Hub mode (the hub closes the connection on a QoS 2 PUBLISH)
export const E_HUB_FILTER = -48;     // a filter the device may not subscribe to: only its C2D (module: inputs), twin and methods topics
export const E_HUB_SIZE = -49;       // message over the IoT Hub limit (limits.ts)
export const E_HUB_STATUS = -50;     // twin, method or DPS answer with a status other than 2xx
export const E_DPS_FAILED = -51;     // DPS registration ended "failed", "disabled" or "unassigned"
export const E_PROPERTY = -52;       // property name empty, unknown "$" system name, value not string/finite number/boolean, or bad escape in a bag
export const E_CS_DUPLICATE = -53;   // connection string: the same key twice
export const E_CS_MODULE = -54;      // connection string: ModuleId empty, too long or with a character IoT Hub refuses
export const E_CS_VALUE = -55;       // connection string: x509 with a value other than "true"
export const E_TOKEN = -56;          // SAS token malformed: no "SharedAccessSignature " prefix, no sr/sig, or se not a number
export const E_HUB_TOPIC = -57;      // topic is not of the kind being parsed (twin, method, C2D, DPS) or is malformed
export const E_HUB_JSON = -58;       // DPS answer not JSON, or without operationId/status and without an error
export const E_HTTP_UNSUPPORTED = -59; // twin, direct methods and raw publish/subscribe are MQTT-only (IoT Hub over HTTPS has none)
export const E_HUB_POLL_FAST = -60;  // warning, once: C2D polling more often than every 25 minutes (fine for development only)
export const E_HUB_PROTOCOL = -61;   // protocol not in this build: "mqtt-ws", "http", "amqp" and "amqp-ws" only in the builds that include them
export const E_CLOCK = -62;          // the wall clock is not set (before 2020): no SAS token is signed; retried each second until it is (SNTP)
export const E_UPLOAD_SAS = -66;     // file upload: the hub's answer to POST /files is not JSON with correlationId, hostName, containerName, blobName and sasToken
export const E_UPLOAD_STORAGE = -67; // file upload: Azure Storage answered a blob request with a status other than 2xx (the hub is told: isSuccess false)
export const E_UPLOAD_SIZE = -68;    // file upload: the blob is larger than 50,000 blocks of blockSize (Azure Storage's limit for a block blob)
