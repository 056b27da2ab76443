"""The work done for one product row: trigger text, two prompts, two images, tags.

Prompts come from the organisation's editable templates (sandboxed Jinja) or, when TEXT_API_URL
is configured, from an OpenAI-compatible text model. Images come from an OpenAI-compatible image
model when IMAGE_API_URL is configured; otherwise they are rendered locally with Pillow as
labelled product cards that say so on the card and in the results: they are not photographs.
Model calls go through app.core.ai, metered against the batch row they serve; when one fails or
the monthly AI budget is used up, the row takes the offline path (templates, local cards) and
records why. Every result names the generator that produced it.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from PIL import Image, ImageDraw, ImageFont

from app.analysis.images import ImageRejected, open_image_checked
from app.analysis.keywords import extract_keywords
from app.core import ai, storage

STYLES = ("lifestyle_emotional", "single_white_background")
STYLE_LABELS = {"lifestyle_emotional": "Lifestyle, emotional", "single_white_background": "Single product, white background"}
TRIGGER_FIELDS = ("country", "product_type", "size", "mpn", "description")
TEMPLATE_VARIABLES = ("trigger", "title", "country", "product_type", "size", "mpn", "description", "extra")

DEFAULT_TEMPLATES = {
    "lifestyle_emotional": (
        "Lifestyle photograph of {{ title or product_type or 'the product' }}"
        "{% if size %} ({{ size }}){% endif %} in an everyday setting, warm natural light, "
        "a person enjoying it, emotional and inviting mood. Product details: {{ trigger }}."
    ),
    "single_white_background": (
        "Studio packshot of a single {{ product_type or 'product' }}"
        "{% if title %} – {{ title }}{% endif %}{% if mpn %} (MPN {{ mpn }}){% endif %}, "
        "centred on a pure white background, soft even lighting, no props, sharp focus. "
        "Product details: {{ trigger }}."
    ),
}
MAX_PROMPT_CHARS = 2000


class RowInvalid(ValueError):
    """The row itself cannot be processed (retrying will not help)."""

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


class TemplateInvalid(ValueError):
    pass


def _clean(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def mapped_fields(data: dict, mapping: dict) -> dict:
    """{field: cleaned value} for the mapped product fields, plus `extra` for unmapped columns."""
    used = {name for name in mapping.values() if name}
    fields = {f: _clean(data.get(mapping[f])) if mapping.get(f) else "" for f in (*TRIGGER_FIELDS, "title")}
    fields["extra"] = {k: v for k, v in data.items() if k not in used}
    return fields


def trigger_text(fields: dict) -> str:
    """country + product type + size + MPN + description, normalised into one line."""
    parts = []
    for name in TRIGGER_FIELDS:
        value = fields.get(name) or ""
        if value:
            label = name.replace("_", " ")
            parts.append(f"{label}: {value}" if name != "description" else value)
    text = "; ".join(parts)
    return text[:1000]


_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def check_template(source: str) -> None:
    """Raise TemplateInvalid when the template does not compile or uses unknown variables."""
    try:
        _env.from_string(source).render(**_sample_context())
    except TemplateError as exc:
        raise TemplateInvalid(f"The template cannot be used: {exc}. Variables you can use: "
                              + ", ".join(TEMPLATE_VARIABLES) + ".") from None


def _sample_context() -> dict:
    return {"trigger": "t", "title": "t", "country": "c", "product_type": "p", "size": "s", "mpn": "m",
            "description": "d", "extra": {}}


@lru_cache(maxsize=64)
def _compiled(source: str):
    return _env.from_string(source)


def prompts_from_templates(fields: dict, trigger: str, templates: dict[str, tuple[str, str]]) -> dict:
    """{style: {"text", "generator"}} from {style: (template source, generator label)}."""
    context = {**{k: fields.get(k, "") for k in TEMPLATE_VARIABLES if k != "trigger"}, "trigger": trigger}
    out = {}
    for style in STYLES:
        source, label = templates[style]
        try:
            text = _compiled(source).render(**context)
        except TemplateError as exc:
            raise RowInvalid(f"The {style} prompt template failed for this row: {exc}") from None
        out[style] = {"text": _clean(text)[:MAX_PROMPT_CHARS], "generator": label}
    return out


def text_model() -> ai.Feature | None:
    """The configured OpenAI-compatible text model (TEXT_*), or None (the default: off)."""
    return ai.feature("text")


class TextModelError(RuntimeError):
    pass


def prompts_from_model(model: ai.Feature, fields: dict, trigger: str, served: ai.Served) -> dict:
    """Ask the text model for one prompt per style (raises TextModelError on any failure)."""
    out = {}
    for style in STYLES:
        messages = [
            {"role": "system", "content": "You write one image-generation prompt for a product photo. "
                                          "Answer with the prompt only."},
            {"role": "user", "content": f"Style: {STYLE_LABELS[style]}. Product: "
                                        f"{fields.get('title') or ''}. Details: {trigger}"},
        ]
        try:
            text = ai.chat(model, served, messages, temperature=0.4).value
        except ai.AIError as exc:
            raise TextModelError(f"text model at {model.url}: {exc.reason}") from None
        if not text.strip():
            raise TextModelError("text model returned an empty prompt")
        out[style] = {"text": _clean(text)[:MAX_PROMPT_CHARS], "generator": f"text-model:{model.model}"}
    return out


def prompts_for(fields: dict, trigger: str, templates: dict, served: ai.Served | None) -> tuple[dict, list[str]]:
    """The prompts, from the text model when one is configured, else (or when it fails) from the templates."""
    try:
        model = text_model()
        if model is not None and served is not None:
            return prompts_from_model(model, fields, trigger, served), []
    except (ai.AIError, TextModelError) as exc:
        reason = exc.reason if isinstance(exc, ai.AIError) else str(exc)
        return prompts_from_templates(fields, trigger, templates), [
            f"prompts: {reason}; the prompt templates were used instead"]
    return prompts_from_templates(fields, trigger, templates), []


# --- images ----------------------------------------------------------------------------------

CARD_SIZE = (480, 480)
IMAGE_SUFFIX = ".jpg"
LOCAL_IMAGE_GENERATOR = "local-pillow-card"
RENDERED_NOTE = "rendered locally (a labelled card, not a photograph)"
_BACKGROUNDS = {
    "lifestyle_emotional": ((250, 214, 165), (214, 120, 110)),  # warm gradient
    "single_white_background": ((255, 255, 255), (255, 255, 255)),
}


@lru_cache(maxsize=8)
def _font(size: int):
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        if len(lines) == max_lines:
            break
    if line and len(lines) < max_lines:
        lines.append(line)
    if len(lines) == max_lines and len(" ".join(lines)) < len(text):
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines


_FIELD_LABELS = {"product_type": "Product type", "size": "Size", "mpn": "MPN", "country": "Country"}


@lru_cache(maxsize=4)
def _background(style: str) -> Image.Image:
    top, bottom = _BACKGROUNDS[style]
    if top == bottom:
        img = Image.new("RGB", CARD_SIZE, top)
        ImageDraw.Draw(img).rectangle([20, 20, CARD_SIZE[0] - 20, CARD_SIZE[1] - 20], outline=(210, 214, 222), width=2)
        return img
    mask = Image.linear_gradient("L").resize(CARD_SIZE)
    return Image.composite(Image.new("RGB", CARD_SIZE, bottom), Image.new("RGB", CARD_SIZE, top), mask)


def render_card(style: str, fields: dict) -> bytes:
    """A JPEG product card: title, key fields and a style background, marked as rendered locally."""
    img = _background(style).copy()
    draw = ImageDraw.Draw(img)
    ink = (30, 34, 44)
    y = 40
    title = fields.get("title") or fields.get("product_type") or "Untitled product"
    for line in _wrap(draw, title, _font(30), CARD_SIZE[0] - 80, 3):
        draw.text((40, y), line, fill=ink, font=_font(30))
        y += 38
    y += 10
    for name in ("product_type", "size", "mpn", "country"):
        value = fields.get(name)
        if value:
            for line in _wrap(draw, f"{_FIELD_LABELS[name]}: {value}", _font(20), CARD_SIZE[0] - 80, 2):
                draw.text((40, y), line, fill=ink, font=_font(20))
                y += 26
    draw.text((40, CARD_SIZE[1] - 70), STYLE_LABELS[style], fill=ink, font=_font(18))
    draw.text((40, CARD_SIZE[1] - 46), "Rendered locally - not a photograph", fill=(120, 30, 30), font=_font(16))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def local_image(style: str, fields: dict) -> dict:
    """One locally rendered card, stored: {"sha256", "suffix", "generator", "note", "width", "height"}."""
    stored = storage.save_bytes(render_card(style, fields), IMAGE_SUFFIX)
    return {"sha256": stored.sha256, "suffix": IMAGE_SUFFIX, "generator": LOCAL_IMAGE_GENERATOR, "note": RENDERED_NOTE,
            "width": CARD_SIZE[0], "height": CARD_SIZE[1]}


def images_local(fields: dict) -> dict:
    """{style: {"sha256", "generator", "note"}} for two locally rendered cards."""
    return {style: local_image(style, fields) for style in STYLES}


@dataclass(frozen=True)
class ImageModel:
    feature: ai.Feature
    size: str = "1024x1024"

    @property
    def model(self) -> str:
        return self.feature.model


EXTERNAL_NOTE = "external image model"
_SIZE = re.compile(r"^\d{2,4}x\d{2,4}$")


def image_model() -> ImageModel | None:
    """The configured OpenAI-compatible image model (IMAGE_*), or None (the default: off)."""
    try:
        feature = ai.feature("image")
    except ai.AIError as exc:
        raise ImageModelError(exc.reason.removeprefix("is not set up correctly: ")) from None
    if feature is None:
        return None
    size = str(current_app.config.get("IMAGE_SIZE") or "1024x1024")
    if not _SIZE.match(size):
        raise ImageModelError(f"IMAGE_SIZE must look like 1024x1024, not {size!r}")
    return ImageModel(feature, size)


class ImageModelError(RuntimeError):
    pass


def _checked_jpeg(data: bytes) -> tuple[bytes, int, int]:
    try:
        image = open_image_checked(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP"))
    except ImageRejected as exc:
        raise ai.AIError(f"sent an unusable image: {exc.reason}") from None
    # Re-encoded, never stored as received: the stored file is one we wrote ourselves.
    buf = io.BytesIO()
    with image:
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        image.convert("RGB").save(buf, format="JPEG", quality=90)
        return buf.getvalue(), image.width, image.height


def image_from_model(model: ImageModel, prompt: str, served: ai.Served) -> dict:
    """Ask the image model for one image, check and re-encode it, store it; ImageModelError on any failure."""
    try:
        jpeg, width, height = ai.images(model.feature, served, prompt, size=model.size, read=_checked_jpeg).value
    except ai.AIError as exc:
        if isinstance(exc, ai.OverBudget):
            raise ImageModelError(exc.reason) from None
        raise ImageModelError(f"image model {model.model} at {model.feature.url} {exc.reason}") from None
    stored = storage.save_bytes(jpeg, IMAGE_SUFFIX)
    return {"sha256": stored.sha256, "suffix": IMAGE_SUFFIX, "generator": model.model, "note": EXTERNAL_NOTE,
            "width": width, "height": height}


def images_for(fields: dict, prompts: dict, served: ai.Served | None = None) -> tuple[dict, list[str]]:
    """Both images and the reasons any style fell back to a local card (an image model failed)."""
    try:
        model = image_model()
    except ImageModelError as exc:
        return ({style: {**local_image(style, fields), "fallback_reason": str(exc)} for style in STYLES},
                [f"image model not used: {exc}; local cards were rendered instead"])
    if model is None or served is None:
        return images_local(fields), []
    out, problems = {}, []
    for style in STYLES:
        try:
            out[style] = image_from_model(model, prompts[style]["text"], served)
        except ImageModelError as exc:
            reason = f"{style}: {exc}; a local card was rendered instead"
            out[style] = {**local_image(style, fields), "fallback_reason": str(exc)}
            problems.append(reason)
    return out, problems


def tags_for(fields: dict, trigger: str) -> list[str]:
    text = ". ".join(x for x in (fields.get("title"), trigger) if x)
    return extract_keywords(text, max_keywords=8)


def process_row(data: dict, mapping: dict, templates: dict[str, tuple[str, str]]) -> dict:
    """Everything one row produces; raises RowInvalid when the row cannot be processed."""
    # Models are asked only for a known batch row (set with `ai.serving` by the job), so every call
    # is billed to its organisation and row; without one the row is made offline.
    fields = mapped_fields(data, mapping)
    trigger = trigger_text(fields)
    if not trigger and not fields.get("title"):
        column = mapping.get("title")
        raise RowInvalid("The row has no title and none of country, product type, size, MPN or description.", column)
    served = ai.current_served()
    prompts, prompt_problems = prompts_for(fields, trigger, templates, served)
    images, image_problems = images_for(fields, prompts, served)
    return {
        "trigger": trigger,
        "title": fields.get("title") or "",
        "prompts": prompts,
        "images": images,
        "image_problems": prompt_problems + image_problems,
        "tags": tags_for(fields, trigger),
        "tags_generator": "yake-keywords",
    }
