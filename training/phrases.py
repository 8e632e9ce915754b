"""Phrase bank for simulated helpdesk text in English and German, and its vectorised composer.

Subjects and bodies are stitched from interchangeable parts (greeting, symptom about a product,
impact, tone, urgency, closing, sign-off), so that sentiment has to be read from the words rather
than from a template id. Everything here is pure: choices come from the caller's numpy Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LANGUAGES = ("en", "de")

TOPICS = (
    "login",
    "performance",
    "outage",
    "bug",
    "integration",
    "billing",
    "reporting",
    "permissions",
    "how_to",
    "feature_request",
    "data_export",
    "mobile",
    "cancellation",  # never drawn as a topic: the written notice of a churn decision
)

TONE_BUCKETS = ("very_negative", "negative", "neutral", "positive", "very_positive")

# Parallel lists: index i names the same module in both languages (nominative case in German).
PRODUCTS = {
    "en": [
        "the dashboard",
        "the reporting module",
        "the API",
        "single sign-on",
        "the mobile app",
        "the CSV export",
        "the Salesforce integration",
        "the billing portal",
        "user management",
        "the workflow editor",
        "the notification service",
        "the search",
        "the data import",
        "the audit log",
        "the scheduler",
        "the admin console",
    ],
    "de": [
        "das Dashboard",
        "das Reporting-Modul",
        "die API",
        "das Single Sign-on",
        "die mobile App",
        "der CSV-Export",
        "die Salesforce-Integration",
        "das Abrechnungsportal",
        "die Benutzerverwaltung",
        "der Workflow-Editor",
        "der Benachrichtigungsdienst",
        "die Suche",
        "der Datenimport",
        "das Audit-Log",
        "der Planer",
        "die Admin-Konsole",
    ],
}

SUBJECTS = {
    "en": {
        "login": [
            "Cannot log in to {p}",
            "Login problems with {p}",
            "Users locked out of {p}",
            "Password reset not working for {p}",
        ],
        "performance": [
            "{P} is very slow",
            "Slow response times in {p}",
            "Timeouts when using {p}",
            "Performance issue with {p}",
        ],
        "outage": [
            "{P} is down",
            "Service unavailable: {p}",
            "Outage affecting {p}",
            "{P} not reachable",
        ],
        "bug": [
            "Error in {p} after the update",
            "{P} shows an error",
            "Unexpected behaviour in {p}",
            "Bug in {p}",
        ],
        "integration": [
            "Sync failing for {p}",
            "Integration issue with {p}",
            "{P} stopped syncing",
            "Data missing after sync in {p}",
        ],
        "billing": [
            "Question about our invoice",
            "Incorrect charge on our account",
            "Billing issue",
            "Invoice does not match our contract",
        ],
        "reporting": [
            "Numbers in {p} look wrong",
            "Report totals do not add up",
            "Question about figures in {p}",
            "Missing data in {p}",
        ],
        "permissions": [
            "Access rights in {p}",
            "New admin needs access to {p}",
            "Role permissions not applied in {p}",
            "Cannot change permissions in {p}",
        ],
        "how_to": [
            "How do I configure {p}?",
            "Question about {p}",
            "Help needed with {p}",
            "Where can I find settings for {p}?",
        ],
        "feature_request": [
            "Feature request for {p}",
            "Suggestion: improve {p}",
            "Missing option in {p}",
            "Idea for {p}",
        ],
        "data_export": [
            "Exporting all our data",
            "Need a full export from {p}",
            "Bulk export via {p}",
            "Export of historical data",
        ],
        "mobile": [
            "{P} crashes on startup",
            "Mobile app issue",
            "{P} does not load on iOS",
            "Sync problem in {p}",
        ],
        "cancellation": [
            "Notice of non-renewal",
            "Cancellation of our subscription",
            "We will not renew our contract",
            "Termination notice for our account",
        ],
    },
    "de": {
        "login": [
            "Anmeldung nicht möglich: {p}",
            "Login-Probleme: {p}",
            "Benutzer ausgesperrt ({p})",
            "Passwort-Reset funktioniert nicht",
        ],
        "performance": [
            "{P} ist sehr langsam",
            "Lange Ladezeiten: {p}",
            "Timeouts: {p}",
            "Performance-Problem: {p}",
        ],
        "outage": [
            "{P} ist ausgefallen",
            "Dienst nicht erreichbar: {p}",
            "Störung: {p}",
            "{P} antwortet nicht",
        ],
        "bug": [
            "Fehler nach dem Update: {p}",
            "{P} zeigt eine Fehlermeldung",
            "Unerwartetes Verhalten: {p}",
            "Bug: {p}",
        ],
        "integration": [
            "Synchronisation schlägt fehl: {p}",
            "Problem mit der Integration",
            "{P} synchronisiert nicht mehr",
            "Daten fehlen nach dem Sync",
        ],
        "billing": [
            "Frage zu unserer Rechnung",
            "Falsche Abbuchung auf unserem Konto",
            "Problem mit der Abrechnung",
            "Rechnung passt nicht zum Vertrag",
        ],
        "reporting": [
            "Zahlen im Bericht stimmen nicht",
            "Summen im Report sind falsch",
            "Frage zu Kennzahlen: {p}",
            "Fehlende Daten: {p}",
        ],
        "permissions": [
            "Zugriffsrechte: {p}",
            "Neuer Admin braucht Zugriff",
            "Rollenrechte greifen nicht: {p}",
            "Berechtigungen lassen sich nicht ändern",
        ],
        "how_to": [
            "Wie konfiguriere ich das?",
            "Frage zu: {p}",
            "Brauche Hilfe: {p}",
            "Wo finde ich die Einstellungen?",
        ],
        "feature_request": [
            "Funktionswunsch: {p}",
            "Vorschlag zur Verbesserung: {p}",
            "Fehlende Option: {p}",
            "Idee: {p}",
        ],
        "data_export": [
            "Export aller unserer Daten",
            "Vollständiger Export benötigt",
            "Massenexport: {p}",
            "Export historischer Daten",
        ],
        "mobile": [
            "{P} stürzt beim Start ab",
            "Problem mit der mobilen App",
            "{P} lädt nicht unter iOS",
            "Sync-Problem: {p}",
        ],
        "cancellation": [
            "Kündigung unseres Vertrags",
            "Kündigung zum Ende der Laufzeit",
            "Keine Verlängerung unseres Abonnements",
            "Bitte um Kündigungsbestätigung",
        ],
    },
}

SYMPTOMS = {
    "en": {
        "login": [
            "Since this morning none of our users can log in to {p}.",
            "Several colleagues get an 'invalid credentials' message when they open {p}.",
            "{P} keeps sending us back to the login page after we sign in.",
            "The password reset email for {p} never arrives.",
            "Two-factor codes are rejected when we try to access {p}.",
        ],
        "performance": [
            "{P} takes more than a minute to load.",
            "Every click in {p} takes several seconds.",
            "We keep running into timeouts in {p}, especially in the afternoon.",
            "{P} has become noticeably slower over the last few days.",
            "Large accounts cannot be opened in {p} without the page freezing.",
        ],
        "outage": [
            "{P} is completely unavailable for our whole team.",
            "We only get a 503 error when we open {p}.",
            "{P} has been down since about an hour ago.",
            "Nothing loads in {p}; the status page says everything is fine.",
            "Our users cannot reach {p} at all right now.",
        ],
        "bug": [
            "After the latest release {p} shows an error when we save.",
            "{P} duplicates entries when we edit them.",
            "Since the update, {p} ignores the filters we set.",
            "{P} throws an unexpected error for some records.",
            "Changes made in {p} disappear after a refresh.",
        ],
        "integration": [
            "The nightly sync into {p} has failed three times in a row.",
            "Records created in our CRM do not show up in {p}.",
            "{P} reports an authentication error for the connector.",
            "Field mappings in {p} were reset without anyone changing them.",
            "Half of yesterday's data is missing in {p} after the sync.",
        ],
        "billing": [
            "We were charged twice for the same period.",
            "The invoice lists more seats than we have in our contract.",
            "Our discount was not applied on the latest invoice.",
            "We received an invoice for a plan we cancelled.",
            "The payment failed although our card details are correct.",
        ],
        "reporting": [
            "The totals in {p} do not match our own numbers.",
            "Some weeks are missing entirely in {p}.",
            "The monthly report from {p} arrived empty.",
            "Filters in {p} give different results each time.",
            "We need to understand how a figure in {p} is calculated.",
        ],
        "permissions": [
            "Our previous administrator left and we need to transfer ownership of {p}.",
            "A new team member cannot see anything in {p}.",
            "Users with the viewer role can edit records in {p}.",
            "We cannot remove access for a former employee in {p}.",
            "The role changes we made in {p} have no effect.",
        ],
        "how_to": [
            "Could you explain how to set up {p} for a second team?",
            "We would like to know the best way to configure {p}.",
            "Is there documentation on how {p} handles time zones?",
            "How can we limit which fields appear in {p}?",
            "What is the recommended way to onboard new users in {p}?",
        ],
        "feature_request": [
            "It would help us a lot if {p} supported custom fields.",
            "We are missing a bulk edit option in {p}.",
            "Could {p} send a weekly summary by email?",
            "Our team would like dark mode in {p}.",
            "We would love an option to schedule exports in {p}.",
        ],
        "data_export": [
            "We need a complete export of all our data, including attachments.",
            "Please tell us how to export every record from {p}.",
            "We are reviewing our tooling and need our historical data.",
            "The export from {p} stops after ten thousand rows.",
            "Can you provide a full backup of our account?",
        ],
        "mobile": [
            "{P} closes immediately after opening on several phones.",
            "Push messages from {p} no longer arrive.",
            "{P} shows a blank screen after the latest update.",
            "Offline changes made in {p} are lost when we reconnect.",
            "Login in {p} loops endlessly on Android.",
        ],
        "cancellation": [
            "Please treat this as our formal notice that we will not renew our contract.",
            "We have decided to cancel our subscription at the end of the current term.",
            "Please confirm the cancellation of our account and the date our contract ends.",
            "We will not renew and need to know how to export our data from {p} before the contract ends.",
        ],
    },
    "de": {
        "login": [
            "Seit heute Morgen kann sich niemand bei uns anmelden; betroffen ist {p}.",
            "Mehrere Kollegen erhalten die Meldung 'ungültige Zugangsdaten'.",
            "{P} leitet uns nach der Anmeldung immer wieder zur Login-Seite zurück.",
            "Die E-Mail zum Zurücksetzen des Passworts kommt nie an.",
            "Die Codes der Zwei-Faktor-Anmeldung werden abgelehnt.",
        ],
        "performance": [
            "{P} braucht über eine Minute zum Laden.",
            "Jeder Klick dauert mehrere Sekunden; betroffen ist {p}.",
            "Wir bekommen ständig Timeouts, besonders am Nachmittag.",
            "{P} ist in den letzten Tagen deutlich langsamer geworden.",
            "Große Kunden lassen sich nicht öffnen, ohne dass die Seite einfriert.",
        ],
        "outage": [
            "{P} ist für unser gesamtes Team nicht verfügbar.",
            "Wir bekommen nur einen 503-Fehler.",
            "{P} ist seit ungefähr einer Stunde ausgefallen.",
            "Nichts lädt, obwohl die Statusseite keine Störung meldet.",
            "{P} ist für unsere Nutzer im Moment überhaupt nicht erreichbar.",
        ],
        "bug": [
            "Seit dem letzten Release zeigt {p} beim Speichern einen Fehler.",
            "{P} legt Einträge doppelt an, wenn wir sie bearbeiten.",
            "Seit dem Update ignoriert {p} die gesetzten Filter.",
            "{P} wirft bei einigen Datensätzen einen unerwarteten Fehler.",
            "Änderungen verschwinden nach dem Neuladen wieder.",
        ],
        "integration": [
            "Die nächtliche Synchronisation ist dreimal hintereinander fehlgeschlagen.",
            "Im CRM angelegte Datensätze tauchen nicht auf.",
            "{P} meldet einen Authentifizierungsfehler beim Connector.",
            "Die Feldzuordnungen wurden zurückgesetzt, ohne dass jemand etwas geändert hat.",
            "Nach dem Sync fehlt die Hälfte der Daten von gestern.",
        ],
        "billing": [
            "Uns wurde derselbe Zeitraum doppelt berechnet.",
            "Auf der Rechnung stehen mehr Lizenzen als in unserem Vertrag.",
            "Unser Rabatt wurde auf der letzten Rechnung nicht berücksichtigt.",
            "Wir haben eine Rechnung für einen gekündigten Tarif erhalten.",
            "Die Zahlung ist fehlgeschlagen, obwohl unsere Kartendaten stimmen.",
        ],
        "reporting": [
            "Die Summen im Bericht stimmen nicht mit unseren Zahlen überein.",
            "Einige Wochen fehlen im Report komplett.",
            "Der Monatsbericht kam leer bei uns an.",
            "Die Filter liefern jedes Mal andere Ergebnisse.",
            "Wir müssen verstehen, wie eine Kennzahl berechnet wird.",
        ],
        "permissions": [
            "Unser bisheriger Administrator hat das Unternehmen verlassen und wir müssen die Verantwortung übertragen.",
            "Ein neues Teammitglied sieht überhaupt nichts.",
            "Nutzer mit Leserechten können Datensätze bearbeiten.",
            "Wir können den Zugang eines ehemaligen Mitarbeiters nicht entfernen.",
            "Die Rollenänderungen zeigen keine Wirkung; betroffen ist {p}.",
        ],
        "how_to": [
            "Können Sie erklären, wie {p} für ein zweites Team eingerichtet wird?",
            "Wir möchten wissen, wie {p} am besten konfiguriert wird.",
            "Gibt es eine Dokumentation dazu, wie {p} mit Zeitzonen umgeht?",
            "Wie können wir die angezeigten Felder einschränken?",
            "Wie richten wir neue Nutzer am besten ein?",
        ],
        "feature_request": [
            "Es würde uns sehr helfen, wenn {p} eigene Felder unterstützen würde.",
            "Uns fehlt eine Möglichkeit zur Massenbearbeitung.",
            "Könnte {p} eine wöchentliche Zusammenfassung per E-Mail senden?",
            "Unser Team wünscht sich einen dunklen Modus.",
            "Wir hätten gern die Option, Exporte zu planen.",
        ],
        "data_export": [
            "Wir benötigen einen vollständigen Export aller Daten inklusive Anhänge.",
            "Bitte teilen Sie uns mit, wie wir alle Datensätze exportieren können.",
            "Wir überprüfen gerade unsere Tools und brauchen unsere historischen Daten.",
            "Der Export bricht nach zehntausend Zeilen ab.",
            "Können Sie uns ein komplettes Backup unseres Kontos bereitstellen?",
        ],
        "mobile": [
            "{P} schließt sich auf mehreren Telefonen sofort nach dem Öffnen.",
            "Push-Nachrichten kommen nicht mehr an.",
            "{P} zeigt nach dem letzten Update nur einen leeren Bildschirm.",
            "Offline gemachte Änderungen gehen beim erneuten Verbinden verloren.",
            "Die Anmeldung hängt unter Android in einer Schleife.",
        ],
        "cancellation": [
            "Hiermit kündigen wir unseren Vertrag fristgerecht zum Ende der Laufzeit.",
            "Wir haben entschieden, unser Abonnement nicht zu verlängern.",
            "Bitte bestätigen Sie uns die Kündigung und das Vertragsende.",
            "Wir werden den Vertrag nicht verlängern und möchten vorher alle Daten aus {p} exportieren.",
        ],
    },
}

IMPACT = {
    "en": {
        "P1": [
            "This blocks our entire operation.",
            "Our customers are directly affected.",
            "Nobody on our side can work right now.",
            "We are losing revenue every hour this continues.",
        ],
        "P2": [
            "A large part of the team is affected.",
            "This slows down our daily work considerably.",
            "Several departments depend on this.",
            "We have a workaround, but it costs us a lot of time.",
        ],
        "P3": [
            "A few users are affected.",
            "It is annoying but we can still work.",
            "This affects one of our teams.",
            "We noticed it during routine work.",
        ],
        "P4": [
            "There is no rush on this.",
            "It is not blocking anything.",
            "This is more of a question than a problem.",
            "Whenever you find the time.",
        ],
    },
    "de": {
        "P1": [
            "Das blockiert unseren gesamten Betrieb.",
            "Unsere Kunden sind direkt betroffen.",
            "Im Moment kann bei uns niemand arbeiten.",
            "Jede Stunde kostet uns Umsatz.",
        ],
        "P2": [
            "Ein großer Teil des Teams ist betroffen.",
            "Das bremst unsere tägliche Arbeit erheblich.",
            "Mehrere Abteilungen sind darauf angewiesen.",
            "Es gibt einen Workaround, aber er kostet viel Zeit.",
        ],
        "P3": [
            "Einige Nutzer sind betroffen.",
            "Es ist lästig, aber wir können weiterarbeiten.",
            "Das betrifft eines unserer Teams.",
            "Es ist uns bei der täglichen Arbeit aufgefallen.",
        ],
        "P4": [
            "Es eilt nicht.",
            "Es blockiert nichts.",
            "Das ist eher eine Frage als ein Problem.",
            "Wann immer Sie Zeit finden.",
        ],
    },
}

TONE = {
    "en": {
        "very_negative": [
            "This is completely unacceptable.",
            "Frankly, we are fed up with these constant problems.",
            "This is the third time this month and our patience has run out.",
            "We are seriously reconsidering whether this product is right for us.",
            "Your support has been useless so far.",
            "I am extremely frustrated and disappointed.",
            "We pay a lot for a service that keeps failing us.",
            "Management is asking me why we still use this tool.",
        ],
        "negative": [
            "We are quite disappointed.",
            "This is not the quality we expected.",
            "Honestly, this is getting frustrating.",
            "We have raised similar issues before without a real fix.",
            "It is not great that we have to chase this again.",
            "Our team is losing trust in the platform.",
            "The last answer did not really help us.",
        ],
        "neutral": [
            "Please let us know what you need from us.",
            "We have attached a screenshot.",
            "The issue can be reproduced every time.",
            "Let me know if you need more details.",
            "We are on the latest version.",
        ],
        "positive": [
            "Thanks in advance for your help.",
            "Your team has always been helpful, so we are confident this gets sorted.",
            "Otherwise we are very happy with the product.",
            "We appreciate the quick responses we usually get.",
            "The last update was a real improvement.",
        ],
        "very_positive": [
            "We love working with your product and the team.",
            "Your support is excellent, thank you so much!",
            "Everyone here is really happy with the platform.",
            "Great job on the recent release, it made our lives much easier.",
            "We keep recommending you to our partners.",
        ],
    },
    "de": {
        "very_negative": [
            "Das ist völlig inakzeptabel.",
            "Ehrlich gesagt haben wir genug von diesen ständigen Problemen.",
            "Das ist schon das dritte Mal in diesem Monat und unsere Geduld ist am Ende.",
            "Wir überlegen ernsthaft, ob das Produkt noch zu uns passt.",
            "Ihr Support war bisher keine Hilfe.",
            "Ich bin extrem frustriert und enttäuscht.",
            "Wir zahlen viel Geld für einen Dienst, der ständig versagt.",
            "Die Geschäftsführung fragt mich, warum wir das Tool noch nutzen.",
        ],
        "negative": [
            "Wir sind ziemlich enttäuscht.",
            "Das ist nicht die Qualität, die wir erwartet haben.",
            "Ehrlich gesagt wird das langsam frustrierend.",
            "Ähnliche Probleme haben wir schon gemeldet, ohne echte Lösung.",
            "Es ist ärgerlich, dass wir wieder nachhaken müssen.",
            "Unser Team verliert das Vertrauen in die Plattform.",
            "Die letzte Antwort hat uns nicht wirklich geholfen.",
        ],
        "neutral": [
            "Bitte sagen Sie uns, was Sie von uns benötigen.",
            "Einen Screenshot haben wir angehängt.",
            "Das Problem lässt sich jedes Mal reproduzieren.",
            "Melden Sie sich, wenn Sie weitere Details brauchen.",
            "Wir nutzen die aktuelle Version.",
        ],
        "positive": [
            "Vielen Dank schon im Voraus für Ihre Hilfe.",
            "Ihr Team war immer hilfsbereit, daher sind wir zuversichtlich.",
            "Ansonsten sind wir mit dem Produkt sehr zufrieden.",
            "Wir schätzen die schnellen Antworten, die wir sonst bekommen.",
            "Das letzte Update war eine echte Verbesserung.",
        ],
        "very_positive": [
            "Wir arbeiten wirklich gern mit Ihrem Produkt und Ihrem Team.",
            "Ihr Support ist hervorragend, vielen herzlichen Dank!",
            "Alle bei uns sind mit der Plattform sehr zufrieden.",
            "Tolle Arbeit beim letzten Release, das hat uns vieles erleichtert.",
            "Wir empfehlen Sie regelmäßig an unsere Partner weiter.",
        ],
    },
}

URGENCY = {
    "en": {
        "P1": [
            "Please treat this as urgent.",
            "We need an immediate response.",
            "Please call me as soon as possible.",
            "This needs to be fixed today.",
        ],
        "P2": [
            "Please look into this soon.",
            "We would appreciate a quick answer.",
            "Could you give us an update by tomorrow?",
        ],
        "P3": ["Please have a look when you can.", "An answer this week would be fine."],
        "P4": ["No urgency at all.", "Any time is fine."],
    },
    "de": {
        "P1": [
            "Bitte behandeln Sie das dringend.",
            "Wir brauchen sofort eine Rückmeldung.",
            "Bitte rufen Sie mich so schnell wie möglich an.",
            "Das muss heute behoben werden.",
        ],
        "P2": [
            "Bitte schauen Sie sich das bald an.",
            "Über eine schnelle Antwort würden wir uns freuen.",
            "Können Sie uns bis morgen ein Update geben?",
        ],
        "P3": [
            "Bitte schauen Sie es sich an, wenn Sie Zeit haben.",
            "Eine Antwort in dieser Woche reicht.",
        ],
        "P4": ["Überhaupt nicht dringend.", "Jederzeit gern."],
    },
}

URGENT_PREFIX = {
    "en": ["URGENT: ", "Urgent - ", "ASAP: "],
    "de": ["DRINGEND: ", "Dringend - ", "Eilt: "],
}

GREETINGS = {
    "en": ["Hello,", "Hi team,", "Hi,", "Dear support team,", "Good morning,", "Hello support,"],
    "de": [
        "Hallo,",
        "Hallo zusammen,",
        "Guten Tag,",
        "Sehr geehrtes Support-Team,",
        "Guten Morgen,",
        "Liebes Support-Team,",
    ],
}

CLOSINGS = {
    "en": {
        "negative": [
            "We expect a proper solution this time.",
            "Please escalate this internally.",
            "We need this resolved now.",
        ],
        "neutral": ["Thank you.", "Thanks.", "Looking forward to your reply."],
        "positive": [
            "Thanks a lot!",
            "Many thanks and have a great day!",
            "Thank you for your great support.",
        ],
    },
    "de": {
        "negative": [
            "Wir erwarten diesmal eine richtige Lösung.",
            "Bitte eskalieren Sie das intern.",
            "Das muss jetzt gelöst werden.",
        ],
        "neutral": ["Danke.", "Vielen Dank.", "Wir freuen uns auf Ihre Antwort."],
        "positive": [
            "Herzlichen Dank!",
            "Vielen Dank und einen schönen Tag!",
            "Danke für Ihre großartige Unterstützung.",
        ],
    },
}

SIGNOFFS = {
    "en": ["Best regards", "Kind regards", "Regards", "Best", "Cheers"],
    "de": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "Freundliche Grüße", "Gruß"],
}

ESCALATION_REASONS = {
    "en": {
        "sla": ["Repeated SLA breaches", "Response times far beyond the agreed SLA"],
        "outage": ["Business impact from a service outage", "Production down for several hours"],
        "bug": ["Regression after a release", "Critical defect not fixed"],
        "billing": ["Billing dispute", "Invoice disagreement raised by finance"],
        "relationship": [
            "Executive complaint about overall service",
            "Customer demands a management call",
        ],
        "other": ["Unresolved ticket backlog", "Customer unhappy with support quality"],
    },
    "de": {
        "sla": ["Wiederholte SLA-Verletzungen", "Antwortzeiten weit über dem vereinbarten SLA"],
        "outage": [
            "Geschäftliche Auswirkungen durch einen Ausfall",
            "Produktion mehrere Stunden ausgefallen",
        ],
        "bug": ["Regression nach einem Release", "Kritischer Fehler nicht behoben"],
        "billing": ["Streit über die Abrechnung", "Einspruch der Buchhaltung gegen die Rechnung"],
        "relationship": [
            "Beschwerde der Geschäftsführung über den Service",
            "Kunde verlangt ein Gespräch mit dem Management",
        ],
        "other": ["Ungelöster Ticket-Rückstau", "Kunde unzufrieden mit der Supportqualität"],
    },
}

CHURN_REASONS = {
    "en": {
        "outage": ["Reliability concerns"],
        "bad_release": ["Product quality"],
        "champion_leaves": ["Sponsor left the company"],
        "billing_dispute": ["Pricing and billing"],
        "competitor_offer": ["Moved to a competitor"],
        "other": ["Budget cuts", "No longer needed", "Low adoption"],
    },
    "de": {
        "outage": ["Bedenken wegen der Zuverlässigkeit"],
        "bad_release": ["Produktqualität"],
        "champion_leaves": ["Ansprechpartner hat das Unternehmen verlassen"],
        "billing_dispute": ["Preise und Abrechnung"],
        "competitor_offer": ["Wechsel zu einem Wettbewerber"],
        "other": ["Budgetkürzungen", "Kein Bedarf mehr", "Geringe Nutzung"],
    },
}

COMPANY_STEMS = [
    "Nord",
    "Alpen",
    "Blue",
    "Vertex",
    "Summit",
    "Rhein",
    "Oak",
    "Granite",
    "Harbor",
    "Lumen",
    "Falken",
    "Brook",
    "Cedar",
    "Polar",
    "Silver",
    "Nova",
    "Atlas",
    "Elb",
    "Isar",
    "Pine",
    "Quantum",
    "Red",
    "Stone",
    "Terra",
    "Wind",
    "Apex",
    "Bright",
    "Delta",
    "Echo",
    "Fjord",
]
COMPANY_TAILS = [
    "tech",
    "works",
    "logistics",
    "data",
    "soft",
    "systems",
    "labs",
    "health",
    "retail",
    "energy",
    "finance",
    "media",
    "bau",
    "med",
    "cloud",
    "trade",
    "motion",
    "vision",
    "foods",
    "line",
]
LEGAL_FORMS = {"en": ["Inc.", "LLC", "Ltd", "Corp."], "de": ["GmbH", "AG", "GmbH & Co. KG", "SE"]}

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Grace",
    "Hannah",
    "Jonas",
    "Laura",
    "Max",
    "Nina",
    "Omar",
    "Priya",
    "Sam",
    "Tom",
]
LAST_NAMES = [
    "Becker",
    "Carter",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Khan",
    "Lee",
    "Meyer",
    "Novak",
    "Schulz",
    "Smith",
    "Wagner",
    "Weber",
    "Young",
]


@dataclass(frozen=True)
class Bank:
    """Strings flattened group after group, so a choice for many rows is one fancy index."""

    strings: np.ndarray  # object array
    offsets: np.ndarray
    counts: np.ndarray

    def pick(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One string per row from its group, `u` uniform in [0, 1)."""
        i = np.minimum((u * self.counts[group]).astype(np.int64), self.counts[group] - 1)
        return self.strings[self.offsets[group] + i]


