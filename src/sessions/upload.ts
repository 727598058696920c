// File upload ("Upload files with IoT Hub"): the hub hands out a SAS for a blob in its storage account, the device
// writes the blob to Azure Storage, then tells the hub how it went.
//
//   1. POST https://{hub}/devices/{id}/files?api-version=...  {"blobName": ...}
//      -> {correlationId, hostName, containerName, blobName, sasToken}
//   2. https://{hostName}/{containerName}/{blobName}{sasToken}: one Put Blob (size <= blockSize), else a Put Block per
//      blockSize bytes and a Put Block List (Azure Storage REST API, block blobs)
//   3. POST https://{hub}/devices/{id}/files/notifications?api-version=...
//      {"correlationId", "isSuccess", "statusCode", "statusDescription"}
//
// Everything goes through one buffer (the head of each request, the body read from the source into it piece by
// piece, the answers' lines) and one transport, used in turn: the hub's connection is closed while the blob is
// written, so that one TLS connection at a time is open.
import type { Payload } from "../mqtt/codec";
import type { PayloadSource } from "../types";
import type { DeviceOptions } from "./device";
import { createHttpClient, HttpClient, HttpHandler, HttpBody } from "../http/client";
import { utf8Length, utf8Write, utf8Read, jsonText, base64Encode } from "../platform";
import { E_ARGUMENT } from "../errors";
import { E_HUB_STATUS, E_UPLOAD_SAS, E_UPLOAD_STORAGE, E_UPLOAD_SIZE } from "../iothub/errors";
import { ConnectionInfo } from "../iothub/connstr";
import { deviceResourceUri } from "../iothub/sas";
import { connectionInfo, tokenSource, Token } from "./credentials";
import { urlEncode } from "../iothub/url";
import { hubConnectHost, USER_AGENT } from "../iothub/mqtt";
import { HUB_HTTP_API_VERSION } from "./https";

/** Bytes per block (default 4 MiB, as the official SDKs): a blob up to this size is one Put Blob. */
export const BLOB_BLOCK_SIZE = 4194304;
/** Blocks a block blob may have (Azure Storage: 50,000), so a blob is at most BLOB_MAX_BLOCKS × blockSize. */
export const BLOB_MAX_BLOCKS = 50000;
/** x-ms-version of the storage requests: 2019-12-12 and later take blocks up to 4000 MiB and Put Blob up to 5000 MiB. */
export const BLOB_VERSION = "2019-12-12";
/** Milliseconds a storage request (one block, or the whole blob) may take, by default: 10 minutes. */
export const BLOB_TIMEOUT = 600000;

/** What uploadToBlob takes beside the device's options (DeviceOptions: connection string, tls, transport, clock...). */
export interface UploadOptions {
  /** The hub's HTTPS port (default 443). */
  httpsPort?: number;
  /** Bytes of the upload's one buffer (default 2048), or the buffer itself; a request head (with the SAS) must fit half of it. */
  uploadBufferSize?: number;
  uploadBuffer?: Uint8Array;
  /** Bytes per block (default BLOB_BLOCK_SIZE, 4 MiB, at most 4000 MiB); a blob up to this size goes as one Put Blob. */
  blockSize?: number;
  /** Milliseconds per storage request (default BLOB_TIMEOUT, 10 minutes); hub requests take requestTimeout. */
  uploadTimeout?: number;
}

/**
 * done(0, status) once the blob is written and the hub told (status: storage's, 201); else a negative code with the
 * status that caused it: E_HUB_STATUS (the hub refused the upload or its notification: 400 when it has no storage,
 * 403 with 10 uploads under way), E_UPLOAD_SAS (its answer lacks the SAS), E_UPLOAD_STORAGE (storage answered other
 * than 2xx), E_SOURCE (the source's read failed), a transport code (status 0). When the blob was started but not
 * written, the hub is told so (isSuccess false, storage's status or -1) before done.
 */
export type UploadDone = (err: number, status: number) => void;

