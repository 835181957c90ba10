"""Serve the chat about the knowledge folder's documents: `python app.py`.

Opens on http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT change it);
the page and its /chat endpoint are built in bot.presentation.webapp around
bot.presentation.chat, and served by bot.presentation.server.
"""

import logging

from bot import presentation
from bot.errors import BotError
from bot.redaction import redact_logs
from bot.settings import get_settings

try:
    get_settings()  # first: gradio parses GRADIO_SERVER_PORT itself, with a traceback
    demo = presentation.build_demo()
except BotError as error:
    raise SystemExit(f"error: {error}") from None

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own startup probes
    redact_logs()
    try:
        presentation.serve(demo)
    except BotError as error:  # a busy port, an address not of this machine
        raise SystemExit(f"error: {error}") from None