def _bank(groups: list[list[str]], suffix: str = "") -> Bank:
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    strings = np.array([s + suffix for g in groups for s in g] + [""], dtype=object)[:-1]
    return Bank(strings, offsets, counts)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _with_products(templates: list[str], lang: str) -> list[str]:
    """Every template filled with every product of the language, template-major."""
    return [t.format(p=p, P=_cap(p)) for t in templates for p in PRODUCTS[lang]]


def compose(
    rng: np.random.Generator,
    language: np.ndarray,
    topic: np.ndarray,
    priority: np.ndarray,
    tone: np.ndarray,
    priorities: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Subjects and bodies for many tickets at once.

    `language`, `topic` and `priority` are integer codes into LANGUAGES, TOPICS and `priorities`;
    `tone` is the intended tone in [-1, 1]. The tone picks how many and which tone sentences appear
    and the closing; a fair share of tickets carry no tone sentence, so their tone must be inferred
    from symptoms and urgency alone.
    """
    n = len(language)
    nt, npri = len(TOPICS), len(priorities)
    nprod = np.array([len(PRODUCTS[lang]) for lang in LANGUAGES])
    product = np.minimum((rng.random(n) * nprod[language]).astype(np.int64), nprod[language] - 1)

    def templated(source: dict) -> tuple[Bank, np.ndarray]:
        groups = [_with_products(source[lang][t], lang) for lang in LANGUAGES for t in TOPICS]
        ntempl = np.array([len(source[lang][t]) for lang in LANGUAGES for t in TOPICS])
        return _bank(groups), ntempl

    g_lt = language * nt + topic
    subj_bank, subj_n = templated(SUBJECTS)
    sym_bank, sym_n = templated(SYMPTOMS)
    # choose a template, then place the ticket's product inside it (same product in subject and body)
    t_subj = np.minimum((rng.random(n) * subj_n[g_lt]).astype(np.int64), subj_n[g_lt] - 1)
    t_sym = np.minimum((rng.random(n) * sym_n[g_lt]).astype(np.int64), sym_n[g_lt] - 1)
    subject = subj_bank.strings[subj_bank.offsets[g_lt] + t_subj * nprod[language] + product]
    symptom = sym_bank.strings[sym_bank.offsets[g_lt] + t_sym * nprod[language] + product]

    pri_names = [p if p in IMPACT["en"] else "P3" for p in priorities]
    g_lp = language * npri + priority
    # optional parts carry their trailing space, so an absent part is just ""
    impact = _bank([IMPACT[lang][p] for lang in LANGUAGES for p in pri_names], " ")
    urgency = _bank([URGENCY[lang][p] for lang in LANGUAGES for p in pri_names], " ")
    tone_bank = _bank([TONE[lang][b] for lang in LANGUAGES for b in TONE_BUCKETS], " ")
    greet = _bank([GREETINGS[lang] for lang in LANGUAGES])
    close = _bank(
        [CLOSINGS[lang][c] for lang in LANGUAGES for c in ("negative", "neutral", "positive")]
    )
    sign = _bank([SIGNOFFS[lang] for lang in LANGUAGES])
    prefix = _bank([URGENT_PREFIX[lang] for lang in LANGUAGES])

    # the words only approximately follow the intended tone
    felt = tone + rng.normal(0.0, 0.15, n)
    bucket = np.digitize(felt, [-0.55, -0.15, 0.15, 0.55])
    n_tone = np.select(
        [bucket == 0, bucket == 1, bucket == 2, bucket == 3],
        [
            1 + (rng.random(n) < 0.6),
            (rng.random(n) < 0.8).astype(int),
            (rng.random(n) < 0.5).astype(int),
            (rng.random(n) < 0.7).astype(int),
        ],
        1 + (rng.random(n) < 0.4),
    )
    g_tone = language * len(TONE_BUCKETS) + bucket
    tone1 = np.where(n_tone >= 1, tone_bank.pick(g_tone, rng.random(n)), "")
    second = tone_bank.pick(g_tone, rng.random(n))
    tone2 = np.where((n_tone >= 2) & (second != tone1), second, "")
    close_kind = np.select([felt < -0.35, felt > 0.35], [0, 2], 1)
    has_impact = rng.random(n) < 0.7
    has_urgency = rng.random(n) < np.where(priority == 0, 0.9, 0.5)
    urgent_subject = (priority == 0) & (rng.random(n) < 0.4) | (felt < -0.7) & (rng.random(n) < 0.3)

    prefix_pick = prefix.pick(language, rng.random(n))
    subject = [
        f"{p}{s}" if u else s for p, s, u in zip(prefix_pick, subject, urgent_subject, strict=True)
    ]
    greeting = greet.pick(language, rng.random(n))
    impact_pick = np.where(has_impact, impact.pick(g_lp, rng.random(n)), "")
    urgency_pick = np.where(has_urgency, urgency.pick(g_lp, rng.random(n)), "")
    closing = close.pick(language * 3 + close_kind, rng.random(n))
    signoff = sign.pick(language, rng.random(n))
    body = [
        f"{g}\n\n{s} {i}{t1}{t2}{u}{c}\n\n{so}"
        for g, s, i, t1, t2, u, c, so in zip(
            greeting,
            symptom,
            impact_pick,
            tone1,
            tone2,
            urgency_pick,
            closing,
            signoff,
            strict=True,
        )
    ]
    return np.array(subject, dtype=object), np.array(body, dtype=object)


def pick_reason(
    rng: np.random.Generator,
    source: dict,
    language: np.ndarray,
    key: np.ndarray,
    keys: tuple[str, ...],
) -> np.ndarray:
    """A reason phrase per row in the row's language, from the group named by `keys[key]`."""
    bank = _bank([source[lang][k] for lang in LANGUAGES for k in keys])
    return bank.pick(language * len(keys) + key, rng.random(len(language)))


def company_names(rng: np.random.Generator, language: np.ndarray) -> np.ndarray:
    n = len(language)
    stems = np.array(COMPANY_STEMS, dtype=object)[rng.integers(0, len(COMPANY_STEMS), n)]
    tails = np.array(COMPANY_TAILS, dtype=object)[rng.integers(0, len(COMPANY_TAILS), n)]
    legal = _bank([LEGAL_FORMS[lang] for lang in LANGUAGES]).pick(language, rng.random(n))
    return stems + tails + " " + legal


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    return [f"{FIRST_NAMES[f]} {LAST_NAMES[la]}" for f, la in zip(first, last, strict=True)]
