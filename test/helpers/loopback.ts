// An in-process broker for one client: it answers CONNECT, SUBSCRIBE, PINGREQ and PUBACKs QoS 1,
// and echoes every PUBLISH back (as if the client subscribed to everything). Replies are queued
// and delivered by pump(), never from inside the client's write(), as a real socket would.
import { Transport, TransportEvents, TlsOptions } from '../../src/types';
import { createReader } from '../../src/mqtt/reader';
import { encodePublish, encodeAck, PUBLISH, PUBACK, CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ } from '../../src/mqtt/codec';
import { readU16, utf8Read } from '../../src/bytes';

export class LoopbackBroker implements Transport {
  private ev: TransportEvents | null = null;
  private queue: Uint8Array[] = [];
  private rx = new Uint8Array(8192);
  private tx = new Uint8Array(8192);
  private nextId = 0;
  /** Frames received from the client, by packet type. */
  received = new Array<number>(16).fill(0);
  private reader = createReader(this.rx, this.rx.length, (hdr, total, pos, len) => this.onFrame(hdr, len));

  open(_h: string, _p: number, _t: TlsOptions | null, events: TransportEvents): void {
    this.ev = events;
    this.reader.reset();
    this.queue.length = 0;
    events.onOpen();
  }
  write(buf: Uint8Array, off: number, len: number): number {
    const r = this.reader.feed(buf.subarray(off, off + len));
    if (r < 0) throw new Error('loopback: the client wrote a bad frame: ' + r);
    return len;
  }
  close(): void {
    this.ev = null;
  }
  /** Delivers queued replies (and the replies they cause) until none is left; returns how many. */
  pump(): number {
    let n = 0;
    while (this.queue.length && this.ev) this.ev.onData(this.queue.shift()!), n++;
    return n;
  }

  private reply(bytes: Uint8Array) {
    this.queue.push(bytes.slice());
  }
  private onFrame(hdr: number, len: number): number {
    const t = hdr >> 4, b = this.rx;
    this.received[t]++;
    if (t == CONNECT) this.reply(Uint8Array.of(0x20, 2, 0, 0));
    else if (t == PINGREQ) this.reply(Uint8Array.of(0xd0, 0));
    else if (t == SUBSCRIBE) this.reply(Uint8Array.of(0x90, 3, b[0], b[1], b[len - 1]));
    else if (t == UNSUBSCRIBE) this.reply(Uint8Array.of(0xb0, 2, b[0], b[1]));
    else if (t == PUBLISH) {
      const qos = (hdr >> 1) & 3, tl = readU16(b, 0), h = 2 + tl + (qos ? 2 : 0);
      if (qos == 1) this.reply(this.tx.subarray(0, encodeAck(this.tx, 0, PUBACK, readU16(b, 2 + tl))));
      this.nextId = (this.nextId % 65535) + 1;
      const n = encodePublish(this.tx, 0, utf8Read(b, 2, tl)!, b.subarray(h, len), qos, false, false, this.nextId);
      this.reply(this.tx.subarray(0, n));
    }
    return 0;
  }
}
