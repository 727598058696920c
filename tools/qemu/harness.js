// Boots the firmware in qemu-system-arm and plays the network for it.
//
// QEMU's UART1 is a TCP server socket on 127.0.0.1 (wait=on: the board does not start until
// the harness is connected, so start-up is deterministic); UART0, the console, is QEMU's
// stdout. The harness:
//   - sends the configuration line (JSON + "\n") first;
//   - reads the device's bytes as MQTT frames: a CONNECT opens a fresh TCP connection to the
//     broker (closing any previous one) and everything after it is forwarded; frames with no
//     broker connection behind them vanish, as on a dead network;
//   - forwards the broker's bytes back to the device;
//   - cut(ms): drops the bytes in both directions for `ms`, then closes the broker connection.
//     The device sees nothing but silence; the next CONNECT it sends gets a new connection.
// The run is bounded: QEMU is killed at `timeoutMs`. The board ends the run itself through
// semihosting, and its exit status is QEMU's.
import { spawn } from 'node:child_process'
import net from 'node:net'

/** A port that was free a moment ago (QEMU is the listener; a lost race is retried). */
async function freePort () {
  const s = net.createServer()
  await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve))
  const port = /** @type {net.AddressInfo} */ (s.address()).port
  await new Promise(resolve => s.close(resolve))
  return port
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** QEMU processes of this harness still running: killed if the Node process exits first. */
const running = new Set()
process.once('exit', () => {
  for (const q of running) q.kill('SIGKILL')
})

/** Splits a byte stream into MQTT frames (fixed header, remaining length, body). */
export class FrameSplitter {
  constructor (onFrame) {
    this.onFrame = onFrame
    this.buf = Buffer.alloc(0)
  }

  push (chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    for (;;) {
      let len = 0
      let mul = 1
      let i = 1
      for (;; i++) {
        if (i >= this.buf.length) return
        if (i > 4) throw new Error('malformed remaining length from the device')
        len += (this.buf[i] & 127) * mul
        mul *= 128
        if (!(this.buf[i] & 128)) break
      }
      const end = i + 1 + len
      if (this.buf.length < end) return
      const frame = this.buf.subarray(0, end)
      this.buf = this.buf.subarray(end)
      this.onFrame(frame)
    }
  }
}

/**
 * @typedef {{ elf: string, broker: { host?: string, port: number }, config: object,
 *   timeoutMs?: number, log?: (line: string) => void, onLine?: (line: string) => void }} BootOptions
 * @typedef {{ code: number | null, signal: string | null, timedOut: boolean, stderr: string }} Exit
 */

/**
 * Boots the firmware. Resolves once the link is connected and the configuration sent.
 * @param {BootOptions} o
 */
