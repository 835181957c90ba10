"""Claude as the answerer, through the official `anthropic` SDK.

- `prompt`: the constant system prompt and the `search_result` message list;
- `reply`: the streamed events turned into text with verbatim citations;
- `backend`: `ClaudeBackend`, the Messages API call and its errors mapped;
- `bedrock`: `BedrockBackend`, the same on Amazon Bedrock;
- `waits`: reads retry-after and stops the SDK sleeping through long waits.
"""

from .backend import EMPTY_WARNING, UNCITED_WARNING, ClaudeBackend
from .bedrock import BedrockBackend
from .prompt import SYSTEM_PROMPT, build_messages, system_blocks, system_prompt

__all__ = [
    "EMPTY_WARNING",
    "SYSTEM_PROMPT",
    "UNCITED_WARNING",
    "BedrockBackend",
    "ClaudeBackend",
    "build_messages",
    "system_blocks",
    "system_prompt",
]
