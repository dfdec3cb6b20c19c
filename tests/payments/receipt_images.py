"""Generated bank-app receipt screenshots: one template, different amounts, cards, references and times.

The hard case for a perceptual hash: every image shares the layout, only the figures differ.
"""
from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFont

BANKS = ("Mellat", "Melli", "Saman", "Pasargad", "Tejarat")
COLORS = ((0, 90, 160), (200, 30, 40), (20, 140, 80), (120, 40, 160), (230, 120, 0))


def receipt_image(seed: int) -> Image.Image:
    rng = random.Random(seed)
    width, height = 720, 1280
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, 180], fill=rng.choice(COLORS))
    title, body = ImageFont.load_default(size=34), ImageFont.load_default(size=28)
    draw.text((40, 60), rng.choice(BANKS) + " Bank", fill="white", font=title)
    draw.ellipse([width // 2 - 60, 230, width // 2 + 60, 350], fill=(40, 170, 90))
    rows = (("Amount", f"{rng.randrange(50, 5000) * 1000:,} Rial"),
            ("From card", f"6037-****-****-{rng.randrange(10000):04d}"),
            ("To card", f"6104-****-****-{rng.randrange(10000):04d}"),
            ("Reference", str(rng.randrange(10 ** 11, 10 ** 12))),
            ("Date", f"1403/{rng.randrange(1, 13):02d}/{rng.randrange(1, 30):02d}"),
            ("Time", f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"))
    for row, (label, value) in enumerate(rows):
        draw.text((60, 400 + 90 * row), label, fill=(90, 90, 90), font=body)
        draw.text((360, 400 + 90 * row), value, fill=(20, 20, 20), font=body)
    return image


def as_bytes(image: Image.Image, kind: str = "PNG", quality: int = 90, scale: float = 1.0) -> bytes:
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, kind, quality=quality) if kind == "JPEG" else image.save(out, kind)
    return out.getvalue()
