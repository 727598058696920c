/** The library version, in one place: the IoT Hub user agent and the size report read it from here. */
export const VERSION = "0.1.0";
