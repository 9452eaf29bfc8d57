"""Invoices per second through `render_document`, against plain WeasyPrint (the floor).

The floor renders the very same HTML with `weasyprint.HTML(string=...).write_pdf()`:
no PDF/A-3, no Factur-X XML, no XSD check, no restricted fetcher. Both are measured
in the same run, one render of each in turn, and compared by their median times, so
that the machine's noise (about 30% here) hits both alike.
Goal: render_document reaches at least 80% of the floor. Exits 1 below the goal.

    python bench/invoice_bench.py
"""

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

# Runnable from a checkout without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import weasyprint  # noqa: E402

from services.orders.documents import (  # noqa: E402
    EFUS_SELLER,
    STATIC_DIR,
    BankDetails,
    DocumentContent,
    DocumentLine,
    Party,
    VatTreatment,
    document_html,
    render_document,
)

GOAL = 0.80
SECONDS = 24  # of measuring, after the warm-up

INVOICE = DocumentContent(
    kind="invoice",
    number="2026-00042",
    issue_date=date(2026, 3, 12),
    language="en",
    seller=replace(EFUS_SELLER, legal_id="12345678900011"),
    buyer=Party(
        name="Leeds City Council",
        contact_name="John Smith",
        address_lines=("Civic Hall", "Calverley Street"),
        postcode="LS1 1UR",
        city="Leeds",
        country_code="GB",
        email="john.smith@leeds.gov.uk",
    ),
    lines=(
        DocumentLine(
            "Police-Population Relations: Challenges, Local Practices and "
            "Recommendations – postage",
            2, 800, 1600, "3 free copies (member)",
        ),
    ),
    total_cents=1600,
    order_number="ORD-2026-0107",
    vat=VatTreatment("O", "VAT not applicable: Efus is not subject to VAT.", "VATEX-EU-O"),
    payment_terms="Payment by bank transfer within 30 days.",
    due_date=date(2026, 4, 11),
    bank=BankDetails("Forum européen pour la sécurité urbaine",
                     "FR7630004000031234567890143", "BNPAFRPPXXX"),
)


def timed(render: Callable[[], bytes]) -> float:
    start = time.perf_counter()
    render()
    return time.perf_counter() - start


def main() -> int:
    html = document_html(INVOICE)
    base_url = STATIC_DIR.resolve().as_uri() + "/"

    def floor() -> bytes:
        return weasyprint.HTML(string=html, base_url=base_url).write_pdf()

    def ours() -> bytes:
        return render_document(INVOICE)

    for _ in range(3):  # warm-up: imports, fonts, caches
        floor()
        ours()

    floor_times: list[float] = []
    our_times: list[float] = []
    deadline = time.perf_counter() + SECONDS
    while time.perf_counter() < deadline:
        floor_times.append(timed(floor))
        our_times.append(timed(ours))

    floor_rate = 1 / statistics.median(floor_times)
    our_rate = 1 / statistics.median(our_times)
    ratio = our_rate / floor_rate
    print(f"floor  weasyprint.HTML(...).write_pdf(): {floor_rate:6.2f} invoices/s "
          f"({1000 / floor_rate:.0f} ms each)")
    print(f"render_document (PDF/A-3b + Factur-X): {our_rate:6.2f} invoices/s "
          f"({1000 / our_rate:.0f} ms each)")
    print(f"ratio: {ratio:.0%} of floor (goal: at least {GOAL:.0%}); "
          f"{len(our_times)} renders of each")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
