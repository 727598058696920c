// rhea 3.0.5 (the AMQP library the official SDK builds on) playing IoT Hub on 127.0.0.1 with the service's AMQP wire as
// the official SDK speaks it (azure-iot-device-amqp 1.14.4): $cbs put-token checked against the device key,
// telemetry, C2D with its outcomes, twin and method links. Used by test/sessions/amqp.test.ts and the engine tests.
import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

export const rhea = createRequire(import.meta.url)("rhea");

export const HOST = "hub.example.net";
export const KEY = Buffer.from("the device key, 32 bytes long!!!").toString("base64");


/** A SAS token's sr (decoded), se and whether its sig is right for `key` (the service's check). */
function checkToken(token: string, key: string) {
  const f: any = {};
  for (const kv of token.replace(/^SharedAccessSignature /, "").split("&")) f[kv.split("=")[0]] = kv.split("=")[1];
  const sig = createHmac("sha256", Buffer.from(key, "base64")).update(f.sr + "\n" + f.se).digest("base64");
  return { sr: decodeURIComponent(f.sr), se: +f.se, ok: decodeURIComponent(f.sig) == sig };
}

/** rhea as the hub: link addresses, properties and messages recorded; answers as the service does. */
export async function miniHub() {
  const c = rhea.create_container({ id: "hub" });
  c.sasl_server_mechanisms.enable_anonymous();
  const rec = {
    conns: 0, attaches: [] as { role: string; addr: string; props: any }[], puts: [] as any[], events: [] as any[], twin: [] as any[],
    outcomes: [] as string[], answers: [] as any[], sasl: [] as string[],
  };
  const senders: { [addr: string]: any } = {};
  const st = { version: 1, desired: { $version: 1, mode: "eco" } as any, reported: {} as any, rejectNext: false, throttle: false };
  const conns: any[] = [];
  c.on("connection_open", (x: any) => (rec.conns++, conns.push(x.connection)));
  c.on("error", () => {});
  c.on("connection_error", () => {});
  c.on("disconnected", () => {});
  c.on("sender_open", (x: any) => {
    const a = x.sender.remote.attach;
    senders[a.source.address] = x.sender;
    rec.attaches.push({ role: "sender", addr: a.source.address, props: a.properties });
  });
  c.on("receiver_open", (x: any) => {
    const a = x.receiver.remote.attach;
    rec.attaches.push({ role: "receiver", addr: a.target.address, props: a.properties });
  });
  for (const o of ["accepted", "rejected", "released", "modified"]) c.on(o, (x: any) => x.sender.remote.attach.source.address != "$cbs" && rec.outcomes.push(o));
  c.on("message", (x: any) => {
    const addr = x.receiver.remote.attach.target.address, m = x.message, raw = m.body && m.body.content, body = raw ? raw.toString() : m.body;
    if (addr == "$cbs") {
      const t = checkToken(m.body, KEY);
      rec.puts.push({ ...m.application_properties, to: m.to, reply_to: m.reply_to, sr: t.sr, ok: t.ok, se: t.se });
      const good = t.ok && t.sr == m.application_properties.name && m.application_properties.operation == "put-token";
      x.delivery.accept();
      senders.$cbs.send({ correlation_id: m.message_id, application_properties: { "status-code": good ? 200 : 401, "status-description": good ? "OK" : "Unauthorized" } });
    } else if (/\/messages\/events$/.test(addr)) {
      rec.events.push({ addr, body, raw, app: m.application_properties, m });
      if (st.rejectNext) (st.rejectNext = false), x.delivery.reject({ condition: "amqp:precondition-failed" });
      else x.delivery.accept();
    } else if (/\/twin$/.test(addr)) {
      const op = m.message_annotations.operation, res = m.message_annotations.resource;
      rec.twin.push({ op, res, cid: m.correlation_id, body, settled: x.delivery.remote_settled });
      let a: any;
      if (op == "GET" && st.throttle) a = { message_annotations: { status: 429 }, body: rhea.message.data_section(Buffer.from("{}")) };
      else if (op == "GET") a = { message_annotations: { status: 200 }, body: rhea.message.data_section(Buffer.from(JSON.stringify({ desired: st.desired, reported: st.reported }))) };
      else if (op == "PATCH" && res == "/properties/reported") {
        Object.assign(st.reported, JSON.parse(body));
        a = { message_annotations: { status: 204, version: ++st.version }, body: rhea.message.data_section(Buffer.alloc(0)) };
      } else if (op == "PUT") a = { message_annotations: { status: 200 }, body: rhea.message.data_section(Buffer.alloc(0)) };
      else a = { message_annotations: { status: 400 }, body: rhea.message.data_section(Buffer.from("{}")) };
      senders[addr].send({ correlation_id: m.correlation_id, ...a });
    } else if (/\/methods\/devicebound$/.test(addr)) {
      rec.answers.push({ cid: m.correlation_id, status: m.application_properties["IoThub-status"], body: body === undefined ? undefined : JSON.parse(body || "null") });
      x.delivery.accept();
    }
  });
  return {
    c, rec, senders, st, conns,
    listen: async () => {
      const l = c.listen({ port: 0, host: "127.0.0.1", autoaccept: false });
      await new Promise((r) => l.once("listening", r));
      // closing the listener leaves its connections: end them too, with rhea's heartbeat timers (it clears them on the
      // socket's 'end' or 'error' only), or a 30 s timer keeps the test process alive
      const close = () => {
        l.close();
        for (const x of conns as any[]) {
          x.socket?.destroy?.();
          if (x.heartbeat_in || x.heartbeat_out) x._disconnected();
        }
      };
      return { port: l.address().port as number, close };
    },
    /** A desired patch pushed on the twin link (no correlation id). */
    desired: (addr: string, patch: any) => senders[addr].send({ body: rhea.message.data_section(Buffer.from(JSON.stringify(patch))) }),
    method: (addr: string, name: string, payload: any) => {
      const id = randomUUID();
      senders[addr].send({ correlation_id: rhea.string_to_uuid(id), application_properties: { "IoThub-methodname": name }, body: rhea.message.data_section(Buffer.from(JSON.stringify(payload))) });
      return rhea.string_to_uuid(id);
    },
  };
}

