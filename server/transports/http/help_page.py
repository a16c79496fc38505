"""The public page "Information and help" (``GET /help?lang=xx&district=..``, docs/knowledge.md):
server-rendered HTML that works without JavaScript and prints, under the same CSP as every page,
with no third-party request. It holds a quick exit (a plain link to ``privacy.exit_url``; with
JavaScript, /widget/help.js also clears the tab's storage and replaces the history entry), a GET
form to choose the language and the district, the published resources for the district and the
public articles. Every text is escaped; article and resource bodies are the sanitised Markdown
(transports/markdown.py)."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from aiohttp import web

from server import app_keys
from server.domain.knowledge import LANGUAGES, Item, Kind
from server.transports import markdown, wire

DEFAULT_LANGUAGE = "sv"
CONTACT_LABELS = (
    ("phone", "widget.resource_phone"),
    ("url", "widget.resource_web"),
    ("address", "widget.resource_address"),
    ("hours", "widget.resource_hours"),
)


def _attr(value: str) -> str:
    return escape(value, quote=True)


class HelpPage:
    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.catalogs = request.app[app_keys.CATALOGS]
        settings = request.app[app_keys.SETTINGS]
        self.exit_url = settings.privacy.exit_url
        self.emergency_number = settings.privacy.emergency_number
        self.routes = request.app[app_keys.ESCALATION_CONFIG].routes
        asked = request.query.get("lang", DEFAULT_LANGUAGE)
        self.language = asked if asked in LANGUAGES else DEFAULT_LANGUAGE
        district = request.query.get("district", "")
        self.district = district if district in self.routes else ""

    def t(self, key: str, **params: object) -> str:
        return escape(self.catalogs.text(self.language, key, **params))

    def _contact(self, item: Item) -> str:
        """The filled contact lines as a definition list; the phone a tel: link, the address of a
        web page a link (the domain allows only http(s) ones, domain/knowledge.py check_url)."""
        rows = []
        for field, key in CONTACT_LABELS:
            value = wire.contact(item.contact)[field]
            if not value:
                continue
            shown = escape(value)
            if field == "phone":
                digits = "".join(c for c in value if c.isdigit() or c == "+")
                shown = f'<a href="tel:{_attr(digits)}">{shown}</a>'
            elif field == "url":
                shown = f'<a href="{_attr(value)}" rel="noopener noreferrer">{shown}</a>'
            rows.append(f'<dt>{self.t(key)}</dt><dd dir="auto">{shown}</dd>')
        return f'<dl class="resource-contact">{"".join(rows)}</dl>' if rows else ""

    def _item(self, item: Item) -> str:
        shown = item.text_for(self.language)
        parts = [
            f'<article class="card help-item" lang="{_attr(shown.language)}" dir="auto" '
            f'data-testid="help-{item.kind.value}">',
            f"<h3>{escape(shown.title)}</h3>",
        ]
        if shown.summary:
            parts.append(f'<p class="help-summary">{escape(shown.summary)}</p>')
        if shown.body:
            parts.append(f'<div class="help-body">{markdown.render(shown.body)}</div>')
        if item.kind is Kind.RESOURCE:
            parts.append(self._contact(item))
        parts.append("</article>")
        return "".join(parts)

    def _options(self) -> tuple[str, str]:
        languages = "".join(
            f'<option value="{code}" lang="{code}"{" selected" if code == self.language else ""}>'
            f"{escape(self.catalogs.text(code, 'meta.name'))}</option>"
            for code in LANGUAGES
        )
        districts = f'<option value="">{self.t("help.district_all")}</option>' + "".join(
            f'<option value="{_attr(route_id)}"{" selected" if route_id == self.district else ""}>'
            f"{escape(wire.district_name(route.name))}</option>"
            for route_id, route in self.routes.items()
        )
        return languages, districts

    async def render(self) -> str:
        knowledge = self.request.app[app_keys.KNOWLEDGE]
        resources = await knowledge.public_items(Kind.RESOURCE, self.language, self.district or None)
        articles = await knowledge.public_items(Kind.ARTICLE, self.language, None)
        direction = "rtl" if self.catalogs.text(self.language, "meta.dir") == "rtl" else "ltr"
        languages, districts = self._options()
        resource_html = "".join(self._item(item) for item in resources) or (
            f'<p class="help-empty">{self.t("help.no_resources")}</p>'
        )
        article_html = "".join(self._item(item) for item in articles) or (
            f'<p class="help-empty">{self.t("help.no_articles")}</p>'
        )
        chat_link = "/?" + urlencode({"lang": self.language})
        exit_url = _attr(self.exit_url)
        return f"""<!doctype html>
<html lang="{self.language}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{self.t("help.title")}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/widget/style.css">
<link rel="stylesheet" href="/widget/help.css">
<script type="module" src="/widget/help.js"></script>
</head>
<body class="help-page">
<a class="skip-link" href="#main">{self.t("widget.skip_to_content")}</a>
<header class="topbar">
<div class="topbar-inner">
<a class="help-chat-link" href="{_attr(chat_link)}">{self.t("help.back_to_chat")}</a>
<a class="quick-exit" id="quick-exit" href="{exit_url}" rel="noreferrer"
 data-testid="quick-exit">{self.t("widget.quick_exit")}</a>
</div>
</header>
<main id="main" tabindex="-1">
<h1>{self.t("help.title")}</h1>
<p class="lead">{self.t("help.intro")}</p>
<p class="emergency">{self.t("help.emergency", number=self.emergency_number)}</p>
<form class="card help-chooser" method="get" action="/help">
<div class="field"><label for="help-lang">{self.t("help.language_label")}</label>
<select id="help-lang" name="lang">{languages}</select></div>
<div class="field"><label for="help-district">{self.t("help.district_label")}</label>
<select id="help-district" name="district">{districts}</select></div>
<button class="button button-primary" type="submit">{self.t("help.choose")}</button>
</form>
<section aria-labelledby="resources-heading">
<h2 id="resources-heading">{self.t("help.resources_heading")}</h2>
{resource_html}
</section>
<section aria-labelledby="articles-heading">
<h2 id="articles-heading">{self.t("help.articles_heading")}</h2>
{article_html}
</section>
<p class="help-note">{self.t("help.shown_in")}</p>
</main>
</body>
</html>
"""


async def help_page(request: web.Request) -> web.Response:
    html = await HelpPage(request).render()
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def add_help_page(app: web.Application) -> None:
    app.router.add_get("/help", help_page)
