"""Barcodes: the Code 128 pattern, label PDFs read back through a real rasteriser, and decoding."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import barcode
import pytest
from barcode.writer import ImageWriter
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from app.core.errors import RiserError, ValidationError
from app.inventory.barcodes import (
    LABEL_STOCKS,
    MIN_MODULE_WIDTH,
    QUIET_ZONE_MODULES,
    ROLL_SINGLE,
    SHEET_3X10,
    DecodedCode,
    Label,
    code128_modules,
    decode_image,
    draw_code128,
    render_labels,
)
from app.inventory.identifiers import guess_kind as guess_field_kind
from app.inventory.identifiers import luhn_valid

START_B = "11010010000"  # Code 128 symbol value 104
START_C = "11010011100"  # symbol value 105
STOP = "1100011101011"  # stop pattern with its final bar

needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")


def bar_image(text: str, *, module_px: int = 2, ink: int = 0, paper: int = 255, height: int = 50) -> Image.Image:
    """``text``'s bar pattern painted straight into a greyscale image, quiet zones included."""
    modules = "0" * QUIET_ZONE_MODULES + code128_modules(text) + "0" * QUIET_ZONE_MODULES
    image = Image.new("L", (len(modules) * module_px, height), paper)
    for i, module in enumerate(modules):
        if module == "1":
            image.paste(ink, (i * module_px, 0, (i + 1) * module_px, height))
    return image


def rasterise(pdf: Path, dpi: int = 300) -> list[Path]:
    """The pages of ``pdf`` as PNG files, drawn by poppler as a print driver would."""
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=60)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


def pdf_page_count(data: bytes) -> int:
    return data.count(b"/Type /Page\n") or data.count(b"/Type /Page ")


# --- the bar pattern -------------------------------------------------------------------------


def test_text_is_encoded_between_the_start_code_and_the_stop_pattern() -> None:
    modules = code128_modules("Riser")
    assert set(modules) == {"0", "1"}
    assert modules.startswith(START_B) and modules.endswith(STOP)
    # start + five characters + check character, eleven modules each, then the stop pattern
    assert len(modules) == 11 * 7 + 13


def test_a_run_of_digits_starts_in_the_numeric_charset() -> None:
    modules = code128_modules("12345678")
    assert modules.startswith(START_C)
    assert len(modules) == 11 * (1 + 4 + 1) + 13  # two digits per symbol


@pytest.mark.parametrize("code", [
    "9912345678", "99", "999", "99A", "99999999999999999999",  # python-barcode drops a leading 99
    "24:5A:4C:11:22:33", "1A", "A1", "12345", "AB12345CD", "a b~c", "{}|\\^_`", " ",
])
def test_every_pattern_scans_back_to_exactly_its_text(code: str) -> None:
    assert [found.data for found in decode_image(bar_image(code))] == [code]


def test_an_empty_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="empty") as err:
        code128_modules("")
    assert err.value.field == "code"


@pytest.mark.parametrize(("code", "named"), [
    ("café", "“é”"), ("SN\t42", "U+0009"), ("LINE\n", "U+000A"), ("€5", "“€”"),
])
def test_characters_a_label_cannot_carry_are_named(code: str, named: str) -> None:
    with pytest.raises(ValidationError, match="cannot carry") as err:
        code128_modules(code)
    assert named in str(err.value)


# --- drawing onto a canvas -------------------------------------------------------------------


def test_the_bars_fill_the_box_with_ten_quiet_modules_each_side() -> None:
    canvas = Canvas(io.BytesIO())
    modules = code128_modules("ACC-000123")
    used = draw_code128(canvas, 72, 72, 200, 50, "ACC-000123")
    assert used == pytest.approx(200 / (len(modules) + 2 * QUIET_ZONE_MODULES))


def test_a_code_too_long_for_its_box_is_refused_rather_than_printed_unreadable() -> None:
    canvas = Canvas(io.BytesIO())
    with pytest.raises(ValidationError, match="too long") as err:
        draw_code128(canvas, 0, 0, 100, 40, "X" * 40)
    assert err.value.field == "code"
    assert draw_code128(canvas, 0, 0, 400, 40, "X" * 40) >= MIN_MODULE_WIDTH


def test_a_box_with_no_height_left_for_the_bars_is_refused() -> None:
    with pytest.raises(ValidationError, match="no room"):
        draw_code128(Canvas(io.BytesIO()), 0, 0, 200, 8, "A1", font_size=8)


# --- label stock -----------------------------------------------------------------------------


