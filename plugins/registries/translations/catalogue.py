# ruff: noqa: E501 - a translation table reads best one entry per line
"""The English catalogue of the registries plugin's pages. Regenerate after changing texts:

    .venv/bin/python plugins/registries/translations/catalogue.py

(tests/core/test_translations.py fails while a message has no English entry here).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

EN = {
    # lookup.html
    "Sprawdź NIP w rejestrach": "Look up a tax id (NIP) in the registries",
    "Źródło": "Source", "Sprawdź": "Look up", "Forma prawna": "Legal form", "Adres": "Address",
    "Status": "Status", "Ten NIP jest już w kartotece": "This tax id (NIP) is already in the client base",
    "Załóż klienta z tym NIP": "Create a client with this tax id (NIP)",
    # fetch.html
    "Ścieżka": "Breadcrumb", "Klienci": "Clients", "Dane z rejestru": "Data from the registry",
    "Pobierz z CEIDG (jednoosobowa działalność)": "Fetch from CEIDG (sole proprietorship)",
    "Pobierz z GUS": "Fetch from GUS", "Spróbuj ponownie": "Try again",
    "Wróć do klienta": "Back to the client", "Podmiot": "Entity", "status": "status",
    "stan na": "as of", "z pamięci podręcznej dnia": "from that day's cache",
    "Zaznacz pola, które mają zostać zastąpione danymi z rejestru. Nic nie zostanie zmienione bez zatwierdzenia.":
        "Tick the fields to be replaced with the registry's data. Nothing changes until you confirm.",
    "Przejmij": "Take over", "Pole": "Field", "Obecnie": "Current", "W rejestrze": "In the registry",
    "Akceptuj zaznaczone": "Accept the selected", "Anuluj": "Cancel",
    "Dane klienta są zgodne z rejestrem.": "The client's data match the registry.",
    "Kody PKD w rejestrze": "PKD codes in the registry", "przeważające": "main",
    # bulk.html
    "Weryfikacja zbiorcza w rejestrach": "Bulk verification in the registries",
    "Weryfikacja działa w tle: VIES i biała lista VAT dla wybranych klientów (na liście klientów zaznacz rekordy i wybierz akcję „Weryfikuj w rejestrach (w tle)”) albo dla wszystkich aktywnych klientów z NIP. Źródło chwilowo niedostępne jest odpytywane ponownie z rosnącym odstępem.":
        "Verification runs in the background: VIES and the VAT White List for selected clients (on the client list, tick the records and choose the action “Verify in registries (background)”) or for all active clients with a tax id (NIP). A source that is temporarily unavailable is queried again at growing intervals.",
    "Identyfikatory klientów (puste = wszyscy aktywni)": "Client ids (empty = all active clients)",
    "Uruchom weryfikację": "Start the verification", "Ostatnie weryfikacje": "Recent verifications",
    "Utworzono": "Created", "Zakres": "Scope", "Stan": "State", "Klientów": "Clients", "OK": "OK",
    "Ostrzeżenia": "Warnings", "Błędy": "Errors", "harmonogram": "schedule",
    "wszyscy aktywni": "all active", "wybrani": "selected", "Brak.": "None.",
    # bulk_report.html
    "Weryfikacja zbiorcza": "Bulk verification",
    "Raport weryfikacji zbiorczej": "Bulk verification report",
    "w kolejce": "queued", "w toku": "running", "ponowienie zaplanowane": "retry scheduled",
    "zakończona": "finished", "źródła": "sources", "klientów": "clients", "poprawnych": "valid",
    "z ostrzeżeniem": "with a warning", "błędów": "errors",
    "Oczekuje na ponowienie (źródło niedostępne)": "Awaiting a retry (source unavailable)",
    "Postęp zadania": "Job progress", "Klient": "Client", "Wynik": "Result", "Szczegóły": "Details",
    "poprawny": "valid", "ostrzeżenie": "warning", "błąd": "error", "pominięty": "skipped",
    "ponowienie": "retry",
    "Brak wyników — zadanie jeszcze się nie wykonało.": "No results — the job has not run yet.",
    # panel.html
    "Sprawdzono": "Checked", "nr konsultacji": "consultation no.",
    "brak sprawdzenia": "not checked", "dziś": "today", "wczoraj": "yesterday",
    "dni temu": "days ago", "Status działalności": "Activity status",
    "Historia weryfikacji": "Verification history",
    "Wynik jest nieaktualny po": "A result goes stale after", "dniach.": "days.",
    # settings.html
    "Ustawienia rejestrów": "Registry settings",
    "Identyfikatory klientów to liczby oddzielone przecinkami.":
        "Client ids are numbers separated by commas.",
    "Przejęto dane z rejestru %(source)s: %(fields)s.":
        "Data taken over from %(source)s: %(fields)s.",
    "Weryfikacja zbiorcza #%(id)s": "Bulk verification #%(id)s",
    "Zapisano ustawienia rejestrów.": "Registry settings saved.",
    "Środowisko i adresy usług": "Environment and service endpoints",
    "Środowisko": "Environment", "Testowe": "Test", "Produkcyjne": "Production",
    "Limit czasu odpowiedzi (s)": "Response timeout (s)",
    "Przechowuj odpowiedzi (dni)": "Keep responses for (days)",
    "Biała lista VAT": "VAT White List", "domyślnie": "default",
    "Klucze dostępu": "Access keys", "Klucz użytkownika GUS (BIR)": "GUS (BIR) user key",
    "ustawiony — wpisz, aby zmienić": "set — type to change", "brak": "none",
    "usuń klucz": "remove the key", "Token API CEIDG": "CEIDG API token",
    "usuń token": "remove the token",
    "Własny numer VAT UE (VIES, numer konsultacji)": "Own EU VAT number (VIES, for the consultation number)",
    "Zasady": "Rules", "Weryfikacja nieaktualna po (dni)": "Verification goes stale after (days)",
    "Sprawdzaj rachunek na białej liście od kwoty (zł)": "Check the account on the White List from an amount of (PLN)",
    "Blokuj wystawienie dokumentu, gdy rachunku nie ma na białej liście":
        "Block issuing a document when the account is not on the White List",
    "Cotygodniowa weryfikacja wszystkich aktywnych klientów na białej liście (poniedziałek 5:30)":
        "Weekly White List verification of all active clients (Monday 5:30)",
    "Zapisz": "Save",
}


def main() -> int:
    sys.path.insert(0, str(HERE.parents[2]))
    from core.i18n import catalogue_main
    return catalogue_main(HERE.parent, HERE, EN)


if __name__ == "__main__":
    raise SystemExit(main())
