"""The registry's server code, by layer (each subpackage's __init__ says what lives there and what it may import).

bootstrap (wiring) -> api, chain (use cases) -> settings -> adapters (outside systems) -> observability -> model
(plain data); the protocol itself is the dmtp_protocol package. `make lint` checks these rules (import-linter).
"""