def test_the_thirty_label_sheet_sits_where_the_stock_puts_its_labels() -> None:
    assert (SHEET_3X10.page_width, SHEET_3X10.page_height) == (612, 792)
    assert SHEET_3X10.per_page == 30
    assert SHEET_3X10.position(0) == (13.5, 792 - 36 - 72)  # 3/16 in from the left, 1/2 in from the top
    x, y = SHEET_3X10.position(29)
    assert x == pytest.approx(13.5 + 2 * 198) and y == pytest.approx(36)  # 2.75 in pitch, bottom margin 1/2 in
    assert x + SHEET_3X10.label_width <= SHEET_3X10.page_width
    assert ROLL_SINGLE.per_page == 1 and ROLL_SINGLE.position(0) == (0, 0)
    assert LABEL_STOCKS == {"sheet-3x10": SHEET_3X10, "roll-57x32": ROLL_SINGLE}


# --- label PDFs, read back from pixels -------------------------------------------------------


def sheet_codes() -> list[str]:
    macs = [f"24:5A:4C:11:22:{i:02X}" for i in range(12)]
    imeis = [f"3548930{i:07d}" + "0" for i in range(6)]
    serials = ["SN-000042", "9912345678", "UX7-A1B2C3", "loc/B2/shelf-3", "ACC 10045", "1", "Z"]
    serials += [f"RISER-ITEM-{i:05d}" for i in range(10)]
    return macs + imeis + serials


@needs_pdftoppm
def test_a_two_page_sheet_of_labels_scans_back_to_exactly_the_codes_printed(tmp_path: Path) -> None:
    codes = sheet_codes()
    assert len(codes) == 35 and len(set(codes)) == 35
    labels = [Label(code, title="Ubiquiti UniFi Express, a title far too long for one label", subtitle=f"#{n}")
              for n, code in enumerate(codes, start=1)]
    pdf = tmp_path / "sheet.pdf"

    assert render_labels(labels, SHEET_3X10, pdf) == 2

    pages = rasterise(pdf)
    assert len(pages) == 2
    first, second = (decode_image(page) for page in pages)
    assert {found.data for found in first + second} == set(codes)
    # Reading order is the printing order: row by row from the top-left.
    assert [found.data for found in first] == codes[:30]
    assert [found.data for found in second] == codes[30:]
    assert {found.symbology for found in first + second} == {"CODE128"}


@needs_pdftoppm
def test_a_roll_prints_one_label_per_page_and_each_scans(tmp_path: Path) -> None:
    pdf = tmp_path / "roll.pdf"
    labels = [Label("24:5A:4C:11:22:33", "UniFi Express", "MAC"), Label("490154203237518", "Modem", "IMEI")]

    assert render_labels(labels, ROLL_SINGLE, pdf) == 2

    pages = rasterise(pdf)
    with Image.open(pages[0]) as page:
        assert page.size == (round(2.25 * 300), round(1.25 * 300))
    assert [[found.data for found in decode_image(page)] for page in pages] == [[label.code] for label in labels]


@needs_pdftoppm
def test_skipped_positions_stay_empty_and_the_labels_start_after_them(tmp_path: Path) -> None:
    pdf = tmp_path / "partial.pdf"
    assert render_labels([Label("AFTER-SKIP")], SHEET_3X10, pdf, skip=4) == 1

    (found,) = decode_image(rasterise(pdf)[0])
    # Position 4 is the middle of the second row; pixels count from the top of the page.
    x, y = SHEET_3X10.position(4)
    top = SHEET_3X10.page_height - y - SHEET_3X10.label_height
    px = 300 / 72
    assert found.data == "AFTER-SKIP"
    assert x * px < found.left < (x + SHEET_3X10.label_width) * px
    assert top * px < found.top < (top + SHEET_3X10.label_height) * px


@pytest.mark.parametrize(("count", "skip", "pages"), [
    (30, 0, 1), (31, 0, 2), (28, 2, 1), (28, 3, 2), (1, 29, 1), (60, 29, 3),
])
def test_skipping_positions_counts_towards_the_pages(count: int, skip: int, pages: int) -> None:
    out = io.BytesIO()
    assert render_labels([Label(f"C{i}") for i in range(count)], SHEET_3X10, out, skip=skip) == pages
    assert out.getvalue().startswith(b"%PDF") and pdf_page_count(out.getvalue()) == pages


@pytest.mark.parametrize("skip", [-1, 30, 31])
def test_a_skip_outside_the_sheet_is_refused(skip: int) -> None:
    with pytest.raises(ValidationError, match="between 0 and 29") as err:
        render_labels([Label("A1")], SHEET_3X10, io.BytesIO(), skip=skip)
    assert err.value.field == "skip"


def test_no_labels_is_refused() -> None:
    with pytest.raises(ValidationError, match="no labels"):
        render_labels([], SHEET_3X10, io.BytesIO())


