"""Sample CAP messages for the tests in tests/cap: an Alert, its Update and its Cancel, in three languages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alertsvc.cap import CapArea, CapInfo, CapMessage

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
CET = timezone(timedelta(hours=1), "CET")  # Serbia in November
SENDER = "alerts@alertsvc.example.rs"

ALERT_ID = "RS-ALERTSVC-2026-000042"
UPDATE_ID = "RS-ALERTSVC-2026-000042-U1"
CANCEL_ID = "RS-ALERTSVC-2026-000042-C"
ALERT_SENT = datetime(2026, 11, 23, 14, 5, tzinfo=CET)
UPDATE_SENT = datetime(2026, 11, 23, 16, 30, tzinfo=CET)
CANCEL_SENT = datetime(2026, 11, 23, 19, 45, 12, tzinfo=CET)
EXPIRES = datetime(2026, 11, 24, 14, 5, tzinfo=CET)

BELGRADE_RING = ((44.90, 20.30), (44.90, 20.60), (44.70, 20.60), (44.70, 20.30), (44.90, 20.30))
BELGRADE = CapArea(
    "Grad Beograd / Град Београд / City of Belgrade",
    polygons=(BELGRADE_RING,),
    circles=((44.8176, 20.4633, 15.0),),
    geocodes=(("ISO3166-2", "RS-00"),),
)
NOVI_SAD = CapArea("Novi Sad", circles=((45.2671, 19.8335, 10.5),), geocodes=(("ISO3166-2", "RS-VO"),))

_TEXTS = {
    "sr-Latn": ("Nestalo dete", "Nestala devojčica Ana (7) u Beogradu",
                "Ana je poslednji put viđena kod Kalemegdana. Visoka oko 120 cm, nosi crvenu jaknu.",
                "Ako je vidite, odmah pozovite 192. Ne prilazite osobi u njenom društvu.", "Policija: 192"),
    "sr-Cyrl": ("Нестало дете", "Нестала девојчица Ана (7) у Београду",
                "Ана је последњи пут виђена код Калемегдана. Висока око 120 cm, носи црвену јакну.",
                "Ако је видите, одмах позовите 192. Не прилазите особи у њеном друштву.", "Полиција: 192"),
    "en": ("Missing child", "Missing girl Ana (7) in Belgrade",
           "Ana was last seen near Kalemegdan. About 120 cm tall, wearing a red jacket.",
           "If you see her, call 192 immediately. Do not approach anyone with her.", "Police: 192"),
}
_CANCEL_TEXTS = {
    "sr-Latn": ("Dete je pronađeno", "Dete je pronađeno – upozorenje je povučeno"),
    "sr-Cyrl": ("Дете је пронађено", "Дете је пронађено – упозорење је повучено"),
    "en": ("Alert cancelled", "The child has been found – alert cancelled"),
}


def info(language: str = "sr-Latn", **overrides) -> CapInfo:
    event, headline, description, instruction, contact = _TEXTS[language]
    fields = dict(language=language, event=event, headline=headline, description=description,
                  instruction=instruction, web="https://alertsvc.example.rs/alerts/42", contact=contact,
                  expires=EXPIRES, parameters=(("alertsvc:case", "42"),))
    fields.update(overrides)
    return CapInfo(**fields)


def cancel_info(language: str = "sr-Latn") -> CapInfo:
    event, headline = _CANCEL_TEXTS[language]
    return CapInfo(language, event, headline, headline, "", None, None, urgency="Past", severity="Minor",
                   certainty="Observed", response_types=("AllClear",))


LANGUAGES = ("sr-Latn", "sr-Cyrl", "en")


def alert(languages: tuple[str, ...] = LANGUAGES, **overrides) -> CapMessage:
    fields = dict(identifier=ALERT_ID, sender=SENDER, sent=ALERT_SENT, msg_type="Alert",
                  infos=tuple(info(lang) for lang in languages), areas=(BELGRADE,))
    fields.update(overrides)
    return CapMessage(**fields)


def update(languages: tuple[str, ...] = LANGUAGES) -> CapMessage:
    return CapMessage(identifier=UPDATE_ID, sender=SENDER, sent=UPDATE_SENT, msg_type="Update",
                      references=((SENDER, ALERT_ID, ALERT_SENT),),
                      note="Područje prošireno na Novi Sad",
                      infos=tuple(info(lang, headline=_TEXTS[lang][1] + " / Novi Sad") for lang in languages),
                      areas=(BELGRADE, NOVI_SAD))


def cancel(languages: tuple[str, ...] = LANGUAGES) -> CapMessage:
    return CapMessage(identifier=CANCEL_ID, sender=SENDER, sent=CANCEL_SENT, msg_type="Cancel",
                      references=((SENDER, ALERT_ID, ALERT_SENT), (SENDER, UPDATE_ID, UPDATE_SENT)),
                      infos=tuple(cancel_info(lang) for lang in languages), areas=(BELGRADE, NOVI_SAD))
