"""The Claude answerer on Amazon Bedrock: `ClaudeBackend` through `AnthropicBedrock`.

The SDK turns each Messages call into Bedrock's `invoke-with-response-stream`,
signs it with SigV4 (or sends AWS_BEARER_TOKEN_BEDROCK), and decodes the AWS
event stream back into the same events the Anthropic API streams, so prompts,
streaming and citations are exactly those of `ClaudeBackend`. What differs is
set-up (region, credentials, model ID) and the shape of errors: Bedrock names
them `ThrottlingException` and the like, in the `x-amzn-ErrorType` header or in
an event-stream exception frame, and its request id is `x-amzn-RequestId`.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import anthropic
import httpx2

from .... import errors
from ....settings import DEFAULT_BEDROCK_MODEL
from .backend import ClaudeBackend, MessagesClient

log = logging.getLogger(__name__)

# Bedrock's exception names (lower-cased) onto the Messages API's error types, which
# `ClaudeBackend` maps onto `BotError` classes.
_KINDS = {
    "accessdeniedexception": "permission_error",
    "unrecognizedclientexception": "authentication_error",
    "expiredtokenexception": "authentication_error",
    "invalidsignatureexception": "authentication_error",
    "throttlingexception": "rate_limit_error",
    "modelnotreadyexception": "rate_limit_error",
    "servicequotaexceededexception": "rate_limit_error",
    "internalserverexception": "api_error",
    "serviceunavailableexception": "overloaded_error",
    "modelstreamerrorexception": "api_error",
    "modelerrorexception": "api_error",
    "modeltimeoutexception": "api_error",
    "validationexception": "invalid_request_error",
    "resourcenotfoundexception": "not_found_error",
}
MODEL_HINT = (
    "Check BOT_MODEL: it must be a Bedrock model ID or inference profile enabled for "
    f"this account in AWS_REGION, such as {DEFAULT_BEDROCK_MODEL}."
)


class BedrockBackend(ClaudeBackend):
    name: ClassVar[str] = "bedrock"
    needs_key: ClassVar[bool] = False  # AWS credentials instead, checked in _make_client
    default_model: ClassVar[str | None] = DEFAULT_BEDROCK_MODEL
    key_hint: ClassVar[str] = (
        "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or AWS_BEARER_TOKEN_BEDROCK), that they may call bedrock:InvokeModel"
        "WithResponseStream, and that BOT_MODEL is enabled in AWS_REGION; "
        "or run offline with BOT_BACKEND=offline"
    )
    request_id_header: ClassVar[str] = "x-amzn-requestid"

    def _make_client(self, http_client: httpx2.Client | None) -> MessagesClient:
        """The SDK's Bedrock client; ANTHROPIC_BEDROCK_BASE_URL (read by Settings), when
        set, replaces the regional endpoint."""
        token = self.settings.aws_bearer_token
        if not token:
            _check_aws_credentials()
        try:
            return anthropic.AnthropicBedrock(
                aws_region=self.settings.aws_region,  # None: the SDK asks the AWS profile
                api_key=token,
                base_url=self.settings.bedrock_base_url,
                timeout=self.settings.timeout,
                max_retries=self.settings.max_retries,
                http_client=self._http_client(http_client),
            )
        except ValueError as error:  # the SDK found no region anywhere
            raise errors.MissingAWSCredentialsError("AWS region") from error

    def _error_kind(self, exc: anthropic.APIStatusError) -> str:
        # An HTTP error names its exception in a header ("ThrottlingException:http://...");
        # an exception frame mid-stream arrives as an `error` event of that name.
        name = exc.response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
        name = name or exc.type or ""
        return _KINDS.get(name.lower(), name)

    def _error_detail(self, exc: anthropic.APIStatusError) -> str:
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = str(body.get("message") or body.get("Message") or exc.api_message or exc.message)
        kind = self._error_kind(exc)
        if kind == "not_found_error" or (kind == "invalid_request_error" and "model" in detail):
            detail = f"{detail.rstrip('.')}. {MODEL_HINT}"
        return detail


def _check_aws_credentials() -> None:
    """Raise MissingAWSCredentialsError unless the standard AWS chain finds credentials.

    The SDK would only find out at the first question, as a RuntimeError.
    """
    try:
        import botocore.exceptions
        import botocore.session
    except ImportError as error:
        raise errors.ConfigurationError(
            "The bedrock backend signs requests with botocore, which is not installed: "
            "install the bedrock extra (.venv/bin/pip install -e '.[bedrock]'), "
            "or set AWS_BEARER_TOKEN_BEDROCK, or run offline with BOT_BACKEND=offline.",
            setting="BOT_BACKEND",
        ) from error

    try:
        found = botocore.session.get_session().get_credentials()
    except botocore.exceptions.ProfileNotFound as error:
        raise errors.ConfigurationError(
            f"{error}: set AWS_PROFILE to a profile in ~/.aws/config, or unset it.",
            setting="AWS_PROFILE",
        ) from error
    except botocore.exceptions.BotoCoreError as error:
        log.warning("Reading AWS credentials failed: %s", error)
        found = None
    if found is None:
        raise errors.MissingAWSCredentialsError("AWS credentials", setting="AWS_ACCESS_KEY_ID")
