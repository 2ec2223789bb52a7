"""Markdown written by editors (form descriptions, confirmation messages), rendered safely."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is shown as text, and the result is sanitised again, so neither a
# careless nor a hostile editor can put script or style on a public page.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip


@lru_cache(maxsize=1024)
def render_markdown(source: str) -> Markup:
    """Safe HTML for ``source``; links open in a new tab and carry no referrer or ranking."""
    html = _markdown.render(source or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)