def test_a_bad_label_names_its_place_in_the_list_and_writes_no_file(tmp_path: Path) -> None:
    pdf = tmp_path / "bad.pdf"
    with pytest.raises(ValidationError, match=r"Label 2 \('naïve'\).*cannot carry"):
        render_labels([Label("OK-1"), Label("naïve"), Label("OK-3")], SHEET_3X10, pdf)
    assert not pdf.exists()


# --- decoding images -------------------------------------------------------------------------


def writer_png(text: str) -> bytes:
    out = io.BytesIO()
    barcode.Code128(text, writer=ImageWriter()).write(out)
    return out.getvalue()


def test_a_png_from_python_barcode_decodes_from_bytes_a_path_or_an_image(tmp_path: Path) -> None:
    data = writer_png("RISER-ITEM-0042")
    path = tmp_path / "code.png"
    path.write_bytes(data)
    for source in (data, path, str(path), Image.open(io.BytesIO(data))):
        (found,) = decode_image(source)
        assert (found.data, found.symbology) == ("RISER-ITEM-0042", "CODE128")
        assert isinstance(found, DecodedCode) and found.left >= 0 and found.top >= 0


def test_codes_come_top_to_bottom_then_left_to_right_and_each_only_once() -> None:
    sheet = Image.new("L", (1400, 420), 255)
    # Second row first, a slightly lower right-hand neighbour, and the same code twice.
    placements = {(700, 230): "D-4", (40, 220): "C-3", (700, 26): "B-2", (40, 20): "A-1", (40, 340): "A-1"}
    for (left, top), code in placements.items():
        sheet.paste(bar_image(code, height=60), (left, top))
    assert [found.data for found in decode_image(sheet)] == ["A-1", "B-2", "C-3", "D-4"]


def test_a_faint_photo_is_read_on_the_enhanced_second_try() -> None:
    faint = bar_image("SN-000042", module_px=1, ink=125, paper=130)
    (found,) = decode_image(faint)
    assert found.data == "SN-000042"
    assert found.left == pytest.approx(QUIET_ZONE_MODULES, abs=3)  # in the original image's pixels


def test_bars_on_a_transparent_background_are_read_as_on_white_paper() -> None:
    mask = bar_image("CLEAR-1").point(lambda v: 255 - v)  # opaque where the bars are
    image = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    image.putalpha(mask)
    assert [found.data for found in decode_image(image)] == ["CLEAR-1"]


def test_a_blank_page_has_no_codes() -> None:
    assert decode_image(Image.new("RGB", (600, 400), "white")) == []


@pytest.mark.parametrize("source", [b"", b"not an image at all", writer_png("TRUNCATED")[:300]])
def test_bytes_that_are_not_a_whole_image_are_refused(source: bytes) -> None:
    with pytest.raises(ValidationError, match="^This file is not an image Riser can read: "):
        decode_image(source)


def test_a_missing_file_is_refused_with_the_same_message(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="^This file is not an image Riser can read: it does not exist"):
        decode_image(tmp_path / "nowhere.png")


def test_without_zbar_the_message_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar", None)  # makes ``from pyzbar import pyzbar`` fail
    with pytest.raises(RiserError) as err:
        decode_image(writer_png("A1"))
    assert str(err.value) == ("Reading barcodes from images needs the zbar library "
                              "(Debian/Ubuntu: apt-get install libzbar0; macOS: brew install zbar).")


def test_importing_the_module_loads_neither_qt_nor_zbar() -> None:
    code = "import sys, app.inventory.barcodes; print(sorted(m for m in ('PySide6', 'pyzbar') if m in sys.modules))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- what kind of identifier -----------------------------------------------------------------


@pytest.mark.parametrize(("digits", "valid"), [
    ("490154203237518", True), ("490154203237517", False), ("79927398713", True), ("0", True),
    ("18", True), ("", False), ("4901542032375l8", False), ("４９", False),
])
def test_the_luhn_check(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(("code", "kind"), [
    ("24:5A:4C:11:22:33", "mac"), ("24-5a-4c-11-22-33", "mac"), ("245a.4c11.2233", "mac"),
    ("245A4C112233", "mac"), (" 24 5A 4C 11 22 33 ", "mac"),
    ("490154203237518", "imei"), ("49-015420-323751-8", "imei"),
    ("310260123456789", "imsi"), ("49015420323751", "imsi"),
    ("24:5A:4C:11:22:3G", "serial"), ("24:5A:4C:11:22", "serial"), ("SN-000042", "serial"),
    ("1234567890123456", "serial"), ("", "serial"),
])
def test_a_code_is_recognised_by_its_shape(code: str, kind: str) -> None:
    assert guess_field_kind(code) == kind
