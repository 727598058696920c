// DPS registration (src/sessions/provision.ts) on the fake clock and the fake transport: the test plays the DPS
// broker packet by packet and steps time, so each wait is measured exactly: retry-after honoured (not the default),
// 429 throttling, an operation that never leaves "assigning" ends with E_TIMEOUT, a connection dropped mid-poll.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { provision, Provisioned } from "../../src/sessions/provision";
import { E_TIMEOUT } from "../../src/errors";
import { DPS_RETRY_AFTER } from "../../src/iothub/limits";
import { FakeTransport, ManualClock } from "../helpers/fake";
import { refGenerate } from "../helpers/mqtt";

const KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NOW = 1750000000;
const OP = "4.0123456789abcdef.11111111-2222-3333-4444-555555555555";
const ASSIGNED = JSON.stringify({ operationId: OP, status: "assigned", registrationState: { registrationId: "r1", assignedHub: "h.azure-devices.net", deviceId: "r1", status: "assigned" } });
const ASSIGNING = JSON.stringify({ operationId: OP, status: "assigning" });

/** A registration on the fake parts: what the client sent (publishes with the clock's time) and how it ended. */
function start(timeout?: number) {
  const t = new FakeTransport(), clock = new ManualClock(), sent: { topic: string; at: number }[] = [];
  const result: { err?: number; r?: Provisioned; calls: number } = { calls: 0 };
  t.clock = clock;
  provision({
    idScope: "0ne00000001", registrationId: "r1", symmetricKey: KEY, tls: null, transport: t, clock, timeout,
    time: () => NOW + clock.t / 1000,
  }, (err, r) => {
    result.calls++;
    result.err = err;
    result.r = r;
  });
  /** Answers CONNECT and SUBSCRIBE as the broker; returns the publishes written since the last call. */
  function serve() {
    const out: string[] = [];
    // an answer makes the client write the next packet at once (CONNACK -> SUBSCRIBE -> the register): until quiet
    for (let ps = t.isOpen ? (t.take() as any[]) : []; ps.length; ps = t.isOpen ? (t.take() as any[]) : []) {
      for (const p of ps) {
        if (p.cmd == "connect") t.send([0x20, 2, 0, 0]);
        else if (p.cmd == "subscribe") t.send([0x90, 3, p.messageId >> 8, p.messageId & 255, 1]);
        else if (p.cmd == "publish") {
          sent.push({ topic: p.topic, at: clock.t });
          out.push(p.topic);
        }
      }
    }
    return out;
  }
  /** The DPS answer `status` to request `rid`, with retry-after when given. */
  function answer(status: number, rid: string, body: string, retryAfter?: number) {
    const topic = `$dps/registrations/res/${status}/?$rid=${rid}` + (retryAfter ? `&retry-after=${retryAfter}` : "");
    t.send(refGenerate({ cmd: "publish", topic, payload: Buffer.from(body), qos: 0 } as any));
  }
  /** The $rid of a request topic. */
  const rid = (topic: string) => /\$rid=([^&]+)/.exec(topic)![1];
  /** Steps the clock 1 ms at a time (serving) until the client publishes; returns that topic and the ms waited. */
  function nextRequest(limit = 120000): { topic: string; waited: number } {
    const from = clock.t;
    for (;;) {
      const out = serve();
      if (out.length) return { topic: out[out.length - 1], waited: clock.t - from };
      if (clock.t - from > limit || result.calls) throw new Error(`no request within ${limit} ms (ended: ${result.err})`);
      clock.advance(1);
    }
  }
  return { t, clock, sent, result, serve, answer, rid, nextRequest };
}

