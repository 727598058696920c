#!/bin/false
# tinyhub: the Linux build of Espruino shaped like an ESP8266 build, for board-sized test runs
# (tools/engines/espruino-build.js copies this file into boards/ and builds it with
# BOARD=TINYHUB_ESP8266). Based on boards/LINUX.py (MPL-2.0, Espruino); what differs and why:
#
# - 'variables': 2047, fixed: the JsVar format of boards/ESP8266_4MB.py (1,600 variables there;
#   up to 2,047 have the same 11-bit references and 15 references per variable). The build
#   script's patch lets ESPRUINO_VARIABLES=<n> pick the count at run time: 1,600 for the board,
#   plus what the test's own driver takes (tools/engines/espruino.js, `board`).
# - no ESPR_UNICODE_SUPPORT: ESP8266 builds do not define it (strings are 8-bit).
# - no TLS: ESP8266 builds have none (plain MQTT only). NET, TELNET (the console over Wi-Fi, which
#   the IDE and the command-line tool reach as tcp://<board>; here `--telnet`, port 2323) and
#   CRYPTO (SHA256/512) as on the ESP8266; no TENSORFLOW, GRAPHICS or FILESYSTEM.
import pinutils;
info = {
 'name' : "tinyhub ESP8266-shaped Linux build",
 'default_console' : "EV_USBSERIAL",
 'variables' :  2047,
 'binary_name' : 'espruino',
 'build' : {
   'libraries' : [
     'NET',
     'TELNET',
     'CRYPTO','SHA256','SHA512',
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
