"""The chain side: the SQS worker, the transaction monitor, the sweeper and their Lambda entry points.
May import chain.decisions, chalicelib.model, chalicelib.observability, dmtp_protocol and its own ports; no adapter."""
