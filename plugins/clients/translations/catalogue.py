# ruff: noqa: E501 - a translation table reads best one entry per line
"""The English catalogue of the clients plugin's pages. Regenerate after changing texts:

    .venv/bin/python plugins/clients/translations/catalogue.py

(tests/core/test_translations.py fails while a message has no English entry here).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

EN = {
    "Anuluj": "Cancel", "Błędy": "Errors", "Cennik / rabat": "Price list / discount",
    "Centrala": "Head office", "Dalej": "Continue", "Dalej: mapowanie kolumn": "Next: map the columns",
    "Dodano": "Created", "Duplikaty i scalanie klientów": "Client duplicates and merging",
    "Forma i termin płatności": "Payment method and term",
    "Gdy klient o tym NIP/PESEL już istnieje": "When a client with this NIP/PESEL exists",
    "Imię (osoba fizyczna)": "First name (natural person)", "Import": "Import",
    "Import klientów z CSV lub XLSX": "Import clients from CSV or XLSX",
    "Istniejący klient z tym numerem": "The existing client with this number",
    "Kandydaci do scalenia: ten sam NIP (poza jedną organizacją), ten sam PESEL, bardzo podobna nazwa pod tym samym adresem. Scalenie przenosi wszystkie powiązane rekordy (adresy, osoby, zgody, dokumenty innych modułów, notatki, załączniki, historię) do zachowanego klienta, a scalenie zostaje zapisane w jego historii.":
        "Merge candidates: the same NIP (outside one organisation), the same PESEL, a nearly identical name at the same address. A merge moves every related record (addresses, persons, consents, other modules' documents, notes, attachments, history) to the kept client and is recorded in its history.",
    "Klienci": "Clients", "Klient": "Client", "Kolumna w pliku": "Column in the file",
    "Komunikat": "Message", "Limit kredytu kupieckiego": "Credit limit", "Marketing": "Marketing",
    "Najpierw sprawdzamy, czy klient o tym NIP lub PESEL już jest w kartotece — dzięki temu nie powstają duplikaty. Dane z szablonu (warunki płatności, parametry księgowe, role) zostaną wpisane do formularza.":
        "First we check whether a client with this NIP or PESEL is already in the base, so no duplicates arise. The template's data (payment terms, accounting parameters, roles) are filled into the form.",
    "Nazwa firmy": "Company name", "Nazwisko (osoba fizyczna)": "Last name (natural person)",
    "Nie znaleziono duplikatów.": "No duplicates found.", "Nowy klient": "New client",
    "Oddziały": "Branches", "Ostatnie importy": "Recent imports", "Plik": "File",
    "Plik (CSV z nagłówkiem — separator ; lub , — albo arkusz XLSX)": "File (CSV with a header — separator ; or , — or an XLSX sheet)",
    "Pole dla kolumny": "Field for column", "Pole klienta": "Client field", "Pominięto": "Skipped",
    "Przykładowe wartości": "Sample values",
    "Przypisz kolumny pliku do pól klienta": "Map the file's columns to client fields",
    "Próba (tylko sprawdź, nic nie zapisuj)": "Dry run (check only, write nothing)",
    "Próba — nic nie zapisano.": "Dry run — nothing was written.",
    "Płatnik dokumentów": "Payer of documents", "Raport importu": "Import report",
    "Rodzaj": "Kind", "Scal": "Merge", "Scal (usuń)": "Merge (remove)",
    "Scalić wybranych klientów? Scalony klient zostanie usunięty, a jego dane przeniesione.":
        "Merge the selected clients? The merged client is removed and its data moved.",
    "Stan": "State", "Szablon": "Template", "Szablon nowych klientów": "Template for new clients",
    "Uruchom": "Run", "Utworzono": "Created", "Użyj istniejącego klienta": "Use the existing client",
    "Warunki dziedziczone z centrali:": "Terms inherited from the head office:",
    "Wiersz": "Row", "Wiersze": "Rows", "Wierszy": "Rows",
    "Wróć do mapowania i zaimportuj naprawdę": "Back to the mapping to import for real",
    "Wynik": "Result", "Zachowaj": "Keep", "Zaktualizowano": "Updated",
    "Zapisz nowego jako centralę": "Save the new one as the head office",
    "Zapisz nowego jako oddział": "Save the new one as a branch",
    "brak": "none", "błąd": "error", "błędy": "errors", "centrala": "head office", "dni": "days",
    "do dodania": "to create", "dodano": "created", "do aktualizacji": "to update",
    "zaktualizowano": "updated", "dodany": "created", "domyślny dla rodzaju": "default for the kind",
    "oddział": "branch", "pominięto": "skipped", "pominięty": "skipped", "pomiń wiersz": "skip the row",
    "ten klient": "this client", "wykorzystano": "used", "zaktualizowany": "updated",
    "zaktualizuj istniejącego": "update the existing one", "Ścieżka": "Breadcrumb",
    "— pomiń —": "— skip —",
    "Zapisano %(c)s jako oddział klienta %(b)s. Uzupełnij pozostałe dane.":
        "Saved %(c)s as a branch of %(b)s. Complete the remaining data.",
    "Zapisano %(c)s jako centralę klienta %(b)s. Uzupełnij pozostałe dane.":
        "Saved %(c)s as the head office of %(b)s. Complete the remaining data.",
    "Scalono klientów: zachowano %(n)s (#%(i)s).": "Clients merged: kept %(n)s (#%(i)s).",
    "Wybierz klienta do zachowania.": "Choose the client to keep.",
    "Duplikaty i scalanie": "Duplicates and merging", "Import klientów": "Client import",
    "Import: %(f)s": "Import: %(f)s", "Raport importu: %(f)s": "Import report: %(f)s",
    "Klient o tym numerze już istnieje. Wybierz, co zrobić: użyj istniejącego klienta albo zapisz nowego jako jego oddział lub centralę.":
        "A client with this number already exists. Choose: use the existing client, or save the new one as its branch or head office.",
}


def main() -> int:
    sys.path.insert(0, str(HERE.parents[2]))
    from core.i18n import catalogue_main
    return catalogue_main(HERE.parent, HERE, EN)


if __name__ == "__main__":
    raise SystemExit(main())