/** The blob's text for a block id: the same length for every block (Azure Storage requires it), 6 digits. */
function blockId(i: number): string {
  var s = "" + (1000000 + i), b = new Uint8Array(6), j = 0;
  for (; j < 6; j++) b[j] = s.charCodeAt(j + 1);
  return base64Encode(b);
}

/** A source over bytes. */
function bytesSource(b: Uint8Array): PayloadSource {
  return {
    size: b.length,
    read: function (pos, buf, off, len) {
      buf.set(b.subarray(pos, pos + len), off);
      return len;
    },
  };
}

/** `len` bytes of `s` from `from`, as a source of their own (a block). */
function window(s: PayloadSource, from: number, len: number): PayloadSource {
  return {
    size: len,
    read: function (pos, buf, off, n) {
      return s.read(from + pos, buf, off, n);
    },
  };
}

/**
 * Uploads `source` (a string, sent as UTF-8, bytes, or a PayloadSource read a piece at a time, which may be far
 * larger than the buffer) as the blob `blobName` of the device's file upload storage, then notifies the hub.
 * `o` are the device's options (a device, not a module: the service has file upload for devices) with their own
 * transport. Returns 0 (done follows) or a negative code at once: E_ARGUMENT for an empty name or a bad source or
 * block size, E_UPLOAD_SIZE for a blob over BLOB_MAX_BLOCKS blocks, a connection string code.
 */
