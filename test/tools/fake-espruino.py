# A pseudo-terminal that plays an Espruino board's REPL for the flash test: prints the slave path,
# answers each received line with the ">" prompt (or "Uncaught ..." when it contains FAIL_ME),
# and writes the lines it got (DLE and Ctrl-C stripped) to the file given as argv[1].
import os, pty, sys, select, time, tty
master, slave = pty.openpty()
tty.setraw(slave)  # no echo: the board's answers must not come back as input
print(os.ttyname(slave), flush=True)
out = open(sys.argv[1], "w")
buf = b""
deadline = time.time() + float(sys.argv[2] if len(sys.argv) > 2 else 20)
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.2)
    if not r:
        continue
    try:
        data = os.read(master, 65536)
    except OSError:
        break
    if b"\x03" in data:
        os.write(master, b"\r\n>")  # Ctrl-C: a fresh prompt, as the board gives
        data = data.replace(b"\x03", b"")
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        line = line.replace(b"\x03", b"").replace(b"\x10", b"").replace(b"\r", b"")
        out.write(line.decode("latin1") + "\n")
        out.flush()
        if b"FAIL_ME" in line:
            os.write(master, b"Uncaught ReferenceError: \"FAIL_ME\" is not defined\r\n>")
        else:
            os.write(master, b"=undefined\r\n>")
