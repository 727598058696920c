// File upload end to end: our uploadToBlob against the emulator with Azurite as its storage (127.0.0.1 only). The
// blob is read back from Azurite byte for byte and the hub's record of the notification checked; failures (storage
// refusing, no storage, a source failing, a bad hub answer) end by name, the hub told isSuccess false.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
// @ts-ignore the emulator is JavaScript without declarations
import { startHub } from "../../tools/hub/index.js";
import { createDevice, uploadToBlob, nodeTransport, nodeClock } from "../../targets/node/index";
import type { PayloadSource } from "../../src/types";
import { E_ARGUMENT, E_SOURCE } from "../../src/errors";
import { E_HUB_STATUS, E_UPLOAD_SAS, E_UPLOAD_SIZE, E_UPLOAD_STORAGE } from "../../src/iothub/errors";

const test = suite("sessions/upload");
const D = "upload-device";
let hub: any;
let dir = "";
const ends: (() => void)[] = [];

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tinyhub-upload-"));
  hub = await startHub({ dir, log: false, storage: true, dpsPort: null, adminPort: null });
  hub.registry.addDevice(D);
});
test.after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});
test.after.each(() => {
  for (const end of ends.splice(0)) end();
});

/** The device's options: its connection string with the emulator at 127.0.0.1 (certificate for localhost). */
function options(extra: Record<string, unknown> = {}): any {
  return {
    connectionString: hub.registry.connectionString(D).replace(/;GatewayHostName=[^;]*/, "") + ";GatewayHostName=127.0.0.1",
    httpsPort: hub.ports.https,
    tls: { ca: hub.ca, servername: "localhost" },
    requestTimeout: 10000,
    uploadTimeout: 20000,
    ...extra,
  };
}

/** A source of `size` bytes (byte i is (i * 7 + i >> 8) & 255), counting its reads and their largest length. */
function pattern(size: number, failAt = -1): PayloadSource & { reads: number; longest: number; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
  const s = {
    size, reads: 0, longest: 0, bytes,
    read(pos: number, buf: Uint8Array, off: number, len: number) {
      s.reads++;
      s.longest = Math.max(s.longest, len);
      if (failAt >= 0 && pos + len > failAt) return -1;
      buf.set(bytes.subarray(pos, pos + len), off);
      return len;
    },
  };
  return s;
}

/** Resolves with done's arguments once the upload ends; fails if the call refuses at once or it takes over 60 s. */
function upload(start: (done: (err: number, status: number) => void) => number): Promise<[number, number]> {
  return within(new Promise((resolve, reject) => {
    const r = start((err, status) => resolve([err, status]));
    if (r) reject(new Error(`refused: ${r}`));
  }), 60000, "upload");
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error("timed out: " + what)), ms))),
  ]);
}

/** The hub's record of the last notification from D. */
const last = () => hub.fileUploads.filter((u: any) => u.deviceId == D).slice(-1)[0];

test("a device over MQTT uploads a small blob (one Put Blob): stored byte for byte under {deviceId}/, the notification recorded", async () => {
  let up = () => {};
  const connected = new Promise<void>((resolve) => (up = resolve));
  const d: any = createDevice({ ...options(), port: hub.ports.mqtts, onConnect: () => up() });
  assert.type(d, "object");
  ends.push(() => d.end());
  d.connect();
  await within(connected, 20000, "connect");
  const events: any[] = [];
  hub.on("fileUpload", (u: any) => events.push(u));
  ends.push(() => hub.removeAllListeners("fileUpload"));
  const [err, status] = await upload((done) => d.uploadToBlob("logs/hello é.txt", "hello, blob é", done));
  assert.is(err, 0);
  assert.is(status, 201);
  const stored = await hub.readBlob(`${D}/logs/hello é.txt`);
  assert.equal(stored, Buffer.from("hello, blob é"));
  const u = last();
  assert.equal([u.blobName, u.isSuccess, u.statusCode, u.blobSizeInBytes], [`${D}/logs/hello é.txt`, true, 201, Buffer.byteLength("hello, blob é")]);
  assert.is(events.length, 1);
  assert.is(events[0].correlationId, u.correlationId);
  assert.ok(hub.connected(D), "the MQTT connection stayed up beside the upload");
});

test("a blob larger than the buffer streams through it: Put Block per block and Put Block List (3 blocks of 4 KB through a 1 KB buffer), read back byte for byte", async () => {
  const src = pattern(10000);
  const [err, status] = await upload((done) => uploadToBlob({ ...options(), uploadBufferSize: 1024, blockSize: 4096 }, "blocks.bin", src, done));
  assert.is(err, 0);
  assert.is(status, 201);
  assert.equal(await hub.readBlob(`${D}/blocks.bin`), src.bytes);
  // each read fits the buffer's transmit half: the body never sat in memory whole
  assert.ok(src.longest <= 512, `longest read ${src.longest}`);
  assert.ok(src.reads >= 10000 / 512, `${src.reads} reads`);
  const list = await hub.storage.request("GET", `${hub.storage.container}/${D}/blocks.bin?comp=blocklist&blocklisttype=committed`);
  assert.is(list.status, 200);
  const sizes = [...String(list.body).matchAll(/<Size>(\d+)<\/Size>/g)].map((m) => +m[1]);
  assert.equal(sizes, [4096, 4096, 1808]);
  assert.equal([last().isSuccess, last().blobSizeInBytes], [true, 10000]);
});

