"""A local SMTP sink for the notification benchmark: accepts every message on 127.0.0.1 and
writes one line per message (receipt time, size) to a file. Run as `python -m bench.smtp_sink`."""

import argparse
import signal
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, log_path: str):
        self.log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.log.write(f"{time.time():.6f} {len(envelope.content)}\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.log), hostname="127.0.0.1", port=args.port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("ready", flush=True)
    stopped.wait(3600)  # bounded: the benchmark stops it long before
    controller.stop()


if __name__ == "__main__":
    main()
