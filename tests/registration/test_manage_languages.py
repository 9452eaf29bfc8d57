"""The self-service page speaks the registrant's language, whatever the browser's."""
from __future__ import annotations

import html
import re

import pytest

from tests.conftest import person

#: per language: the event's title, the page's heading, the status, the button, the date
SIX = {
    "en": ("Police academy in Lisbon", "Your registration", "confirmed", "Cancel my registration", "Monday, 10 May 2027"),
    "fr": ("Académie de police à Lisbonne", "Votre inscription", "confirmée", "Annuler mon inscription", "lundi 10 mai 2027"),
    "es": ("Academia de policía en Lisboa", "Su inscripción", "confirmada", "Anular mi inscripción", "lunes, 10 de mayo de 2027"),
    "it": ("Accademia di polizia a Lisbona", "La Sua iscrizione", "confermata", "Annulla la mia iscrizione", "lunedì 10 maggio 2027"),
    "de": ("Polizeiakademie in Lissabon", "Ihre Anmeldung", "bestätigt", "Meine Anmeldung stornieren", "Montag, 10. Mai 2027"),
    "pt": ("Academia de polícia em Lisboa", "A sua inscrição", "confirmada", "Cancelar a minha inscrição", "segunda-feira, 10 de maio de 2027"),
}


@pytest.mark.parametrize("lang", list(SIX))
def test_the_self_service_page_is_in_the_registrants_language(client, make_event, lang):
    title, heading, status, button, date = SIX[lang]
    make_event(title={code: texts[0] for code, texts in SIX.items()}, description={"en": "Two days", "de": "Zwei Tage"},
               starts_at="2027-05-10T09:00:00+01:00", ends_at="2027-05-10T17:00:00+01:00", timezone="Europe/Lisbon")
    created = client.post("/api/v1/events/police-academy-lisbon/registrations", json=person(language=lang))
    page = html.unescape(client.get(created.json["manage_url"].split("8001", 1)[-1].split("localhost", 1)[-1],
                                    headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert f'<html lang="{lang}">' in page
    assert f"{heading}" in page and title in page and status in page and button in page
    assert date in page and re.search(r"0?9:00\s?–\s?17:00", page), "the date in the event's time zone, written in the language"
    assert ("Zwei Tage" if lang == "de" else "Two days") in page, "the description falls back to English"
