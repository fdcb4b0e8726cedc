"""`python -m devstack.moto_process PORT`: the corrected moto server in a process of its own.

In the caller's process, moto's request handling shares one GIL with the caller's own threads; a benchmark
that drives the worker hard measures that contention rather than the worker. Stops on SIGTERM or SIGINT.
"""

import logging
import signal
import sys
import threading

from moto.server import ThreadedMotoServer

from devstack import moto_patches


def main(port: int) -> None:
    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    server.start()
    print(f"moto server listening on 127.0.0.1:{port}", flush=True)  # to the log file devstack/stack.py gives it
    stopping.wait()
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
