// A client wired to a fake transport and a manual clock, with everything it reports in one log.
import { createClient, ClientOptions, MessageInfo } from '../../src/mqtt/client';
import { errorName } from '../../src/errornames';
import { FakeTransport, ManualClock } from './fake';

/** A delivered message (or chunk): payload as plain hex. */
export interface Message { topic: string; payload: string; info: MessageInfo }

/** "E_KEEPALIVE" for -23, "0" for 0. */
export const name = (code: number) => (code ? errorName(code) : '0');

/** A client for the test to drive; `log` records connect/close/error/writable, `messages` what arrived. */
export function session(opts: Partial<ClientOptions> = {}, clock = new ManualClock()) {
  const t = new FakeTransport(), log: string[] = [], messages: Message[] = [];
  t.clock = clock;
  const client = createClient({
    host: 'broker.local',
    clientId: 'dev1',
    transport: t,
    clock,
    onConnect: (sp) => log.push(`connect ${sp}`),
    onMessage: (topic, payload, info) => messages.push({ topic, payload: Buffer.from(payload).toString('hex'), info: { ...info } }),
    onClose: (code) => log.push(`close ${name(code)}`),
    onError: (code) => log.push(`error ${name(code)}`),
    onWritable: () => log.push('writable'),
    ...opts,
  });
  return {
    client, t, clock, log, messages,
    /** connect() (or wait for the pending reconnect) and answer CONNACK; returns what the client wrote before it. */
    up(sessionPresent = false) {
      if (!t.isOpen) client.connect();
      const before = t.take();
      t.send([0x20, 2, sessionPresent ? 1 : 0, 0]);
      return before;
    },
    /** Takes the log so far (and clears it). */
    events() {
      return log.splice(0);
    },
  };
}