test("an upload over HTTPS from a device's createDevice({protocol: \"http\"}): one streamed Put Blob of 100 KB through the default 2 KB buffer", async () => {
  const d: any = createDevice({ ...options(), protocol: "http", port: hub.ports.https });
  assert.type(d, "object");
  ends.push(() => d.end());
  const src = pattern(100000);
  const [err, status] = await upload((done) => d.uploadToBlob("big.bin", src, done));
  assert.is(err, 0);
  assert.is(status, 201);
  assert.equal(await hub.readBlob(`${D}/big.bin`), src.bytes);
  assert.ok(src.longest <= 1024, `longest read ${src.longest}`);
  const list = await hub.storage.request("GET", `${hub.storage.container}/${D}/big.bin?comp=blocklist&blocklisttype=committed`);
  assert.not.match(String(list.body), /<Block>/, "one Put Blob: no blocks");
});

test("storage refusing (a SAS already expired): E_UPLOAD_STORAGE with 403, the hub told isSuccess false with the status", async () => {
  const ttl = hub.options.fileUploadTtl;
  hub.options.fileUploadTtl = -60;
  try {
    const [err, status] = await upload((done) => uploadToBlob(options(), "late.txt", "too late", done));
    assert.is(err, E_UPLOAD_STORAGE);
    assert.is(status, 403);
  } finally {
    hub.options.fileUploadTtl = ttl;
  }
  const u = last();
  assert.equal([u.blobName, u.isSuccess, u.statusCode, u.blobSizeInBytes], [`${D}/late.txt`, false, 403, null]);
  assert.match(u.statusDescription, /AuthorizationFailure|AuthenticationFailed/, u.statusDescription); // Azurite's code, the service's
  assert.is(await hub.readBlob(`${D}/late.txt`), null);
});

test("a source that fails mid-blob: E_SOURCE, the hub told isSuccess false (status -1); a failed block leaves no blob", async () => {
  const [err, status] = await upload((done) => uploadToBlob({ ...options(), blockSize: 4096 }, "broken.bin", pattern(10000, 6000), done));
  assert.is(err, E_SOURCE);
  assert.is(status, 0);
  assert.equal([last().blobName, last().isSuccess, last().statusCode], [`${D}/broken.bin`, false, -1]);
  assert.is(await hub.readBlob(`${D}/broken.bin`), null);
});

test("a hub without storage answers 400 (as the service without a storage account): E_HUB_STATUS, nothing to notify", async () => {
  const storage = hub.storage;
  const before = hub.fileUploads.length;
  hub.storage = null;
  try {
    const [err, status] = await upload((done) => uploadToBlob(options(), "x.txt", "x", done));
    assert.equal([err, status], [E_HUB_STATUS, 400]);
  } finally {
    hub.storage = storage;
  }
  assert.is(hub.fileUploads.length, before);
});

test("wrong credentials: the hub answers 401, E_HUB_STATUS", async () => {
  const cs = options().connectionString.replace(/SharedAccessKey=[^;]+/, "SharedAccessKey=" + Buffer.alloc(32, 1).toString("base64"));
  const [err, status] = await upload((done) => uploadToBlob({ ...options(), connectionString: cs }, "x.txt", "x", done));
  assert.equal([err, status], [E_HUB_STATUS, 401]);
});

test("a hub answer without the SAS fields is E_UPLOAD_SAS; bad arguments are refused at once", async () => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end('{"correlationId":"c1","hostName":"127.0.0.1"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const [err, status] = await upload((done) => uploadToBlob({ ...options(), tls: null, httpsPort: port }, "x.txt", "x", done));
    assert.equal([err, status], [E_UPLOAD_SAS, 200]);
    assert.equal(seen, [`POST /devices/${D}/files?api-version=2020-03-13`]);
  } finally {
    server.close();
  }
  const o = { ...options(), transport: nodeTransport(), clock: nodeClock };
  const none = () => assert.unreachable("done");
  assert.is(uploadToBlob(o, "", "x", none), E_ARGUMENT);
  assert.is(uploadToBlob(o, "x", { size: 1 } as any, none), E_ARGUMENT);
  assert.is(uploadToBlob({ ...o, blockSize: 0.5 }, "x", "x", none), E_ARGUMENT);
  assert.is(uploadToBlob({ ...o, blockSize: 1024 }, "x", { size: 1024 * 50000 + 1, read: () => 0 }, none), E_UPLOAD_SIZE);
  const mod = { ...o, connectionString: o.connectionString + ";ModuleId=m" };
  assert.is(uploadToBlob(mod, "x", "x", none), E_ARGUMENT);
});

test.run();
