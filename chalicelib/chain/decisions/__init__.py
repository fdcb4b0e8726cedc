"""Pure decisions of the chain side over plain data (claims, packing, receipts, bumping, fees): no I/O.
May import only chalicelib.model and dmtp_protocol; tested by tests/unit in milliseconds."""
