"""A streaming .xlsx writer: one sheet, rows written as they come, bytes handed out as the
zip is built, so a million rows take no more memory than one batch.

An .xlsx file is a zip of XML parts; the sheet is deflated into the zip entry by entry with
data descriptors, which needs no seeking back. Text goes in as inline strings, which a
spreadsheet never evaluates as formulas.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from collections.abc import Iterator
from xml.sax.saxutils import escape

MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
# Characters XML 1.0 cannot carry at all.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What cell_xml changes in a text: characters to drop, and those to escape.
NEEDS_ESCAPING = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""  # noqa: E501
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""  # noqa: E501
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""  # noqa: E501
# Style 1 is bold, for the header row.
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""  # noqa: E501
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
)
SHEET_END = "</sheetData></worksheet>"

Cell = str | int | float | None
EMPTY_CELL = "<c/>"


class _Chunks(io.RawIOBase):
    """A write-only, unseekable file that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def cell_xml(value: Cell, style: str = "") -> str:
    if value is None or value == "":
        return EMPTY_CELL
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<c{style}><v>{value!r}</v></c>"
    text = escape(NOT_IN_XML.sub("", str(value))[:MAX_CELL_CHARS])
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def text_cell(text: str) -> str:
    """A text cell (an inline string, never run as a formula); empty text, an empty cell."""
    if not text or len(text) > MAX_CELL_CHARS or NEEDS_ESCAPING.search(text):
        return cell_xml(text)
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def number_cell(number: int | float) -> str:
    return f"<c><v>{number!r}</v></c>"


def stream_workbook(
    header: list[str], batches: Iterable[list[str]], sheet_name: str = "Submissions"
) -> Iterator[bytes]:
    """The bytes of an .xlsx file with ``header`` in bold, then each batch of rows, each row
    already written as XML (cells of ``text_cell`` and ``number_cell``)."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK.format(name=escape(sheet_name[:31])))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            bold = ' s="1"'
            header_row = "".join(cell_xml(text, bold) for text in header)
            sheet.write(f"{SHEET_START}<row>{header_row}</row>".encode())
            for rows in batches:
                sheet.write("".join(rows).encode())
                yield sink.take()
            sheet.write(SHEET_END.encode())
    yield sink.take()