export function uploadToBlob(o: DeviceOptions & UploadOptions, blobName: string, source: Payload | PayloadSource, done: UploadDone): number {
  var c = connectionInfo(o),
    b = o.uploadBuffer || new Uint8Array(o.uploadBufferSize || 2048),
    bs = o.blockSize || BLOB_BLOCK_SIZE,
    src: PayloadSource,
    info: ConnectionInfo,
    tokens: () => Token | number,
    hub: HttpClient,
    blob: HttpClient,
    agent = USER_AGENT + (o.productInfo ? " " + o.productInfo : ""),
    files: string,
    // the hub's answer, gathered in the buffer's free part; the correlation id; the blob's path and SAS query
    got = 0,
    cid = "",
    path = "",
    sas = "",
    ids: string[] = [],
    code = "",
    hh: HttpHandler,
    sh: HttpHandler,
    k: Uint8Array;
  if (typeof c == "number") return c;
  info = c;
  if (info.moduleId || !blobName || typeof blobName != "string" || !(bs >= 1 && bs <= 4194304000 && bs % 1 == 0)) return E_ARGUMENT;
  if (typeof source == "string") utf8Write((k = new Uint8Array(utf8Length(source))), 0, source), (source = k);
  src = source instanceof Uint8Array ? bytesSource(source) : source;
  if (!src || !(src.size >= 0) || typeof src.read != "function") return E_ARGUMENT;
  if (src.size > bs * BLOB_MAX_BLOCKS) return E_UPLOAD_SIZE;
  tokens = tokenSource(info, deviceResourceUri(info.host, info.deviceId), o);
  files = "/devices/" + urlEncode(info.deviceId) + "/files";
  hub = createHttpClient({
    host: hubConnectHost(info),
    port: o.httpsPort || 443,
    tls: o.tls === undefined ? {} : o.tls,
    buffer: b,
    timeout: o.requestTimeout,
    transport: o.transport,
    clock: o.clock,
  });

  /** A hub request with the device's credentials, JSON body; then(err, status). */
  function ask(p: string, body: unknown, h: HttpHandler | null, then: (err: number, status: number) => void) {
    var t = tokens(), r: number;
    if (typeof t == "number") return then(t, 0);
    r = hub.request("POST", files + p + "?api-version=" + HUB_HTTP_API_VERSION,
      ["User-Agent", agent, "Content-Type", "application/json"].concat(t._t ? ["Authorization", t._t] : []), jsonText(body), h, then);
    if (r < 0) then(r, 0);
  }

  hh = {
    onBody: function (chunk) {
      var sp = hub.scratch;
      // an answer larger than the free part cannot be a SAS answer: counted, not kept
      if (got + chunk.length <= sp.length) sp.set(chunk, got);
      got += chunk.length;
    },
  };

  ask("", { blobName: blobName }, hh, function (err, status) {
    var a: any, host: string, port = 0, i: number;
    if (err) return finish(err, status);
    if (status < 200 || status > 299) return finish(E_HUB_STATUS, status);
    try {
      a = got <= hub.scratch.length ? JSON.parse(utf8Read(hub.scratch, 0, got) || "") : 0;
    } catch (e) {}
    if (!a || !a.correlationId || !a.hostName || !a.containerName || !a.blobName || !a.sasToken) return finish(E_UPLOAD_SAS, status);
    cid = "" + a.correlationId;
    sas = "" + a.sasToken;
    if (sas.charAt(0) != "?") sas = "?" + sas;
    // hostName: a host, maybe with a port and a path (the emulator's Azurite: 127.0.0.1:{port}/devstoreaccount1)
    host = "" + a.hostName;
    i = host.indexOf("/");
    path = i < 0 ? "" : host.substr(i);
    host = i < 0 ? host : host.substr(0, i);
    i = host.lastIndexOf(":");
    if (i > 0) (port = +host.substr(i + 1)), (host = host.substr(0, i));
    // the blob's name keeps its slashes (virtual folders: the hub names it {deviceId}/{blobName})
    path += "/" + urlEncode("" + a.containerName) + "/" + urlEncode("" + a.blobName).replace(/%2F/g, "/");
    // one connection at a time: the hub's closes while the blob is written
    hub.end();
    blob = createHttpClient({
      host: host,
      port: port || undefined,
      // the CA the device trusts (no client certificate: storage takes the SAS)
      tls: o.tls === null ? null : o.tls ? { ca: o.tls.ca, rejectUnauthorized: o.tls.rejectUnauthorized } : {},
      buffer: b,
      timeout: o.uploadTimeout || BLOB_TIMEOUT,
      transport: o.transport,
      clock: o.clock,
    });
    if (src.size <= bs) put("", ["x-ms-blob-type", "BlockBlob"], src, stored);
    else block(0);
  });

  sh = {
    onHeader: function (n, v) {
      if (n == "x-ms-error-code") code = v;
    },
  };

  /** A storage request to the blob; then(err, status) with err E_UPLOAD_STORAGE for a status other than 2xx. */
  function put(query: string, headers: string[], body: HttpBody, then: (err: number, status: number) => void) {
    var r = blob.request("PUT", path + sas + query, ["x-ms-version", BLOB_VERSION].concat(headers), body, sh, function (err, status) {
      then(err || (status < 200 || status > 299 ? E_UPLOAD_STORAGE : 0), status);
    });
    if (r < 0) then(r, 0);
  }

  /** Put Block `n`, then the next, then Put Block List. */
  function block(n: number) {
    var from = n * bs, id: string;
    if (from >= src.size) {
      for (var x = '<?xml version="1.0" encoding="utf-8"?><BlockList>', i = 0; i < ids.length; i++) x += "<Latest>" + ids[i] + "</Latest>";
      return put("&comp=blocklist", [], x + "</BlockList>", stored);
    }
    ids.push((id = blockId(n)));
    put("&comp=block&blockid=" + urlEncode(id), [], window(src, from, src.size - from < bs ? src.size - from : bs), function (err, status) {
      if (err) stored(err, status);
      else block(n + 1);
    });
  }

  /** The blob is written (or not): the hub is told, then the application. */
  function stored(err: number, status: number) {
    blob.end();
    ask("/notifications", {
      correlationId: cid,
      isSuccess: !err,
      statusCode: status || -1,
      statusDescription: err ? "upload failed: " + (code || err) : src.size + " bytes",
    }, null, function (e, s) {
      if (err) finish(err, status);
      else if (e) finish(e, s);
      else finish(s < 200 || s > 299 ? E_HUB_STATUS : 0, s < 200 || s > 299 ? s : status);
    });
  }

  function finish(err: number, status: number) {
    hub.end();
    done(err, status);
  }
  return 0;
}
