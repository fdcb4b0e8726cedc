"""`python -m devstack.chalice_local local --stage S --port P ...`: `chalice local`, answering without Nagle's delay.

chalice local's handler (Python's http.server) writes a response's headers and its body in two sends. On a
kept-alive connection Nagle's algorithm holds the body back until the client acknowledges the headers, which the
client delays (up to 40 ms on Linux): every request took ~50 ms. TCP_NODELAY (the handler's
disable_nagle_algorithm) sends both at once. Nothing else differs from the `chalice` command.
"""

import sys

from chalice import local
from chalice.cli import main

local.ChaliceRequestHandler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
