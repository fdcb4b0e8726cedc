"""One small module per outside system: DynamoDB stores, SQS, KMS, pinning, web3 and JSON-RPC, Secrets Manager.
May import chalicelib.model, chalicelib.observability and dmtp_protocol; never the use cases above them."""
