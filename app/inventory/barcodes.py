"""Barcodes: Code 128 drawn as PDF vectors, label sheets and rolls, and reading codes from images.

Three jobs, no Qt:

* **Drawing.** :func:`code128_modules` turns text into the bar pattern (python-barcode does the
  encoding); :func:`draw_code128` draws that pattern with reportlab as filled rectangles into any
  box on a canvas, with quiet zones and the text under the bars. Labels use it here; billing uses
  it for the account number on invoices.
* **Labels.** :class:`LabelStock` describes a sheet or roll of labels in points;
  :func:`render_labels` lays :class:`Label` values out on it and writes a PDF.
* **Reading.** :func:`decode_image` finds every barcode and QR code in a picture (a scan of a
  sheet, a photo of a box) with pyzbar; ``identifiers.guess_kind`` then says whether each looks
  like a MAC address, an IMEI, an IMSI or a plain serial number.

Coordinates follow reportlab: points (1/72 inch), origin at the bottom-left of the page, and a box
is given by its bottom-left corner, width and height.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

import barcode
from barcode.charsets import code128 as code128_charsets
from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.core.errors import RiserError, ValidationError

__all__ = [
    "LABEL_STOCKS",
    "MIN_MODULE_WIDTH",
    "QUIET_ZONE_MODULES",
    "ROLL_SINGLE",
    "SHEET_3X10",
    "BarcodeReaderMissing",
    "DecodedCode",
    "Label",
    "LabelStock",
    "code128_modules",
    "decode_image",
    "draw_code128",
    "draw_label",
    "render_labels",
]

# --------------------------------------------------------------------------------------------
# Code 128
# --------------------------------------------------------------------------------------------

QUIET_ZONE_MODULES = 10
"""Blank modules left on each side of the bars (the Code 128 minimum)."""

MIN_MODULE_WIDTH = 0.5
"""Narrowest bar we agree to print, in points (about 0.18 mm / 7 mil).

