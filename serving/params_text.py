"""The texts of a params file that cannot be used, in English and German: the frame (file not
found, not valid YAML with its line and column, how many settings are invalid) and the common
rule kinds (unknown key, wrong type, out of range, missing). A rule of one setting alone (an
unknown time zone, a ladder rule's feature) keeps its own English text after the key's path.

A value is quoted as params.yaml spells it, in any language. A missing key in a language falls
back to English; to add a language, add a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.spec import number_forms

CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "not_found": "params file not found (pass --params PATH)",
        "a_folder": "a folder, not a params file (pass --params PATH/params.yaml)",
        "unreadable": "cannot read the params file ({error})",
        "not_yaml": "not valid YAML: {problem}",
        "not_yaml_at": "not valid YAML at line {line}, column {column}: {problem}",
        "not_utf8": "line {line}: not UTF-8 text (byte {byte}); save the file as UTF-8",
        "control_char": "line {line}: a control character ({code}) YAML does not allow",
        "yaml_tab": "line {line}, column {column}: a tab character; YAML indents with spaces only",
        "duplicate_key": "line {line}: {name} is given a second time (first at line {first}); "
        "give it once",
        "bad_date": "line {line}: {value} is not a valid date ({error})",
        "empty": "the file is empty (or only comments); expected the settings sections {sections}",
        "not_mapping": "expected a mapping of sections at the top level",
        "invalid": "{n} invalid [setting|settings]",
        "got": " (got {got})",
        "unknown_key": "unknown key (misspelled, or not a setting of this section)",
        "did_you_mean": "; did you mean {close}?",
        "missing": "required key is missing",
        "missing_shipped": "required key is missing (a setting added since this file was "
        "written?); the params.yaml of this version has {value}",
        "missing_section_shipped": "required key is missing (a setting added since this file "
        "was written?); copy it from the params.yaml of this version",
        "whole_number": "expected a whole number",
        "number": "expected a number",
        "true_false": "expected true or false",
        "whole_number_not_bool": "expected a whole number, not true/false",
        "number_not_bool": "expected a number, not true/false",
        "key_text": "expected a text as the key",
        "text": "expected a text",
        "mapping": "expected a mapping of settings",
        "list": "expected a list",
        "date": "expected a date (YYYY-MM-DD)",
        "at_least": "must be at least {bound}",
        "above": "must be greater than {bound}",
        "at_most": "must be at most {bound}",
        "below": "must be less than {bound}",
        "min_items": "needs at least {n} [item|items]",
        "max_items": "takes at most {n} [item|items]",
        "min_chars": "needs at least {n} [character|characters]",
        "max_chars": "takes at most {n} [character|characters]",
        "finite": "must be a finite number",
        "one_of": "must be one of {allowed}",
    },
    "de": {
        "not_found": "Parameterdatei nicht gefunden (--params PFAD angeben)",
        "a_folder": "ein Ordner, keine Parameterdatei (--params PFAD/params.yaml angeben)",
        "unreadable": "die Parameterdatei kann nicht gelesen werden ({error})",
        "not_yaml": "kein gültiges YAML: {problem}",
        "not_yaml_at": "kein gültiges YAML in Zeile {line}, Spalte {column}: {problem}",
        "not_utf8": "Zeile {line}: kein UTF-8-Text (Byte {byte}); die Datei als UTF-8 speichern",
        "control_char": "Zeile {line}: ein Steuerzeichen ({code}), das YAML nicht erlaubt",
        "yaml_tab": "Zeile {line}, Spalte {column}: ein Tabulatorzeichen; YAML rückt nur mit "
        "Leerzeichen ein",
        "duplicate_key": "Zeile {line}: {name} wird ein zweites Mal angegeben (zuerst in "
        "Zeile {first}); nur einmal angeben",
        "bad_date": "Zeile {line}: {value} ist kein gültiges Datum ({error})",
        "empty": "die Datei ist leer (oder nur Kommentare); erwartet werden die Abschnitte "
        "{sections}",
        "not_mapping": "auf oberster Ebene wird eine Zuordnung von Abschnitten erwartet",
        "invalid": "{n} ungültige [Einstellung|Einstellungen]",
        "got": " (angegeben: {got})",
        "unknown_key": "unbekannter Schlüssel (vertippt oder keine Einstellung dieses Abschnitts)",
        "did_you_mean": "; meinten Sie {close}?",
        "missing": "erforderlicher Schlüssel fehlt",
        "missing_shipped": "erforderlicher Schlüssel fehlt (eine Einstellung, die nach dieser "
        "Datei hinzukam?); die params.yaml dieser Version hat {value}",
        "missing_section_shipped": "erforderlicher Schlüssel fehlt (eine Einstellung, die nach "
        "dieser Datei hinzukam?); aus der params.yaml dieser Version übernehmen",
        "whole_number": "erwartet wird eine ganze Zahl",
        "number": "erwartet wird eine Zahl",
        "true_false": "erwartet wird true oder false",
        "whole_number_not_bool": "erwartet wird eine ganze Zahl, nicht true/false",
        "number_not_bool": "erwartet wird eine Zahl, nicht true/false",
        "key_text": "erwartet wird ein Text als Schlüssel",
        "text": "erwartet wird ein Text",
        "mapping": "erwartet wird eine Zuordnung von Einstellungen",
        "list": "erwartet wird eine Liste",
        "date": "erwartet wird ein Datum (JJJJ-MM-TT)",
        "at_least": "muss mindestens {bound} sein",
        "above": "muss größer als {bound} sein",
        "at_most": "darf höchstens {bound} sein",
        "below": "muss kleiner als {bound} sein",
        "min_items": "braucht mindestens {n} [Eintrag|Einträge]",
        "max_items": "nimmt höchstens {n} [Eintrag|Einträge]",
        "min_chars": "braucht mindestens {n} [Zeichen|Zeichen]",
        "max_chars": "nimmt höchstens {n} [Zeichen|Zeichen]",
        "finite": "muss eine endliche Zahl sein",
        "one_of": "muss eines von {allowed} sein",
    },
}


def t(key: str, language: str, **values: Any) -> str:
    """This catalog's entry for `key` in `language` (English when missing). Values are shown as
    they are, not localized: a bound or a value is one to write into params.yaml (0.5, not 0,5)."""
    template = CATALOG.get(language, {}).get(key) or CATALOG["en"][key]
    return number_forms(template, values).format(**values)
