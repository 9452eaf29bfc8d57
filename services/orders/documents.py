"""Billing documents: invoices and credit notes as PDF/A-3 with Factur-X XML inside.

An issued document never changes, so everything it shows is carried by the
dataclasses below (its texts already in the customer's language: VAT wording, payment
terms and bank details come from configuration); rendering adds the labels and the legal
mentions of a French B2B invoice from the catalogue, in that language, with Babel's dates
and amounts.

The embedded XML follows the Factur-X EN 16931 profile (UN/CEFACT CII). Efus charges
no VAT on postage: every line uses VAT category "E" (exempt) or "O" (not subject to
VAT), with the printed VAT wording as exemption reason. Credit notes carry amounts
as positive numbers, as EN 16931 wants; their type code (381) says they are credits.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pycountry
from jinja2 import FileSystemLoader
from lxml import etree

from shared.i18n import LANGUAGES, JinjaLanguages, country_name, format_date, format_money, format_percent
from shared.pdf import render_pdf

if TYPE_CHECKING:
    import pydyf

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static" / "orders"

Kind = Literal["invoice", "credit_note"]
#: the fixed compensation for recovery costs every late B2B payer owes (Code de commerce, L441-10 and D441-5)
RECOVERY_FEE_CENTS = 4000


@dataclass(frozen=True)
class Party:
    """Seller or buyer as printed on the document and sent in the XML."""

    name: str  # organisation, or the person's name when ordering privately
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country_code: str  # ISO 3166-1 alpha-2
    contact_name: str | None = None
    email: str | None = None
    telephone: str | None = None
    vat_id: str | None = None  # intra-community VAT number (BT-31 / BT-48)
    legal_id: str | None = None  # SIRET (BT-30)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("party name is empty")
        if pycountry.countries.get(alpha_2=self.country_code) is None:
            raise ValueError(f"unknown ISO 3166-1 country code {self.country_code!r}")


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: int  # billed copies
    unit_price_cents: int
    line_total_cents: int
    note: str | None = None  # e.g. "3 free copies (member)"

    def __post_init__(self) -> None:
        if self.quantity < 1 or self.unit_price_cents < 0:
            raise ValueError(f"line {self.description!r}: quantity or price out of range")
        if self.line_total_cents != self.quantity * self.unit_price_cents:
            raise ValueError(
                f"line {self.description!r}: total {self.line_total_cents} is not "
                f"{self.quantity} x {self.unit_price_cents}"
            )


@dataclass(frozen=True)
class VatTreatment:
    """Why no VAT is charged: EN 16931 category and the wording printed and sent."""

    category: Literal["E", "O"]  # E: exempt, O: not subject to VAT (UNTDID 5305)
    wording: str  # printed, and the exemption reason text (BT-120)
    exemption_code: str | None = None  # VATEX code (BT-121), e.g. "VATEX-EU-O"

    def __post_init__(self) -> None:
        if self.category not in ("E", "O"):
            raise ValueError(f"VAT category must be 'E' or 'O', not {self.category!r}")
        if not self.wording.strip():
            raise ValueError("VAT wording is empty")


@dataclass(frozen=True)
class BankDetails:
    account_holder: str
    iban: str
    bic: str
    bank_name: str | None = None


@dataclass(frozen=True)
class DocumentContent:
    """What an invoice or credit note shows, as rendered (the stored one is models.BillingDocument)."""

    kind: Kind
    number: str  # e.g. "2026-00042"
    issue_date: date
    language: str  # one of shared.i18n.LANGUAGES: labels, dates, amounts and legal mentions
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    total_cents: int
    order_number: str
    vat: VatTreatment
    payment_terms: str  # printed, and BT-20
    due_date: date | None = None
    bank: BankDetails | None = None
    refers_to: str | None = None  # credit notes: number of the invoice they cancel
    refers_to_date: date | None = None  # issue date of that invoice
    currency: str = "EUR"
    #: French B2B mentions (Code de commerce L441-9): penalties for late payment, % a year
    late_penalty_rate: Decimal = Decimal("10")

    def __post_init__(self) -> None:
        """Refuse documents that would be wrong on paper or in EN 16931."""
        if self.kind not in ("invoice", "credit_note"):
            raise ValueError(f"unknown document kind {self.kind!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"no catalogue for language {self.language!r}")
        if not self.number or not self.order_number:
            raise ValueError("document and order numbers are required")
        if not self.lines:
            raise ValueError("a document needs at least one line")
        if self.total_cents != sum(line.line_total_cents for line in self.lines):
            raise ValueError(f"total {self.total_cents} is not the sum of the lines")
        if (self.kind == "credit_note") != (self.refers_to is not None):
            raise ValueError("a credit note, and only a credit note, refers to an invoice")
        if not self.payment_terms.strip():
            raise ValueError("payment terms are required (EN 16931 BR-CO-25)")
        if not (self.seller.legal_id or self.seller.vat_id):
            raise ValueError("the seller needs a SIRET or a VAT number (EN 16931 BR-CO-26)")
        if self.vat.category == "E" and not self.seller.vat_id:
            raise ValueError("VAT category E needs the seller's VAT number (BR-E-02)")
        if self.vat.category == "O" and (self.seller.vat_id or self.buyer.vat_id):
            raise ValueError("VAT category O forbids seller and buyer VAT numbers (BR-O-02)")

    def to_json(self) -> dict[str, Any]:
        """The document as JSON, stored with it: its render needs nothing else."""
        return json.loads(json.dumps(asdict(self), default=str))  # dates ISO, Decimal as text

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentContent:
        def party(fields: dict[str, Any]) -> Party:
            return Party(**{**fields, "address_lines": tuple(fields["address_lines"])})

        def day(text: str | None) -> date | None:
            return date.fromisoformat(text) if text else None

        return cls(**{
            **data,
            "issue_date": date.fromisoformat(data["issue_date"]),
            "seller": party(data["seller"]),
            "buyer": party(data["buyer"]),
            "lines": tuple(DocumentLine(**line) for line in data["lines"]),
            "vat": VatTreatment(**data["vat"]),
            "due_date": day(data["due_date"]),
            "bank": BankDetails(**data["bank"]) if data["bank"] else None,
            "refers_to_date": day(data["refers_to_date"]),
            "late_penalty_rate": Decimal(data["late_penalty_rate"]),
        })


# Efus' name and address; the service adds its SIRET (legal_id) from configuration.
EFUS_SELLER = Party(
    name="Efus – European Forum for Urban Security",
    address_lines=("10 rue des Montiboeufs",),
    postcode="75020",
    city="Paris",
    country_code="FR",
    email="contact@efus.eu",
    telephone="+33 1 40 64 49 00",
)

def _group_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


#: the documents' template in each language (labels and legal mentions from the catalogue)
_TEMPLATES = JinjaLanguages(FileSystemLoader(TEMPLATES_DIR))


def document_html(doc: DocumentContent) -> str:
    """The document as HTML, for `render_pdf` with `STATIC_DIR` as resource directory."""
    return _TEMPLATES(doc.language).get_template("orders/document.html").render(
        doc=doc,
        money=lambda cents: format_money(cents, doc.currency, doc.language),
        long_date=lambda day: format_date(day, doc.language),
        country=lambda code: country_name(code, doc.language),
        rate=format_percent(doc.late_penalty_rate / 100, doc.language),
        recovery_fee=RECOVERY_FEE_CENTS,
        iban=_group_iban,
    )


# --- Factur-X XML (UN/CEFACT Cross Industry Invoice, EN 16931 profile) ---

_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_TYPE_CODES = {"invoice": "380", "credit_note": "381"}  # UNTDID 1001


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{_NS[prefix]}}}{name}", attrs)
    element.text = text
    return element


def _decimal(cents: int) -> str:
    units, hundredths = divmod(cents, 100)
    return f"{units}.{hundredths:02d}"


def _date(parent: etree._Element, tag: str, day: date, *, qualified: bool = False) -> None:
    prefix = "qdt" if qualified else "udt"
    _el(_el(parent, tag), f"{prefix}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _address(parent: etree._Element, party: Party) -> None:
    address = _el(parent, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", party.postcode)
    # CII has three address lines; fold any further ones into the third.
    lines = list(party.address_lines[:2]) + [", ".join(party.address_lines[2:])]
    for tag, line in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines):
        if line:
            _el(address, tag, line)
    _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country_code)


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)
    if party.legal_id:
        _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.legal_id, schemeID="0009")
    if party.contact_name or party.telephone or party.email:
        contact = _el(node, "ram:DefinedTradeContact")
        if party.contact_name:
            _el(contact, "ram:PersonName", party.contact_name)
        if party.telephone:
            phone = _el(contact, "ram:TelephoneUniversalCommunication")
            _el(phone, "ram:CompleteNumber", party.telephone)
        if party.email:
            _el(_el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    _address(node, party)
    if party.email:
        _el(_el(node, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if party.vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def _tax(parent: etree._Element, vat: VatTreatment, basis_cents: int | None = None) -> None:
    """A line's tax (no basis) or the document's VAT breakdown (with basis)."""
    tax = _el(parent, "ram:ApplicableTradeTax")
    if basis_cents is not None:
        _el(tax, "ram:CalculatedAmount", "0.00")
    _el(tax, "ram:TypeCode", "VAT")
    if basis_cents is not None:
        _el(tax, "ram:ExemptionReason", vat.wording)
        _el(tax, "ram:BasisAmount", _decimal(basis_cents))
    _el(tax, "ram:CategoryCode", vat.category)
    if basis_cents is not None and vat.exemption_code:
        _el(tax, "ram:ExemptionReasonCode", vat.exemption_code)
    if vat.category == "E":  # "not subject to VAT" (O) must not state a rate
        _el(tax, "ram:RateApplicablePercent", "0")


def factur_x_xml(doc: DocumentContent) -> bytes:
    """The document as Factur-X EN 16931 XML, checked against the official XSD."""
    root = etree.Element(f"{{{_NS['rsm']}}}CrossIndustryInvoice", nsmap=_NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
        "urn:cen.eu:en16931:2017")

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)
    _el(header, "ram:TypeCode", _TYPE_CODES[doc.kind])
    _date(header, "ram:IssueDateTime", doc.issue_date)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for number, line in enumerate(doc.lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        line_doc = _el(item, "ram:AssociatedDocumentLineDocument")
        _el(line_doc, "ram:LineID", str(number))
        if line.note:
            _el(_el(line_doc, "ram:IncludedNote"), "ram:Content", line.note)
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        price = _el(_el(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", _decimal(line.unit_price_cents))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity",
            str(line.quantity), unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        _tax(settlement, doc.vat)
        _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
            "ram:LineTotalAmount", _decimal(line.line_total_cents))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", doc.seller)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer)
    _el(_el(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID",
        doc.order_number)

    # The copies are posted to the buyer's address (deliver-to party, BG-13).
    ship_to = _el(_el(transaction, "ram:ApplicableHeaderTradeDelivery"), "ram:ShipToTradeParty")
    _el(ship_to, "ram:Name", doc.buyer.name)
    _address(ship_to, doc.buyer)

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", doc.number)
    _el(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.bank:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", "58")  # SEPA credit transfer
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", doc.bank.iban.replace(" ", ""))
        _el(account, "ram:AccountName", doc.bank.account_holder)
        _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID",
            doc.bank.bic)
    _tax(settlement, doc.vat, basis_cents=doc.total_cents)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", doc.payment_terms)
    if doc.due_date:
        _date(terms, "ram:DueDateDateTime", doc.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _decimal(doc.total_cents))
    _el(totals, "ram:TaxBasisTotalAmount", _decimal(doc.total_cents))
    _el(totals, "ram:TaxTotalAmount", "0.00", currencyID=doc.currency)
    _el(totals, "ram:GrandTotalAmount", _decimal(doc.total_cents))
    _el(totals, "ram:DuePayableAmount", _decimal(doc.total_cents))
    if doc.refers_to:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", doc.refers_to)
        if doc.refers_to_date:
            _date(referenced, "ram:FormattedIssueDateTime", doc.refers_to_date, qualified=True)

    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    import facturx  # with pypdf and fontTools, loaded by the first invoice, not by every web worker

    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def _producer_in_the_xmp_only(document: object, pdf: pydyf.PDF) -> None:
    # factur-x writes a new XMP packet naming pypdf as pdf:Producer and keeps the info
    # dictionary's Producer (WeasyPrint); PDF/A wants the two to agree, so the info
    # dictionary names none.
    del pdf.info["Producer"]


def render_document(doc: DocumentContent) -> bytes:
    """The final PDF/A-3b with the Factur-X XML embedded.

    WeasyPrint renders the PDF/A-3b; the factur-x library embeds the XML as its associated
    file and writes the XMP metadata (PDF/A identification, the Factur-X extension schema
    and the properties that declare the attachment).
    """
    import facturx

    xml = factur_x_xml(doc)
    pdf = render_pdf(document_html(doc), resource_dir=STATIC_DIR, pdf_variant="pdf/a-3b",
                     finisher=_producer_in_the_xmp_only)
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # factur_x_xml has checked it
        # The XML carries the whole invoice (EN 16931), not just an extract of it.
        afrelationship="alternative",
        lang=doc.language,
    )