test("retry-after=7 on the register answer: the status poll goes out exactly 7 s later (not the default 3 s); then assigned", () => {
  const s = start();
  const reg = s.nextRequest();
  assert.match(reg.topic, /^\$dps\/registrations\/PUT\/iotdps-register\/\?\$rid=/);
  s.answer(202, s.rid(reg.topic), ASSIGNING, 7);
  const poll = s.nextRequest();
  assert.is(poll.waited, 7000);
  assert.is(poll.topic, `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${s.rid(poll.topic)}&operationId=${encodeURIComponent(OP)}`);
  assert.is.not(s.rid(poll.topic), s.rid(reg.topic), "a new $rid per request");
  s.answer(200, s.rid(poll.topic), ASSIGNED);
  assert.is(s.result.calls, 1);
  assert.is(s.result.err, 0);
  assert.is(s.result.r!.connectionString, `HostName=h.azure-devices.net;DeviceId=r1;SharedAccessKey=${KEY}`);
  assert.is(s.clock.pending(), 0, "no timer left");
  assert.ok(!s.t.isOpen, "the connection is closed");
});

test("no retry-after: the default wait (DPS_RETRY_AFTER, 3 s); retry-after=1 waits 1 s", () => {
  const s = start();
  const reg = s.nextRequest();
  s.answer(202, s.rid(reg.topic), ASSIGNING);
  const p1 = s.nextRequest();
  assert.is(p1.waited, DPS_RETRY_AFTER * 1000);
  s.answer(202, s.rid(p1.topic), ASSIGNING, 1);
  assert.is(s.nextRequest().waited, 1000);
});

test("429 throttled: the register is sent again after the 429's retry-after; a 429 on a poll polls the same operation again", () => {
  const s = start();
  const r1 = s.nextRequest();
  s.answer(429, s.rid(r1.topic), '{"errorCode":429001,"message":"Operations are being throttled"}', 4);
  const r2 = s.nextRequest();
  assert.is(r2.waited, 4000);
  assert.match(r2.topic, /iotdps-register/, "no operation yet: registers again");
  s.answer(202, s.rid(r2.topic), ASSIGNING, 2);
  const p1 = s.nextRequest();
  assert.is(p1.waited, 2000);
  s.answer(429, s.rid(p1.topic), '{"errorCode":429001,"message":"Operations are being throttled"}', 5);
  const p2 = s.nextRequest();
  assert.is(p2.waited, 5000);
  assert.match(p2.topic, /iotdps-get-operationstatus\/.*operationId=/, "polls the operation it has");
  s.answer(200, s.rid(p2.topic), ASSIGNED);
  assert.is(s.result.err, 0);
});

test("an operation that never leaves 'assigning' ends with E_TIMEOUT at the timeout, once, the connection closed", () => {
  const s = start(20000);
  let polls = 0;
  for (;;) {
    let req: { topic: string };
    try {
      req = s.nextRequest(25000);
    } catch {
      break;
    }
    polls++;
    s.answer(202, s.rid(req.topic), ASSIGNING, 3);
  }
  assert.is(s.result.calls, 1);
  assert.is(s.result.err, E_TIMEOUT);
  assert.is(s.clock.t, 20000, "ended at the timeout, not later");
  assert.is(polls, 7, "the register at 0 s and a poll every 3 s until 18 s");
  assert.ok(!s.t.isOpen);
  s.clock.advance(60000);
  assert.is(s.result.calls, 1, "done once");
  assert.is(s.clock.pending(), 0);
});

test("the connection dropped mid-poll: the client reconnects and registers again; the stale poll is not sent; assigned", () => {
  const s = start();
  const reg = s.nextRequest();
  s.answer(202, s.rid(reg.topic), ASSIGNING, 3);
  s.clock.advance(1000);
  s.t.drop();
  const again = s.nextRequest(10000);
  assert.is(s.t.opens.length, 2, "reconnected");
  assert.match(again.topic, /iotdps-register/, "registers again on the new connection");
  assert.ok(again.waited < 3000, `before the old poll was due (${again.waited} ms)`);
  s.clock.advance(5000);
  assert.equal(s.serve(), [], "the old connection's poll timer is gone");
  s.answer(202, s.rid(again.topic), ASSIGNING, 3);
  const poll = s.nextRequest();
  assert.is(poll.waited, 3000);
  s.answer(200, s.rid(poll.topic), ASSIGNED);
  assert.is(s.result.err, 0);
  assert.is(s.result.calls, 1);
});

test.run();
