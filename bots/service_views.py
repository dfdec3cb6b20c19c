"""How a VPN service looks in the bot: a copy-friendly text (HTML, links in <code>) and a QR code image."""
from __future__ import annotations

import html
import io

import qrcode

from app.services.panels.services import Service
from bots import formatting as fmt
from bots.i18n import t

GB = 1024 ** 3
CAPTION_LIMIT = 1024
#: Config links listed in a caption at most (all are in "My services").
CAPTION_CONFIG_LINKS = 3


def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG bytes (qrcode with Pillow)."""
    image = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def service_text(lang: str, service: Service, timezone: str, *, max_config_links: int | None = None) -> str:
    """Plan, status, days left, traffic and the links of one service, as Telegram HTML."""
    lines = [t(lang, "service.title", plan=html.escape(service.subscription.plan.name)),
             t(lang, "service.days_left", days=fmt.number(lang, service.days_left()),
               end=fmt.date(lang, service.subscription.ends_at, timezone)),
             traffic_line(lang, service),
             t(lang, "service.status", status=t(lang, f"subscription.{service.subscription.status}"))]
    if not service.ready:
        lines.append(t(lang, "service.preparing_short"))
        return "\n".join(lines)
    lines += ["", t(lang, "service.link"), f"<code>{html.escape(service.link)}</code>"]
    links = service.config_links[:max_config_links] if max_config_links is not None else service.config_links
    if links:
        lines += ["", t(lang, "service.config_links")] + [f"<code>{html.escape(link)}</code>" for link in links]
    return "\n".join(lines)


def traffic_line(lang: str, service: Service) -> str:
    used = fmt.digits(lang, round(service.used_bytes / GB, 2))
    if service.limit_bytes is None:
        return t(lang, "service.traffic_unlimited", used=used)
    return t(lang, "service.traffic", used=used, limit=fmt.digits(lang, round(service.limit_bytes / GB, 2)))


def card_caption(lang: str, service: Service, timezone: str, reason: str) -> str:
    """The caption of the QR photo sent when a service is ready or its link changed (≤ 1024 chars)."""
    head = t(lang, "service.ready" if reason == "ready" else "service.link_changed")
    for config_links in (CAPTION_CONFIG_LINKS, 1, 0):
        caption = head + "\n\n" + service_text(lang, service, timezone, max_config_links=config_links)
        if len(caption) <= CAPTION_LIMIT:
            return caption
    return (head + "\n\n" + f"<code>{html.escape(service.link or '')}</code>")[:CAPTION_LIMIT]
