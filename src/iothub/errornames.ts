// Development builds only: names of the IoT Hub error codes (production bundles leave this file out).

/** Code -> name for the IoT Hub codes -40..-58. */
export const HUB_ERROR_NAMES: { [code: number]: string } = {
  "-40": "E_CS_SYNTAX",
  "-41": "E_CS_HOST",
  "-42": "E_CS_DEVICE",
  "-43": "E_CS_CREDENTIAL",
  "-44": "E_CS_KEY",
  "-45": "E_CS_UNKNOWN",
  "-46": "E_TOKEN_EXPIRED",
  "-47": "E_HUB_QOS2",
  "-48": "E_HUB_SUBS",
  "-49": "E_HUB_SIZE",
  "-50": "E_HUB_STATUS",
  "-51": "E_DPS_FAILED",
  "-52": "E_PROPERTY",
  "-53": "E_CS_DUPLICATE",
  "-54": "E_CS_MODULE",
  "-55": "E_CS_VALUE",
  "-56": "E_TOKEN",
  "-57": "E_HUB_TOPIC",
  "-58": "E_HUB_JSON"
};
