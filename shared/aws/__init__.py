"""boto3 plumbing shared by adapters and discovery: the session factory and AWS error sorting."""

from shared.aws.errors import ErrorClass, classify, describe, error_code, is_not_found
from shared.aws.sessions import ClientKey, SessionFactory

__all__ = ["ClientKey", "ErrorClass", "SessionFactory", "classify", "describe", "error_code", "is_not_found"]
