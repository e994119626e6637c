"""A printable SVG label per device: name, DevEUI, type and a QR code (via segno).

The QR code carries `TINGBRO:<DevEUI>:<name>` only; no key ever goes on a label.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import segno

LABEL_WIDTH_MM = 62
LABEL_HEIGHT_MM = 29


def qr_payload(name: str, dev_eui: str) -> str:
    return f"TINGBRO:{dev_eui.upper()}:{name}"


def qr_path(matrix: tuple[bytearray, ...]) -> str:
    """SVG path data drawing each horizontal run of dark modules as a 1-unit-high rectangle."""
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return "".join(parts)


def _label_body(name: str, dev_eui: str, device_type: str) -> str:
    """The label's drawing in a 62 x 29 user-unit (mm) box."""
    qr = segno.make(qr_payload(name, dev_eui), error="m")
    border = 2
    modules = qr.symbol_size(scale=1, border=0)[0]
    qr_scale = 27 / (modules + 2 * border)
    eui = dev_eui.upper()
    grouped = " ".join(eui[i:i + 4] for i in range(0, 16, 4))
    return (
        f'<rect width="{LABEL_WIDTH_MM}" height="{LABEL_HEIGHT_MM}" fill="white" stroke="#bbb" stroke-width="0.1"/>\n'
        f'<g transform="translate({1 + border * qr_scale:.4f} {1 + border * qr_scale:.4f}) scale({qr_scale:.5f})">'
        f'<path class="qr" fill="black" d="{qr_path(qr.matrix)}"/></g>\n'
        f'<text x="30" y="8" font-family="sans-serif" font-size="4.2" font-weight="bold">{escape(name)}</text>\n'
        f'<text x="30" y="15" font-family="monospace" font-size="3.4">{grouped}</text>\n'
        f'<text x="30" y="21" font-family="sans-serif" font-size="3">{escape(device_type)}</text>\n'
        '<text x="30" y="26" font-family="sans-serif" font-size="2.4">Tingbro LoRaWAN EU868</text>\n'
    )


def label_svg(name: str, dev_eui: str, device_type: str) -> str:
    """One label, for a 62 mm label printer."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH_MM}mm" height="{LABEL_HEIGHT_MM}mm" '
        f'viewBox="0 0 {LABEL_WIDTH_MM} {LABEL_HEIGHT_MM}">\n' + _label_body(name, dev_eui, device_type) + "</svg>\n"
    )


# A4 sheets: 3 columns x 10 rows of labels.
SHEET_WIDTH_MM, SHEET_HEIGHT_MM = 210, 297
SHEET_COLUMNS, SHEET_ROWS = 3, 10


def label_sheets(labels: list[tuple[str, str, str]]) -> list[str]:
    """(name, dev_eui, device_type) of many devices -> A4 SVG pages of 30 labels each, for an office printer."""
    per_page = SHEET_COLUMNS * SHEET_ROWS
    margin_x = (SHEET_WIDTH_MM - SHEET_COLUMNS * LABEL_WIDTH_MM) / 2
    margin_y = (SHEET_HEIGHT_MM - SHEET_ROWS * LABEL_HEIGHT_MM) / 2
    pages = []
    for first in range(0, len(labels), per_page):
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
                 f'<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_WIDTH_MM}mm" height="{SHEET_HEIGHT_MM}mm" '
                 f'viewBox="0 0 {SHEET_WIDTH_MM} {SHEET_HEIGHT_MM}">\n']
        for index, (name, dev_eui, device_type) in enumerate(labels[first:first + per_page]):
            x = margin_x + (index % SHEET_COLUMNS) * LABEL_WIDTH_MM
            y = margin_y + (index // SHEET_COLUMNS) * LABEL_HEIGHT_MM
            parts.append(f'<g transform="translate({x:g} {y:g})">\n{_label_body(name, dev_eui, device_type)}</g>\n')
        parts.append("</svg>\n")
        pages.append("".join(parts))
    return pages
