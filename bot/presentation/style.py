"""How the page looks: its theme and style sheet, the app's own markup classes."""

from __future__ import annotations

import gradio as gr

CSS = """
.gradio-container { max-width: 920px !important; margin: 0 auto !important; }
#header h1 { font-size: 1.5rem; margin: 0.6rem 0 0.25rem; text-align: center; }
#header p { text-align: center; margin: 0.15rem 0; }
#header .status { color: var(--body-text-color-subdued); font-size: 0.9rem; }
#header .status-warning { color: var(--color-accent); font-size: 0.85rem; }
.answer-footer { margin-top: 0.6rem; }
details.sources { border-top: 1px solid var(--border-color-primary); padding-top: 0.4rem; }
details.sources summary { cursor: pointer; font-weight: 600; font-size: 0.9rem; }
.source-list { margin: 0.4rem 0 0 1.2rem; padding: 0; font-size: 0.9rem; }
.source-list li { margin: 0.35rem 0; }
.source-section { display: block; font-weight: 600; }
.source-quote { display: block; color: var(--body-text-color-subdued); font-style: italic; }
.answer-warning { font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0.4rem 0 0; }
#chat .example { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
    background: var(--background-fill-secondary); }
#chat .example:hover { border-color: var(--color-accent); }
.bot-notice { border-left: 3px solid var(--color-accent); padding-left: 0.6rem; }
/* On a phone the chat gets the screen: a smaller title, no tagline, the status on one
   line that may be cut (the whole of it is in its tooltip). */
@media (max-width: 640px) {
  #header h1 { font-size: 1.05rem; margin: 0.2rem 0 0.1rem; line-height: 1.25; }
  #header .tagline { display: none; }
  #header .status, #header .status-warning { font-size: 0.75rem; overflow: hidden;
      display: -webkit-box; -webkit-line-clamp: 1; -webkit-box-orient: vertical; }
  .gradio-container { padding-top: 0.25rem !important; }
}
"""


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="orange",
        neutral_hue="slate",
        # System fonts: the page then asks no third party for anything.
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )
