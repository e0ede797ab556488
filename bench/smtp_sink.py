"""A local SMTP sink for the notification benchmark: accepts every message on 127.0.0.1 and
writes one line per message (receipt time, size) to a file. Run as `python -m bench.smtp_sink`.

It answers the SMTP commands a client sends and only counts what it receives, as a real mail
server's acceptance would cost next to nothing. aiosmtpd (which the tests use, to look at the
messages) parsed every command and message in Python: about 1 ms of CPU per message on one of
the two cores the measured worker runs on, a sixth of what the worker itself spends.
"""

import argparse
import asyncio
import contextlib
import signal
import time

GREETING = b"220 127.0.0.1 ESMTP bench sink\r\n"
EHLO = b"250-127.0.0.1\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP\r\n"
REPLIES = {
    b"HELO": b"250 127.0.0.1\r\n",
    b"MAIL": b"250 OK\r\n",
    b"RCPT": b"250 OK\r\n",
    b"RSET": b"250 OK\r\n",
    b"NOOP": b"250 OK\r\n",
    b"DATA": b"354 End data with <CR><LF>.<CR><LF>\r\n",
}
END_OF_DATA = b"\r\n.\r\n"


class SinkProtocol(asyncio.Protocol):
    def __init__(self, log) -> None:
        self.log = log
        self.buffer = b""
        self.in_data = False
        self.size = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(GREETING)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.in_data:
                end = self.buffer.find(END_OF_DATA)
                if end < 0:
                    # Keep the tail that may be the start of the terminator.
                    self.size += max(len(self.buffer) - 4, 0)
                    self.buffer = self.buffer[-4:]
                    return
                self.size += end
                self.buffer = self.buffer[end + len(END_OF_DATA) :]
                self.in_data = False
                self.log.write(f"{time.time():.6f} {self.size}\n")
                self.transport.write(b"250 OK: queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.transport.write(EHLO)
            elif verb == b"QUIT":
                self.transport.write(b"221 Bye\r\n")
                self.transport.close()
                return
            else:
                self.transport.write(REPLIES.get(verb, b"502 Command not implemented\r\n"))
                if verb == b"DATA":
                    # The data starts on a new line: "\r\n" lets an empty message end at once.
                    self.in_data, self.size = True, -2
                    self.buffer = b"\r\n" + self.buffer


async def serve(port: int, log) -> None:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    server = await loop.create_server(lambda: SinkProtocol(log), "127.0.0.1", port)
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):  # bounded: the benchmark stops it long before
        await asyncio.wait_for(stopped.wait(), 3600)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.log, "a", encoding="utf-8") as log:
        asyncio.run(serve(args.port, log))


if __name__ == "__main__":
    main()
