"""The HTTP API's use cases: register, revoke, look up, history, batch, the log's read API, static files, OpenAPI.
May import dmtp_protocol, chalicelib.model, chalicelib.observability and its own ports; never web3 or an adapter."""