export async function bootDevice (o) {
  const log = o.log || (() => {})
  const host = o.broker.host || '127.0.0.1'
  let qemu, sock, port
  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    qemu = spawn('qemu-system-arm', [
      '-M', 'mps2-an385', '-cpu', 'cortex-m3',
      '-nodefaults', '-display', 'none', '-monitor', 'none',
      '-semihosting-config', 'enable=on,target=native',
      '-chardev', `socket,id=link,host=127.0.0.1,port=${port},server=on,wait=on`,
      '-serial', 'stdio', // UART0: the console
      '-serial', 'chardev:link', // UART1: the network link
      '-kernel', o.elf
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    const q = qemu
    running.add(q)
    q.once('exit', () => running.delete(q))
    sock = await connectWhileRunning(qemu, port)
    if (sock) break
    if (attempt === 3) throw new Error(`qemu did not open its link socket: ${qemu.stderrText || ''}`)
  }
  return new Device(o, qemu, sock, host, log)
}

/** Connects to QEMU's link socket, retrying while QEMU starts; null if QEMU exited first. */
async function connectWhileRunning (qemu, port) {
  let stderr = ''
  let exited = false
  qemu.stderr.on('data', d => { stderr += d })
  qemu.once('exit', () => { exited = true })
  qemu.once('error', err => { exited = true; stderr += err.message })
  const started = Date.now()
  while (!exited && Date.now() - started < 10000) {
    const s = await new Promise(resolve => {
      const c = net.connect({ host: '127.0.0.1', port })
      c.once('connect', () => resolve(c))
      c.once('error', () => resolve(null))
    })
    if (s) return s
    await sleep(30)
  }
  qemu.stderrText = stderr
  if (!exited) qemu.kill('SIGKILL')
  return null
}

class Device {
  constructor (o, qemu, sock, host, log) {
    this.o = o
    this.qemu = qemu
    this.sock = sock
    this.host = host
    this.log = log
    this.lines = []
    this.cutting = false
    this.upstream = null
    this.stats = { toBroker: 0, toDevice: 0, dropped: 0, connections: 0 }
    this.started = Date.now()
    let stderr = ''
    qemu.stderr.on('data', d => { stderr += d })

    // the console, line by line
    let partial = ''
    qemu.stdout.setEncoding('utf8')
    qemu.stdout.on('data', text => {
      const parts = (partial + text).split('\n')
      partial = parts.pop()
      for (const raw of parts) {
        const line = raw.replace(/\r$/, '')
        this.lines.push(line)
        log(`[dev +${((Date.now() - this.started) / 1000).toFixed(2)}s] ${line}`)
        try {
          o.onLine?.(line)
        } catch (err) {
          log(`harness: onLine failed: ${err.stack || err}`)
        }
      }
    })

    /** @type {Promise<Exit>} */
    this.exited = new Promise(resolve => {
      const timer = setTimeout(() => {
        this.timedOut = true
        log(`harness: timeout after ${o.timeoutMs} ms, killing qemu`)
        qemu.kill('SIGKILL')
      }, o.timeoutMs || 120000)
      const done = (code, signal) => {
        clearTimeout(timer)
        if (partial) this.lines.push(partial)
        this.closeUpstream()
        sock.destroy()
        resolve({ code, signal, timedOut: !!this.timedOut, stderr })
      }
      if (qemu.exitCode !== null || qemu.signalCode !== null) done(qemu.exitCode, qemu.signalCode)
      else qemu.once('exit', done)
    })

    const frames = new FrameSplitter(frame => this.fromDevice(frame))
    sock.setNoDelay(true)
    sock.on('data', d => {
      try {
        frames.push(d)
      } catch (err) {
        log(`harness: ${err.message}`)
        this.kill()
      }
    })
    sock.on('error', () => {})
    sock.write(JSON.stringify(o.config) + '\n')
  }

  fromDevice (frame) {
    if (this.cutting) {
      this.stats.dropped += frame.length
      return
    }
    if (frame[0] >> 4 === 1) this.openUpstream()
    if (!this.upstream) {
      this.stats.dropped += frame.length
      return
    }
    this.stats.toBroker += frame.length
    this.upstream.write(frame)
  }

  /** A fresh broker connection for a new CONNECT (frames written before it opens are queued by net). */
  openUpstream () {
    this.closeUpstream()
    const up = net.connect({ host: this.host, port: this.o.broker.port })
    this.upstream = up
    this.stats.connections++
    up.setNoDelay(true)
    up.on('data', d => {
      if (this.cutting || this.upstream !== up) {
        this.stats.dropped += d.length
        return
      }
      this.stats.toDevice += d.length
      this.sock.write(d)
    })
    up.on('error', err => this.log(`harness: broker connection: ${err.message}`))
    up.on('close', () => {
      if (this.upstream === up) this.upstream = null
    })
  }

  closeUpstream () {
    const up = this.upstream
    this.upstream = null
    if (up) up.destroy()
  }

  /** Cuts the link silently for `ms`, then closes the broker connection. Resolves at the end. */
  async cut (ms) {
    this.log(`harness: link cut for ${ms} ms`)
    this.cutting = true
    await sleep(ms)
    this.cutting = false
    this.closeUpstream()
    this.log('harness: link restored (broker connection closed; the next CONNECT opens a new one)')
  }

  kill () {
    this.qemu.kill('SIGKILL')
  }
}
