#!/bin/false
# tinyhub: the Linux build of Espruino shaped like an ESP32 build, for board-sized test runs
# (tools/engines/espruino-build.js copies this file into boards/ and builds it with
# BOARD=TINYHUB_ESP32). Based on boards/LINUX.py (MPL-2.0, Espruino); what differs and why:
#
# - 'variables': 16383, fixed: the JsVar format of boards/ESP32_IDF4.py (14-bit references,
#   255 references per variable). The build script's patch lets ESPRUINO_VARIABLES=<n> pick how
#   many of them exist at run time (an ESP32 has about 5,000 left for JavaScript after Wi-Fi and
#   TLS take their share), so one binary serves every count up to 16383.
# - no ESPR_UNICODE_SUPPORT: ESP32 builds do not define it (strings are 8-bit).
# - mbedTLS allocates with calloc, outside the variable pool (build script patch): ESP32 builds
#   use ESP-IDF's TLS, whose ~33 KB of record buffers come from the system heap, not from JsVars.
# - libraries: what an ESP32 build has for networking (NET, TLS, CRYPTO with SHA256/512); no
#   TENSORFLOW, GRAPHICS, FILESYSTEM or TELNET (they take no variables and only slow the build).
import pinutils;
info = {
 'name' : "tinyhub ESP32-shaped Linux build",
 'default_console' : "EV_USBSERIAL",
 'variables' :  16383,
 'binary_name' : 'espruino',
 'build' : {
   'libraries' : [
     'NET',
     'CRYPTO','SHA256','SHA512',
     'TLS',
   ],
   'makefile' : [
     'DEFINES+=-DSPIFLASH_BASE=0 -DSPIFLASH_LENGTH=FLASH_SAVED_CODE_LENGTH', # Storage read like a board's SPI flash (as LINUX.py)
     'LINUX=1',
   ]
 }
};
chip = {
  'part' : "LINUX",
  'family' : "LINUX",
  'package' : "",
  'ram' : 0,
  'flash' : 256, # size of file used to fake flash memory (kb)
  'speed' : -1,
  'usart' : 6,
  'spi' : 3,
  'i2c' : 3,
  'adc' : 0,
  'dac' : 0,
};

devices = {
  'USB' : {} # to convince code that we have a USB port (it's used for the console ion Linux)
};

def get_pins():
  pins = pinutils.generate_pins(0,32)
  # just fake pins D0 .. D32
  return pins
