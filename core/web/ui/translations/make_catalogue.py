# ruff: noqa: E501 - a translation table reads best one entry per line
"""Regenerate the UI catalogues: extract, fill English from EN below, compile.

    .venv/bin/python core/web/ui/translations/make_catalogue.py

Message ids are Polish (the default language); ``pl`` has an identity catalogue and
``en`` the English translations. A message without an English entry fails the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
UI = HERE.parent
ROOT = UI.parents[2]
sys.path.insert(0, str(ROOT))

EN = {
    "Sesja wygasła": "Session expired", "Brak uprawnień": "Permission denied",
    "Nie znaleziono": "Not found", "Konflikt": "Conflict",
    "Nieaktualna wersja": "Stale version", "Nieprawidłowe dane": "Invalid data",
    "Licencja": "Licence", "Błąd": "Error",
    "Nie masz uprawnień do tej strony.": "You are not allowed to open this page.",
    "Nie ma takiej strony albo rekordu.": "There is no such page or record.",
    "Niedozwolona metoda.": "Method not allowed.", "Nieprawidłowe żądanie.": "Bad request.",
    "Ta strona jest dostępna tylko dla administratora.": "This page is for administrators only.",
    "Brak uprawnienia: %(code)s": "Missing permission: %(code)s",
    "Tak": "Yes", "Nie": "No",
    "Zadanie w tle": "Background job", "W kolejce": "Queued", "W toku": "Running",
    "Ponawianie po błędzie": "Retrying after an error", "Zakończone": "Finished",
    "Nieudane": "Failed", "Anulowane": "Cancelled", "Dalej": "Continue",
    "Nie ma takiego zadania.": "There is no such job.",
    "Sekcja jest chwilowo niedostępna.": "This section is temporarily unavailable.",
    "To pole jest wymagane.": "This field is required.",
    "Podaj liczbę całkowitą.": "Enter a whole number.", "Podaj liczbę.": "Enter a number.",
    "Podaj poprawną datę.": "Enter a valid date.",
    "Podaj poprawną datę i godzinę.": "Enter a valid date and time.",
    "Nieprawidłowa wartość.": "Invalid value.", "Maksymalnie %(n)s znaków.": "At most %(n)s characters.",
    "Nieznane pole.": "Unknown field.", "Nieprawidłowy JSON.": "Invalid JSON.",
    "Wtyczki": "Plugins", "Użytkownicy": "Users", "Role i uprawnienia": "Roles and permissions",
    "Zastępstwa": "Substitutions", "Dziennik zmian": "Audit log",
    "Dziennik bezpieczeństwa": "Security log", "Zadania w tle": "Background jobs",
    "Nie masz dostępu do administracji.": "You have no access to administration.",
    "Zostaną też zainstalowane zależności: %(d)s.": "Dependencies will be installed too: %(d)s.",
    "Wtyczka jest już zainstalowana.": "The plugin is already installed.",
    "Wtyczka nie jest zainstalowana.": "The plugin is not installed.",
    "Brakuje zależności (niezainstalowane): %(d)s.": "Missing dependencies (not installed): %(d)s.",
    "Zostaną też włączone zależności: %(d)s.": "Dependencies will be enabled too: %(d)s.",
    "Wtyczka nie jest włączona.": "The plugin is not enabled.",
    "Zostaną też wyłączone wtyczki, które od niej zależą: %(d)s.":
        "Plugins that depend on it will be disabled too: %(d)s.",
    "Dane i tabele zostają zachowane; wtyczka znika z menu, API i zadań do czasu ponownego "
    "włączenia.": "Data and tables are kept; the plugin disappears from the menu, API and jobs "
                 "until it is enabled again.",
    "Najpierw odinstaluj wtyczki, które od niej zależą: %(d)s.":
        "First uninstall the plugins that depend on it: %(d)s.",
    "Dane wtyczki zostaną wyeksportowane do katalogu var/exports, a jej tabele usunięte.":
        "The plugin's data will be exported to var/exports and its tables dropped.",
    "Zainstalowano: %(n)s.": "Installed: %(n)s.", "Włączono: %(n)s.": "Enabled: %(n)s.",
    "Wyłączono: %(n)s.": "Disabled: %(n)s.",
    "Odinstalowano: %(n)s. Eksport danych: %(f)s": "Uninstalled: %(n)s. Data export: %(f)s",
    "Hasła nie są takie same.": "The passwords do not match.",
    "Utworzono użytkownika %(l)s.": "User %(l)s created.",
    "Nieprawidłowy adres e-mail: %(e)s": "Invalid e-mail address: %(e)s",
    "Nie możesz dezaktywować własnego konta.": "You cannot deactivate your own account.",
    "Zapisano zmiany użytkownika %(l)s.": "Changes of user %(l)s saved.",
    "Administracja": "Administration",
    "Kod roli: litery, cyfry i podkreślenia.": "Role code: letters, digits and underscores.",
    "Rola o tym kodzie już istnieje.": "A role with this code already exists.",
    "Podaj nazwę roli.": "Enter the role name.", "Utworzono rolę %(c)s.": "Role %(c)s created.",
    "Zapisano rolę %(c)s.": "Role %(c)s saved.", "Nieprawidłowa data: %(v)s": "Invalid date: %(v)s",
    "Wybierz zastępowanego i zastępcę.": "Choose the absent user and the substitute.",
    "Zapisano zastępstwo.": "Substitution saved.",
    "Wybierz plik licencji albo wklej jego treść.": "Choose a licence file or paste its content.",
    "Zainstalowano licencję: %(l)s, edycja %(e)s, ważna do %(d)s.":
        "Licence installed: %(l)s, edition %(e)s, valid until %(d)s.",
    "Zadanie #%(i)s przekazano do ponownego wykonania.": "Job #%(i)s queued for another run.",
    "Zadanie #%(i)s odrzucono.": "Job #%(i)s discarded.",
    "Nieprawidłowa data w filtrze: %(v)s": "Invalid date in filter: %(v)s",
    "Nieprawidłowa liczba w filtrze: %(v)s": "Invalid number in filter: %(v)s",
    "Zaznacz co najmniej jeden rekord.": "Select at least one record.",
    "Usunięto rekordy: %(n)s.": "Records deleted: %(n)s.",
    "Nieznana akcja zbiorcza.": "Unknown bulk action.",
    "Wykonano akcję „%(a)s” dla rekordów: %(n)s.": "Action “%(a)s” done for records: %(n)s.",
    "Nic nie zmieniono: %(m)s": "Nothing was changed: %(m)s",
    "Podaj nazwę filtra.": "Enter the filter name.",
    "Zapisano filtr „%(n)s”.": "Filter “%(n)s” saved.", "Usunięto zapisany filtr.": "Saved filter deleted.",
    "Zapisano: %(r)s.": "Saved: %(r)s.",
    "Ktoś inny zapisał ten rekord, gdy go edytowałeś(-aś). Twoje zmiany nie zostały zapisane — "
    "są nadal w formularzu. Pod polami pokazano aktualnie zapisane wartości. Zapisz ponownie, "
    "aby nadpisać zmiany tamtej osoby.":
        "Someone else saved this record while you were editing it. Your changes were not saved "
        "— they are still in the form. The values saved now are shown under the fields. Save "
        "again to overwrite the other person's changes.",
    "Popraw zaznaczone pola.": "Correct the marked fields.",
    "Nowy rekord: %(e)s": "New record: %(e)s",
    "Brak uprawnienia do dodawania pozycji.": "You may not add rows.",
    "Usunięto rekord.": "Record deleted.", "Wykonano: %(a)s.": "Done: %(a)s.",
    "(brak dostępu)": "(no access)", "Dodano komentarz.": "Comment added.",
    "Powiązano z: %(r)s.": "Linked with: %(r)s.", "Usunięto powiązanie.": "Link removed.",
    "Wybierz plik do wysłania.": "Choose a file to upload.", "Dodano załącznik.": "Attachment added.",
    "Dodano plik do biblioteki.": "File added to the library.",
    "Ta encja nie ma widoku kanban (brak pola stanu).": "This entity has no kanban view (no state field).",
    "Nieznany stan: %(s)s": "Unknown state: %(s)s",
    "Ta encja nie ma widoku kalendarza.": "This entity has no calendar view.",
    "Widok kalendarza bez pola początku (start_field).": "Calendar view without a start field (start_field).",
    "Brak daty początku.": "Missing start date.", "Zapisano termin: %(r)s.": "Date saved: %(r)s.",
    "Wylogowano.": "Logged out.", "Widżet jest niedostępny.": "The widget is unavailable.",
    "Wszystkie powiadomienia oznaczono jako przeczytane.": "All notifications marked as read.",
    "Nieznany język.": "Unknown language.", "Nieprawidłowe obecne hasło.": "Wrong current password.",
    "Hasło zostało zmienione.": "Password changed.",
    "Podaj liczbę dni (dodatnią) albo zostaw puste.": "Enter a positive number of days or leave it empty.",
    "Token został unieważniony.": "The token was revoked.", "Usuń wiersz": "Remove row",
    "Przenieś do": "Move to", "Przenieś": "Move", "— wybierz —": "— choose —",
    "Aktualnie zapisane:": "Saved now:", "(puste)": "(empty)", "Strony": "Pages",
    "Poprzednia strona": "Previous page", "Następna strona": "Next page", "Moje konto": "My account",
    "Dane": "Details", "Login": "Login", "Imię i nazwisko": "Full name", "E-mail": "E-mail",
    "Role": "Roles", "Język": "Language", "Zmień": "Change", "Tokeny API": "API tokens",
    "Zmiana hasła": "Change password", "Obecne hasło": "Current password",
    "Nowe hasło": "New password", "Powtórz nowe hasło": "Repeat new password",
    "Zmień hasło": "Change password", "Kartoteka": "Kartoteka",
    "Przejdź do treści": "Skip to content", "Menu główne": "Main menu", "Pokaż menu": "Show menu",
    "Szukaj wszędzie": "Search everywhere", "Szukaj wszędzie…": "Search everywhere…",
    "Powiadomienia": "Notifications", "nieprzeczytane": "unread",
    "Biblioteka załączników": "Attachment library", "Wyloguj": "Log out",
    "Zarządzaj licencją": "Manage licence", "Zamknij": "Close", "Kalendarz": "Calendar",
    "Dodaj": "New", "Lista": "List", "Dziś": "Today", "Miesiąc": "Month",
    "Tydzień roboczy": "Work week", "Tydzień": "Week", "Dzień": "Day", "Zapisano.": "Saved.",
    "Nie zapisano zmiany terminu.": "The date change was not saved.", "Pulpit": "Dashboard",
    "Na skróty": "Shortcuts",
    "Brak dostępnych modułów. Poproś administratora o uprawnienia.":
        "No modules available. Ask your administrator for permissions.",
    "Ścieżka": "Breadcrumb", "Edytuj": "Edit", "Usunąć ten rekord?": "Delete this record?",
    "Usuń": "Delete", "Brak pozycji.": "No rows.", "Informator": "Information panel",
    "Powiązane dokumenty": "Linked documents", "Usunąć powiązanie?": "Remove the link?",
    "Usuń powiązanie": "Remove link", "Brak powiązań.": "No links.", "Rodzaj": "Kind",
    "Rekord": "Record", "Powiąż": "Link", "Uwagi": "Notes", "Uwagi (opcjonalnie)": "Notes (optional)",
    "Komentarze": "Comments", "Brak komentarzy.": "No comments.", "Nowy komentarz": "New comment",
    "Odpowiedź na": "Reply to", "(nowy wątek)": "(new thread)",
    "Odpowiedź: %(a)s, %(t)s": "Reply: %(a)s, %(t)s", "Dodaj komentarz": "Add comment",
    "Załączniki": "Attachments", "Brak załączników.": "No attachments.", "Plik": "File",
    "Wyślij": "Upload", "Z biblioteki": "From library", "Dołącz z biblioteki": "Attach from library",
    "Historia zmian": "History", "utworzenie": "created", "zmiana": "changed",
    "usunięcie": "deleted", "Brak wpisów.": "No entries.",
    "Jeśli potrzebujesz dostępu, poproś administratora o nadanie uprawnienia.":
        "If you need access, ask your administrator to grant the permission.",
    "Wróć na pulpit": "Back to the dashboard", "Edycja": "Edit", "Nowy": "New",
    "Masz niezapisane zmiany. Czy na pewno opuścić stronę?":
        "You have unsaved changes. Leave the page anyway?",
    "Dane podstawowe": "Main data", "Akcje": "Actions", "Dodaj wiersz": "Add row",
    "Zapisz": "Save", "Anuluj": "Cancel", "Kanban": "Kanban", "Szukaj": "Search",
    "Szukaj…": "Search…",
    "Pliki wspólne (wzory, cenniki, regulaminy), które można dołączyć do dowolnego rekordu.":
        "Shared files (templates, price lists, terms) that can be attached to any record.",
    "Dodaj do biblioteki": "Add to library", "Rozmiar": "Size", "Dodał": "Uploaded by",
    "Data": "Date", "Biblioteka jest pusta.": "The library is empty.",
    "Liczba rekordów": "Number of records", "Eksport": "Export", "od": "from", "do": "to",
    "(wszystkie)": "(all)", "Filtruj": "Filter", "Wyczyść": "Clear",
    "Zapisane filtry": "Saved filters", "Usuń filtr %(n)s": "Delete filter %(n)s",
    "Brak zapisanych filtrów": "No saved filters", "Nazwa filtra": "Filter name",
    "Zapisz filtr": "Save filter", "Zaznaczone:": "Selected:",
    "Usunąć zaznaczone rekordy?": "Delete the selected records?", "Wykonaj": "Run",
    "Zaznacz wszystkie": "Select all", "Zaznacz: %(r)s": "Select: %(r)s",
    "Brak rekordów.": "No records.", "Strona %(p)s z %(n)s": "Page %(p)s of %(n)s",
    "Strona %(p)s": "Page %(p)s", "ponad %(n)s": "more than %(n)s",
    "Logowanie": "Log in", "Zaloguj się": "Log in", "Hasło": "Password", "Zaloguj": "Log in",
    "Oznacz wszystkie jako przeczytane": "Mark all as read", "Brak powiadomień.": "No notifications.",
    "Otwórz": "Open", "Przeczytane": "Read", "Wyszukiwanie": "Search",
    "Szukana fraza": "Search phrase", "Nic nie znaleziono dla „%(q)s”.": "Nothing found for “%(q)s”.",
    "Pokaż wszystkie": "Show all",
    "Nowy token — skopiuj go teraz, nie będzie już pokazany:":
        "New token — copy it now, it will not be shown again:",
    "Nowy token": "New token", "Nazwa": "Name", "Ważny dni": "Valid for days",
    "bez limitu": "no limit", "Utwórz": "Create", "Prefiks": "Prefix", "Utworzony": "Created",
    "Wygasa": "Expires", "Ostatnio użyty": "Last used", "Stan": "State",
    "unieważniony": "revoked", "wygasł": "expired", "aktywny": "active",
    "Unieważnić token %(n)s?": "Revoke token %(n)s?", "Unieważnij": "Revoke",
    "Brak tokenów.": "No tokens.", "Encja": "Entity", "Kiedy": "When", "Kto": "Who",
    "Operacja": "Operation", "Zmiany": "Changes", "Zadania w tle: nieudane": "Background jobs: failed",
    "Moduł zadań nie udostępnia listy nieudanych zadań.":
        "The jobs module does not provide a list of failed jobs.",
    "Zadanie": "Job", "Próby": "Attempts", "Ponów": "Retry", "Odrzucić zadanie?": "Discard the job?",
    "Odrzuć": "Discard", "Brak nieudanych zadań.": "No failed jobs.",
    "Licencjobiorca": "Licensee", "NIP": "Tax ID (NIP)", "wszystkie w edycji": "all in the edition",
    "Stanowiska": "Seats", "Ważna do": "Valid until", "dni: %(d)s": "days: %(d)s",
    "Wgraj nową licencję": "Upload a new licence", "Plik licencji (JSON)": "Licence file (JSON)",
    "albo wklej treść": "or paste its content", "Zainstaluj licencję": "Install licence",
    "Instalacja": "Install", "Włączenie": "Enable", "Wyłączenie": "Disable",
    "Odinstalowanie": "Uninstall", "Skutki operacji": "Consequences",
    "Wtyczki objęte operacją:": "Plugins affected:", "Migracje": "Migrations",
    "Dane do eksportu i usunięcia": "Data to export and drop", "%(n)s wierszy": "%(n)s rows",
    "Rozumiem, że dane wtyczki zostaną wyeksportowane i usunięte z bazy.":
        "I understand that the plugin's data will be exported and removed from the database.",
    "Potwierdź": "Confirm", "Wtyczka": "Plugin", "Wersja": "Version", "Zależności": "Dependencies",
    "zainstalowana: %(v)s": "installed: %(v)s", "włączona": "enabled", "wyłączona": "disabled",
    "dostępna": "available", "wymaga:": "requires:", "wymagana przez:": "required by:",
    "Instaluj": "Install", "Włącz": "Enable", "Wyłącz": "Disable", "Odinstaluj": "Uninstall",
    "Nazwa (angielska)": "Name (English)", "Zapisz uprawnienia": "Save permissions",
    "Rola": "Role", "Kod": "Code", "Uprawnienia": "Permissions", "Nowa rola": "New role",
    "Adres": "Address", "Szczegóły": "Details", "Nowe zastępstwo": "New substitution",
    "Zastępowany": "Absent user", "Zastępca": "Substitute", "Od": "From", "Do": "To",
    "aktywne": "active", "nieaktywne": "inactive", "Dezaktywuj": "Deactivate", "Aktywuj": "Activate",
    "Brak zastępstw.": "No substitutions.", "nieaktywny": "inactive", "Dane i role": "Details and roles",
    "Administrator (wszystkie uprawnienia)": "Administrator (all permissions)",
    "Powtórz hasło": "Repeat password", "Ustaw hasło": "Set password", "Konto": "Account",
    "Dezaktywować konto %(l)s?": "Deactivate account %(l)s?",
    "Aktywować konto %(l)s?": "Activate account %(l)s?", "Dezaktywuj konto": "Deactivate account",
    "Aktywuj konto": "Activate account", "Ostatnie logowanie": "Last login",
    "administrator": "administrator", "Nowy użytkownik": "New user",
    "Utworzono": "Created", "Zmieniono": "Modified",
}


def main() -> int:
    from core.i18n import catalogue_main
    return catalogue_main(UI, HERE, EN)


if __name__ == "__main__":
    raise SystemExit(main())
