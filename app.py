"""Serve the chat about Amazon's investment in Anthropic: `python app.py`.

Opens on http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT change it);
the page and its /chat endpoint are built in bot.webapp around bot.chat.
"""

import logging

from bot.errors import BotError
from bot.presentation.webapp import build_demo, serve

try:
    demo = build_demo()
except BotError as error:
    raise SystemExit(f"error: {error}") from None

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own startup probes
    serve(demo)
