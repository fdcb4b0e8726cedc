"""What the DynamoDB modules share: telling a failed condition apart from every other error."""
from botocore.exceptions import ClientError


def condition_failed(exc: ClientError) -> bool:
    """True when DynamoDB refused a write because its ConditionExpression did not hold."""
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