Below this, office laser printers and 203 dpi thermal printers smear the bars and handheld
scanners stop reading them, so :func:`draw_code128` refuses rather than print a dud label.
"""

_MIN_FONT_SIZE = 4.0
_ELLIPSIS = "…"


def code128_modules(text: str) -> str:
    """The Code 128 bar pattern for ``text``: one character per module, ``"1"`` bar, ``"0"`` space.

    Includes the start code, the check character and the stop pattern, but no quiet zones.
    Only printable ASCII (space to ``~``) is accepted. Code 128 could also carry control
    characters, but a scanner types those as keystrokes (Tab, Enter) and they cannot be printed
    under the bars, so a label holding one is always a mistake (usually a pasted spreadsheet cell).
    """
    if not text:
        raise ValidationError("There is nothing to put in the barcode: the code is empty.", field="code")
    bad = sorted({ch for ch in text if not (" " <= ch <= "~")})
    if bad:
        shown = ", ".join(_describe_char(ch) for ch in bad)
        raise ValidationError(
            f"A Code 128 barcode cannot carry {shown}. "
            "Use unaccented letters, digits and plain punctuation only.",
            field="code",
        )
    # ``build()`` returns a one-element list with the whole module string.
    return "".join(_Code128(text).build())


class _Code128(barcode.Code128):
    """python-barcode's Code 128, minus its bug that drops a leading "99" (their issue #251).

    Encoding starts in charset C, where the digit pair "99" is the data value 99. The library's
    start-code optimisation takes a 99 right after the start code for a "switch to C" and
    deletes it, so "9912345678" would scan as "12345678". Only a real switch to A or B may be
    folded into the start code; everything else is left alone.
    """

    def _try_to_optimize(self, encoded: list[int]) -> list[int]:
        if len(encoded) > 1 and encoded[1] in (code128_charsets.C["TO_A"], code128_charsets.C["TO_B"]):
            return super()._try_to_optimize(encoded)
        return encoded


def _describe_char(ch: str) -> str:
    if ch.isprintable():
        return f"“{ch}”"
    return f"the control character U+{ord(ch):04X}"


def draw_code128(
    canvas: Canvas,
    x: float,
    y: float,
    width: float,
    height: float,
    text: str,
    *,
    human_readable: bool = True,
    font_size: float = 8.0,
    font_name: str = "Helvetica",
    min_module_width: float = MIN_MODULE_WIDTH,
) -> float:
    """Draw ``text`` as a Code 128 barcode filling the box at (``x``, ``y``), ``width`` × ``height``.

    The bars are vector rectangles, so they stay sharp at any printer resolution. The box
    includes the quiet zones: the module (narrowest bar) width is ``width / (modules + 20)``, so
    at least ten blank modules stay free on each side. With ``human_readable`` the text is
    centred under the bars, its font shrunk (down to 4 pt, then cut short with "…") to fit.

    Returns the module width used, in points. Raises :class:`ValidationError` if the text cannot
    be encoded, or if it is too long for bars of at least ``min_module_width`` in this width.
    """
    modules = code128_modules(text)
    module_width = width / (len(modules) + 2 * QUIET_ZONE_MODULES)
    if module_width < min_module_width:
        raise ValidationError(
            f"“{text}” is too long for a barcode {width / inch:.2f} in wide: the bars would be too "
            "thin to scan. Use a shorter code or a wider label.",
            field="code",
        )

    bars_bottom = y
    size, shown = font_size, ""
    if human_readable:
        text_width = stringWidth(text, font_name, size)
        if text_width > width:
            size = max(_MIN_FONT_SIZE, font_size * width / text_width)
        shown = _fit_text(text, font_name, size, width)
        bars_bottom = y + 1.15 * size  # room for the descenders, about 0.21 em, and a hair more
    bar_height = y + height - bars_bottom
    if bar_height <= 0:
        raise ValidationError(f"There is no room for the bars of “{text}”: the box is too low.", field="code")

    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    if shown:
        canvas.setFont(font_name, size)
        canvas.drawCentredString(x + width / 2, y + 0.22 * size, shown)
    left = x + QUIET_ZONE_MODULES * module_width
    for start, run in _bar_runs(modules):
        canvas.rect(left + start * module_width, bars_bottom, run * module_width, bar_height, stroke=0, fill=1)
    canvas.restoreState()
    return module_width


def _bar_runs(modules: str) -> list[tuple[int, int]]:
    """(first module, number of modules) of each bar: adjacent dark modules make one rectangle.

    One rectangle per bar rather than per module leaves no hairline seams inside wide bars.
    """
    runs: list[tuple[int, int]] = []
    start = None
    for i, module in enumerate(modules):
        if module == "1" and start is None:
            start = i
        elif module != "1" and start is not None:
            runs.append((start, i - start))
            start = None
    if start is not None:
        runs.append((start, len(modules) - start))
    return runs


def _fit_text(text: str, font_name: str, size: float, width: float) -> str:
    """``text`` as is if it fits ``width``, otherwise its longest prefix that fits with "…"."""
    if stringWidth(text, font_name, size) <= width:
        return text
    low, high = 0, len(text)  # the longest fitting prefix has a length in [low, high)
    while low < high - 1:
        mid = (low + high) // 2
        if stringWidth(text[:mid].rstrip() + _ELLIPSIS, font_name, size) <= width:
            low = mid
        else:
            high = mid
    prefix = text[:low].rstrip()
    return prefix + _ELLIPSIS if prefix else ""


# --------------------------------------------------------------------------------------------
# Label stock
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelStock:
    """A kind of label paper. All lengths in points (1/72 inch).

    Labels are numbered row by row from the top-left of the page; ``h_gap`` and ``v_gap`` are
    the blank strips between neighbouring labels (so the pitch is label size plus gap).
    """

    key: str
    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left_margin: float
    top_margin: float
    h_gap: float
    v_gap: float

    def __post_init__(self) -> None:
        if self.columns < 1 or self.rows < 1:
            raise ValueError(f"label stock {self.key!r} needs at least one row and one column")
        if min(self.label_width, self.label_height, self.page_width, self.page_height) <= 0:
            raise ValueError(f"label stock {self.key!r} has a size that is not positive")
        used_width = self.left_margin + self.columns * self.label_width + (self.columns - 1) * self.h_gap
        used_height = self.top_margin + self.rows * self.label_height + (self.rows - 1) * self.v_gap
        if used_width > self.page_width + 0.01 or used_height > self.page_height + 0.01:
            raise ValueError(f"the labels of stock {self.key!r} do not fit on its page")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def position(self, index: int) -> tuple[float, float]:
        """Bottom-left corner of label ``index`` (0 = top-left, row by row) on a page."""
        if not 0 <= index < self.per_page:
            raise IndexError(f"label {index} is not on a {self.per_page}-label page")
        row, column = divmod(index, self.columns)
        x = self.left_margin + column * (self.label_width + self.h_gap)
        top = self.page_height - self.top_margin - row * (self.label_height + self.v_gap)
        return x, top - self.label_height


SHEET_3X10 = LabelStock(
    key="sheet-3x10",
    name="Letter sheet, 30 address labels 2.625 × 1 in (5160 size)",
    page_width=8.5 * inch,
    page_height=11 * inch,
    columns=3,
    rows=10,
    label_width=2.625 * inch,
    label_height=1 * inch,
    left_margin=0.1875 * inch,
    top_margin=0.5 * inch,
    h_gap=(2.75 - 2.625) * inch,
    v_gap=0.0,
)

ROLL_SINGLE = LabelStock(
    key="roll-57x32",
    name="Thermal roll, one label 57 × 32 mm (2.25 × 1.25 in)",
    page_width=2.25 * inch,
    page_height=1.25 * inch,
    columns=1,
    rows=1,
    label_width=2.25 * inch,
    label_height=1.25 * inch,
    left_margin=0.0,
    top_margin=0.0,
    h_gap=0.0,
    v_gap=0.0,
)

LABEL_STOCKS: dict[str, LabelStock] = {stock.key: stock for stock in (SHEET_3X10, ROLL_SINGLE)}
"""Every known stock by key, in the order a picker should list them."""


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    """One label: ``code`` is what the barcode carries and what is printed under it.

    ``title`` and ``subtitle`` are short lines printed small above the barcode (for example
    "Ubiquiti UniFi Express" and "MAC 24:5A:4C:11:22:33"); they are cut short to fit.
    """

    code: str
    title: str = ""
    subtitle: str = ""


_LABEL_PAD_X = 0.0625 * inch  # die-cut labels drift by about 1/16 in; keep ink off the edge
_LABEL_PAD_Y = 0.05 * inch
_TITLE_FONT = ("Helvetica-Bold", 7.0)
_SUBTITLE_FONT = ("Helvetica", 6.5)
_CODE_FONT_SIZE = 8.0


def draw_label(canvas: Canvas, label: Label, x: float, y: float, width: float, height: float) -> None:
    """Draw one label into the box at (``x``, ``y``): title and subtitle lines, then the barcode."""
    inner_left = x + _LABEL_PAD_X
    inner_width = width - 2 * _LABEL_PAD_X
    cursor = y + height - _LABEL_PAD_Y  # top of the space still free, moving down
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    for line, (font_name, size) in ((label.title, _TITLE_FONT), (label.subtitle, _SUBTITLE_FONT)):
        line = " ".join(line.split())  # newlines and tabs would print as boxes
        if not line:
            continue
        canvas.setFont(font_name, size)
        canvas.drawCentredString(x + width / 2, cursor - 0.78 * size, _fit_text(line, font_name, size, inner_width))
        cursor -= 1.15 * size
    canvas.restoreState()
    gap = 1.5 if (label.title.strip() or label.subtitle.strip()) else 0.0
    bottom = y + _LABEL_PAD_Y
    draw_code128(canvas, inner_left, bottom, inner_width, cursor - gap - bottom, label.code, font_size=_CODE_FONT_SIZE)


def render_labels(
    labels: Sequence[Label],
    stock: LabelStock,
    target: str | Path | BinaryIO,
    *,
    skip: int = 0,
) -> int:
    """Write ``labels`` as a PDF laid out on ``stock`` to ``target`` (a path or a binary file).

    Labels fill each page row by row from the top-left; ``skip`` leaves the first positions of
    the first page empty, to finish a sheet that was partly used before. Returns the number of
    pages written. Nothing is written if any label is refused.
    """
    if not labels:
        raise ValidationError("There are no labels to print.")
    if not 0 <= skip < stock.per_page:
        raise ValidationError(
            f"A {stock.name} has {stock.per_page} positions, so between 0 and "
            f"{stock.per_page - 1} can be skipped, not {skip}.",
            field="skip",
        )
    pages = math.ceil((skip + len(labels)) / stock.per_page)
    canvas = Canvas(
        str(target) if isinstance(target, (str, Path)) else target,
        pagesize=(stock.page_width, stock.page_height),
        pageCompression=1,
    )
    canvas.setCreator("Riser")
    canvas.setTitle(f"{len(labels)} labels ({stock.name})")
    for number, label in enumerate(labels, start=1):
        slot = skip + number - 1
        if slot and slot % stock.per_page == 0:
            canvas.showPage()
        x, y = stock.position(slot % stock.per_page)
        try:
            draw_label(canvas, label, x, y, stock.label_width, stock.label_height)
        except ValidationError as error:
            # The canvas only writes on save(), so bailing out here leaves no half-made file.
            raise ValidationError(f"Label {number} ({label.code!r}): {error.message}", field=error.field) from None
    canvas.showPage()
    canvas.save()
    return pages


# --------------------------------------------------------------------------------------------
# Reading codes from images
# --------------------------------------------------------------------------------------------


class BarcodeReaderMissing(RiserError):
    """pyzbar is installed but the zbar library it drives is not."""


_ZBAR_MISSING = (
    "Reading barcodes from images needs the zbar library "
    "(Debian/Ubuntu: apt-get install libzbar0; macOS: brew install zbar)."
)
_NOT_AN_IMAGE = "This file is not an image Riser can read: "
_MAX_UPSCALED_SIDE = 8000  # pixels; a larger retry costs seconds and hundreds of MB


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """A code found in an image: its text, its kind (as zbar names it) and where it was.

    ``symbology`` is for example "CODE128", "QRCODE", "EAN13"; ``left`` and ``top`` are the
    pixel position of its bounding box in the image as given (after EXIF rotation).
    """

    data: str
    symbology: str
    left: int
    top: int


def decode_image(source: bytes | str | Path | Image.Image) -> list[DecodedCode]:
    """Every barcode and QR code in ``source`` (image bytes, a file path, or a PIL image).

    Results run top to bottom, and left to right within a row; the same code (same symbology and
    data) seen twice is reported once, where it is highest. If nothing is found, a greyscale,
    auto-contrasted, twice-enlarged copy is tried too, which rescues many phone photos.

    Returns ``[]`` for a readable image without codes. Raises :class:`ValidationError` for a file
    that is not a readable image and :class:`BarcodeReaderMissing` if zbar is not installed.
    """
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as error:
        raise BarcodeReaderMissing(_ZBAR_MISSING) from error

    image = _open_image(source)
    found = _scan(pyzbar, image, scale=1)
    if not found:
        enhanced = ImageOps.autocontrast(image)
        factor = 2 if 2 * max(enhanced.size) <= _MAX_UPSCALED_SIDE else 1
        if factor > 1:
            enhanced = enhanced.resize((enhanced.width * factor, enhanced.height * factor), Image.Resampling.BICUBIC)
        found = _scan(pyzbar, enhanced, scale=factor)
    return _in_reading_order(found)


def _open_image(source: bytes | str | Path | Image.Image) -> Image.Image:
    """``source`` as an upright greyscale image, or a ValidationError saying why it cannot be."""
    try:
        if isinstance(source, Image.Image):
            return _upright_grey(source)
        opened = Image.open(io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray) else Path(source))
        with opened:
            return _upright_grey(opened)
    except FileNotFoundError:
        raise ValidationError(_NOT_AN_IMAGE + "it does not exist.") from None
    except IsADirectoryError:
        raise ValidationError(_NOT_AN_IMAGE + "it is a folder.") from None
    except UnidentifiedImageError:
        raise ValidationError(_NOT_AN_IMAGE + "its format is not recognised.") from None
    except Image.DecompressionBombError:
        raise ValidationError(_NOT_AN_IMAGE + "it is far too large.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        # Pillow reports damaged and truncated images with any of these.
        raise ValidationError(_NOT_AN_IMAGE + f"it looks damaged ({error}).") from None


def _upright_grey(image: Image.Image) -> Image.Image:
    """A greyscale copy of ``image``, turned as its EXIF says and with transparency on white."""
    image.load()  # Image.open only reads the header; truncated data fails here
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are usually black underneath: put the picture on white paper.
        paper = Image.new("RGBA", image.size, "white")
        paper.alpha_composite(image.convert("RGBA"))
        image = paper
    return image.convert("L")


@dataclass(frozen=True, slots=True)
class _Hit:
    code: DecodedCode
    height: int


def _scan(pyzbar: ModuleType, image: Image.Image, *, scale: int) -> list[_Hit]:
    try:
        symbols = pyzbar.decode(image)
    except pyzbar.PyZbarError as error:
        raise ValidationError(_NOT_AN_IMAGE + f"zbar refused it ({error}).") from None
    hits = []
    for symbol in symbols:
        try:
            data = symbol.data.decode("utf-8")
        except UnicodeDecodeError:
            data = symbol.data.decode("latin-1")
        rect = symbol.rect
        code = DecodedCode(data, str(symbol.type), rect.left // scale, rect.top // scale)
        hits.append(_Hit(code, max(1, rect.height // scale)))
    return hits


def _in_reading_order(hits: list[_Hit]) -> list[DecodedCode]:
    """Rows from the top, left to right inside a row, each (symbology, data) once.

    Codes on one printed row rarely share the exact same top pixel (a slightly skewed scan, a
    photo), so a code joins the current row when its top is within half the height of the
    row's first code.
    """
    ordered: list[DecodedCode] = []
    row: list[_Hit] = []

    def flush() -> None:
        ordered.extend(hit.code for hit in sorted(row, key=lambda hit: (hit.code.left, hit.code.top)))
        row.clear()

    for hit in sorted(hits, key=lambda hit: (hit.code.top, hit.code.left)):
        if row and hit.code.top > row[0].code.top + row[0].height / 2:
            flush()
        row.append(hit)
    flush()

    seen: set[tuple[str, str]] = set()
    unique: list[DecodedCode] = []
    for code in ordered:
        if (code.symbology, code.data) not in seen:
            seen.add((code.symbology, code.data))
            unique.append(code)
    return unique
