"""The demo's graphics, drawn with Pillow: character cards, the title card, the header.

Pillow's built-in font (Pillow >= 10.1) is used so no system fonts are needed.
"""

from __future__ import annotations

from PIL import Image, ImageColor, ImageDraw, ImageFont

from hookline.demo.script import CastMember, EpisodeScript

WIDTH, HEIGHT = 1080, 1920
CARD_SIZE = (400, 600)
CARD_TOP = 620
# Cards keep clear of the right-hand button rail of TikTok, Reels and Shorts.
CARD_LEFT_X, CARD_RIGHT_X = 80, 520
TITLE_TOP = 200
WHITE = (255, 255, 255, 255)


def card_position(member: CastMember) -> tuple[int, int]:
    """Return where a character's card goes: on the side of the stage they stand on."""
    return (CARD_LEFT_X if member.pan <= 0 else CARD_RIGHT_X, CARD_TOP)


def character_card(member: CastMember, *, speaking: bool) -> Image.Image:
    """Draw a portrait card: silhouette and name, lit up while the character speaks."""
    width, height = CARD_SIZE
    accent = ImageColor.getrgb(member.color)
    card = Image.new("RGBA", CARD_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    fill = (*_shade(accent, 0.35), 235) if speaking else (20, 18, 28, 150)
    outline = (*accent, 255) if speaking else (255, 255, 255, 70)
    draw.rounded_rectangle(
        (4, 4, width - 5, height - 5),
        radius=36,
        fill=fill,
        outline=outline,
        width=10 if speaking else 3,
    )
    figure = (*accent, 255) if speaking else (*_shade(accent, 0.5), 200)
    _draw_silhouette(draw, width // 2, 250, figure)
    text = WHITE if speaking else (255, 255, 255, 150)
    first, _, last = member.name.partition(" ")
    _centered(draw, first.upper(), width // 2, 450, 54, text)
    _centered(draw, last.upper(), width // 2, 515, 38, text)
    return card


def title_card(episode: EpisodeScript) -> Image.Image:
    """Draw the opening banner: series, episode number and title on a dark band."""
    card = Image.new("RGBA", (WIDTH, 360), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, WIDTH, 360), fill=(8, 6, 14, 190))
    _centered(draw, episode.series_title.upper(), WIDTH // 2, 90, 76, WHITE, stroke=2)
    _centered(draw, f"EPISODE {episode.number}", WIDTH // 2, 185, 44, (255, 200, 120, 255))
    _centered(draw, episode.title, WIDTH // 2, 265, 52, WHITE)
    return card


def header(episode: EpisodeScript) -> Image.Image:
    """Draw the small series/episode line shown at the top after the title card."""
    card = Image.new("RGBA", (WIDTH, 90), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    label = f"{episode.series_title.upper()}  ·  EP {episode.number}"
    _centered(draw, label, WIDTH // 2, 45, 40, (255, 255, 255, 200))
    return card


def _draw_silhouette(draw: ImageDraw.ImageDraw, x: int, y: int, color: tuple) -> None:
    # A head over rounded shoulders reads as "a person" at any size.
    draw.ellipse((x - 80, y - 170, x + 80, y - 10), fill=color)
    draw.rounded_rectangle((x - 150, y + 10, x + 150, y + 150), radius=90, fill=color)


def _centered(draw, text: str, x: int, y: int, size: int, fill, *, stroke: int = 0) -> None:
    font = ImageFont.load_default(size=size)
    draw.text(
        (x, y),
        text,
        font=font,
        fill=fill,
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255),
    )


def _shade(rgb: tuple[int, ...], factor: float) -> tuple[int, int, int]:
    r, g, b = rgb[:3]
    return (round(r * factor), round(g * factor), round(b * factor))
