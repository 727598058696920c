// Espruino entry, MQTT with a store: the MQTT entry's createClient and storageStore, which keeps queued QoS 1/2
// messages in Storage across a reset:
//   var th = require("tinyhub");
//   th.createClient({ host: ..., store: th.storageStore("outbox") })
// (a separate bundle so that the MQTT bundle carries no log code; see targets/espruino/store.ts)
export { createClient } from "./mqtt";
export { storageStore } from "./store";
