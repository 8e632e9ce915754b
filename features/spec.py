"""What a feature is, declared once: name, dtype, family, unit, meaning and reason templates.

The spec travels with the features (and inside a model bundle, as plain JSON-able data) so that
training, scoring and reason rendering agree on columns, dtypes and category levels.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

UNKNOWN = "__unknown__"  # the explicit level every category maps values outside its levels to
_NUMBER_FORMS = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")  # [singular|plural] in a template
_PLACEHOLDER = re.compile(r"\{(\w+)[^{}]*\}")  # "{n}", "{n:,}": the name of a value told
BELOW_ZERO = " || "  # "<sentence> || <sentence for a value below zero, told with its size>"
AT_ZERO = " |0| "  # "<sentence(s)> |0| <sentence for a value of zero>", last in a template
_WHOLE = re.compile(r"\{value:,?\.0f\}")  # a number written whole: 0.3 shows as 0
_SHARE = "{value:.0%}"  # a share written whole: 0.3% shows as 0%, 99.7% as 100%
_SHARE_EDGES = {"en": ("under 1%", "over 99%"), "de": ("unter 1\u00a0%", "über 99\u00a0%")}


@dataclass(frozen=True)
class FeatureInfo:
    """One feature: enough to type its column, explain it and phrase a reason from it."""

    name: str
    dtype: Literal["float", "category"]
    family: str
    unit: str
    description: str
    template_en: str  # formatted with value=<the feature's value>, e.g. "{value:.0f} tickets ..."
    template_de: str
    levels: tuple[str, ...] | None = None  # category levels, UNKNOWN included as the last one

    def render(self, value: Any, language: str = "en") -> str:
        """The reason sentence for a value, in English or German. A template may give a word in
        singular and plural, "[ticket|tickets]": the singular is used when the value shows as 1.
        It may give a second sentence for values below zero after " || ", told with the value's
        size ("Renewal in 5 days || Renewal date passed 56 days ago", not "Renewal in -56 days"),
        and last, after " |0| ", one for a value of zero: a count of none can raise a risk (a
        quiet account), and reads "no P3 SLA breaches", not "0 P3 SLA breaches"; a sentence
        writing its number whole tells a value that shows as 0 so too ("Renewal today"). A whole
        share that shows as 0% or 100% without being so reads "under 1%" or "over 99%"."""
        forms = _forms(self.template_de if language == "de" else self.template_en)
        (one, other), below, zero = forms.above, forms.below, forms.zero
        number = _is_number(value)
        if zero is not None and number and (value == 0 or forms.whole and -0.5 <= value <= 0.5):
            return zero.format(value=localized(value, language))
        if below is not None and number and value < 0:
            (one, other), value = below, -value
        sentence = one if _shows_as_one(value) else other
        if number and _SHARE in sentence:
            under, over = _SHARE_EDGES[language if language == "de" else "en"]
            if 0 < value * 100 <= 0.5:
                sentence = _with_share(sentence, under)
            elif value * 100 >= 99.5 and value < 1:
                sentence = _with_share(sentence, over)
        return sentence.format(value=localized(value, language))

    def render_many(self, values: np.ndarray, language: str = "en") -> np.ndarray:
        """`render` of each value (objects in and out): the daily job renders ~500,000 values at
        100,000 accounts, so for floats the sentence and the number form are picked for all
        values at once, and only the formatting is left per value."""
        if values.dtype != np.float64:
            return np.array([self.render(v, language) for v in values.tolist()], dtype=object)
        forms = _forms(self.template_de if language == "de" else self.template_en)
        above, below, zero = forms.above, forms.below, forms.zero
        low = values < 0 if below is not None else np.zeros(len(values), dtype=bool)
        size = np.where(low, -values, values)
        one = np.rint(size) == 1  # round(value) == 1 of a float, as `_shows_as_one` tells it
        if zero is None:
            none = np.zeros(len(values), dtype=bool)
        else:
            none = (np.abs(values) <= 0.5) if forms.whole else values == 0
        picks = [(above[0], ~low & one & ~none), (above[1], ~low & ~one & ~none)]
        if below is not None:
            picks += [(below[0], low & one & ~none), (below[1], low & ~one & ~none)]
        edges = _SHARE_EDGES[language if language == "de" else "en"]
        picks = [edge for pick in picks for edge in _share_edges(*pick, size, edges)]
        number = _GermanNumber if language == "de" else float  # as `localized` gives a float
        out = np.empty(len(values), dtype=object)
        if zero is not None and none.any():
            out[none] = [zero.format(value=number(v)) for v in values[none].tolist()]
        for template, at in picks:
            if at.any():
                fmt = template.format
                out[at] = [fmt(value=number(v)) for v in size[at].tolist()]
        return out

    def label(self, language: str = "en") -> str:
        """The reason sentence with its value left out ("... tickets open"): names the feature
        for people where no value is at hand, e.g. a waterfall bar beyond the stored reasons."""
        template = self.template_de if language == "de" else self.template_en
        template = template.split(AT_ZERO, 1)[0].split(BELOW_ZERO, 1)[0]
        template = _NUMBER_FORMS.sub(lambda m: m.group(2), template)
        try:
            return template.format(value=_Blank(language))
        except (ValueError, KeyError, IndexError):  # a template of another shape: its name
            return self.name.replace("_", " ")


class _Blank:
    """A value left out of a sentence: an ellipsis, with the percent sign a format gives."""

    def __init__(self, language: str) -> None:
        self.percent = "\u00a0%" if language == "de" else "%"

    def __format__(self, spec: str) -> str:
        return "\u2026" + (self.percent if spec.endswith("%") else "")


_GERMAN_DIGITS = str.maketrans({",": ".", ".": ","})


class _GermanNumber(float):
    """A number that formats as German writes it: 1.234,5 and 12 % (only the number's own
    characters change, not the sentence's punctuation); a whole number given as an int stays
    whole ("{n}" of 253 is 253, not 253,0)."""

    whole: bool

    def __new__(cls, value: float) -> _GermanNumber:
        out = super().__new__(cls, value)
        out.whole = type(value) is not float and isinstance(value, numbers.Integral)
        return out

    def __format__(self, spec: str) -> str:
        plain = int(self) if self.whole else float(self)
        return format(plain, spec).translate(_GERMAN_DIGITS).replace("%", "\u00a0%")


def number_forms(template: str, values: Mapping[str, Any]) -> str:
    """`template` with each "[singular|plural]" in the form its number needs: the value of the
    nearest placeholder before it (the first after it when none is before), singular when that
    value shows as 1. "{n} [account|accounts] scored" reads "1 account scored"; German puts an
    adjective first: "[letzter|letzte] {days} [Tag|Tage]"."""
    if "[" not in template:
        return template

    def form(m: re.Match[str]) -> str:
        before = _PLACEHOLDER.findall(template, 0, m.start())
        after = _PLACEHOLDER.findall(template, m.end())
        name = before[-1] if before else after[0] if after else None
        return m.group(1 if name is not None and _shows_as_one(values.get(name)) else 2)

    return _NUMBER_FORMS.sub(form, template)


@dataclass(frozen=True)
class _Forms:
    """A reason template's sentence for values above zero and the one below (None when it has
    none), each in its two number forms, (shows as 1, any other), and its sentence for zero
    (None when it has none, the plural is told); `whole`: the sentence above zero writes its
    number whole, so a value that rounds to 0 shows as 0 and takes the sentence for zero."""

    above: tuple[str, str]
    below: tuple[str, str] | None
    zero: str | None
    whole: bool


@functools.lru_cache(maxsize=1024)
def _forms(template: str) -> _Forms:
    """A reason template parsed once: every "[singular|plural]" of a reason template is told by
    its one value, so `render` picks a form instead of parsing."""

    def both(sentence: str) -> tuple[str, str]:
        return number_forms(sentence, {"value": 1}), number_forms(sentence, {"value": 2})

    template, _, zero = template.partition(AT_ZERO)
    above, _, below = template.partition(BELOW_ZERO)
    whole = _WHOLE.search(above) is not None
    return _Forms(both(above), both(below) if below else None, zero or None, whole)


def _share_edges(
    template: str, at: np.ndarray, size: np.ndarray, edges: tuple[str, str]
) -> list[tuple[str, np.ndarray]]:
    """`render`'s "under 1%" and "over 99%" for the values `at` of one sentence, picked for all
    at once: the sentence with its whole share replaced where the share shows as 0% or 100%
    without being so, the sentence as it is for the rest."""
    if _SHARE not in template:
        return [(template, at)]
    percent = size * 100
    tiny = at & (percent > 0) & (percent <= 0.5)
    almost = at & (percent >= 99.5) & (size < 1)
    return [
        (template, at & ~tiny & ~almost),
        (_with_share(template, edges[0]), tiny),
        (_with_share(template, edges[1]), almost),
    ]


def _with_share(sentence: str, words: str) -> str:
    """`sentence` with its whole share told in `words`, capitalized where they begin it."""
    if sentence.startswith(_SHARE):
        words = words[:1].upper() + words[1:]
    return sentence.replace(_SHARE, words)


_LAST_DAYS = {  # a window in a reason template: (of one day, of more)
    "en": ("the last day", "the last {days} days"),  # "in the last 7 days", "over the last day"
    "de": ("am letzten Tag", "in den letzten {days} Tagen"),
    "de_of": ("des letzten Tages", "der letzten {days} Tage"),  # "Tickets der letzten 7 Tage"
}


def last_days(days: int, form: str = "en") -> str:
    """A window of `days` as a reason names it, in the number it needs: "in the last day", not
    "in the last 1 days". A window is a setting, known when the spec is made, so its phrase is
    written into the template then (a value's own number forms are chosen when it is told)."""
    one, many = _LAST_DAYS[form]
    return one if days == 1 else many.format(days=days)


def _shows_as_one(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and round(value) == 1


def _is_number(value: Any) -> bool:
    if type(value) is float or type(value) is int:  # the usual values, without the ABC's check
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def localized(value: Any, language: str) -> Any:
    """`value` to format into a text of `language`: a number formats as that language writes
    it ("{:,.1%}" of 0.1234 is 12.3% in English, 12,3 % in German); anything else unchanged."""
    return _GermanNumber(value) if language == "de" and _is_number(value) else value


@dataclass(frozen=True)
class FeatureSpec:
    """The ordered features of a frame or a model."""

    features: tuple[FeatureInfo, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(f.family for f in self.features))

    def by_name(self, name: str) -> FeatureInfo:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def select(self, names: Iterable[str]) -> FeatureSpec:
        """The sub-spec of some features, in the order given."""
        return FeatureSpec(tuple(self.by_name(n) for n in names))

    def to_dict(self) -> dict[str, Any]:
        out = []
        for f in self.features:
            d = asdict(f)
            d["levels"] = None if f.levels is None else list(f.levels)
            out.append(d)
        return {"features": out}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        feats = []
        for d in data["features"]:
            levels = d.get("levels")
            feats.append(FeatureInfo(**{**d, "levels": None if levels is None else tuple(levels)}))
        return cls(tuple(feats))


# The values a feature of each unit can hold, as the builders make them from contract-checked
# data: a row of precomputed features (the API's /score_features) outside them is a mistake, and
# would show in a reason ("ARR of -5", a 300-digit number of days). A template with a sentence
# for values below zero takes them (days to renewal, a drop that is a rise).
_LARGE = 1e12
_UNIT_RANGES: dict[str, tuple[float, float]] = {
    "days": (0, 1e5),  # about 270 years: more than any history since contract.min_date
    "currency": (0, 1e13),
    "seats": (1, 1e9),
    "tickets": (0, _LARGE),
    "escalations": (0, _LARGE),
    "ratings": (0, _LARGE),
    "tickets per seat": (0, _LARGE),
    "hours": (0, 1e6),
    "active users per day": (0, _LARGE),
    "events per day": (0, _LARGE),
    "share": (0, 1),
    "score [-1, 1]": (-1, 1),
    "score difference": (-2, 2),
    "rating 1-5": (1, 5),
}
# more users active than seats bought is a real (over-used) account, not a mistake
_NAME_RANGES: dict[str, tuple[float, float]] = {"usage_seat_utilisation": (0, _LARGE)}


def value_range(info: FeatureInfo) -> tuple[float, float] | None:
    """The least and greatest value a number feature can hold (None: a custom field's, any)."""
    if info.dtype != "float" or info.family == "custom":
        return None
    low, high = _NAME_RANGES.get(info.name) or _UNIT_RANGES.get(info.unit, (-_LARGE, _LARGE))
    if BELOW_ZERO in info.template_en and low >= 0:
        low = -_LARGE if info.unit == "share" else -high
    return low, high


def number(name: str, family: str, unit: str, description: str, en: str, de: str) -> FeatureInfo:
    return FeatureInfo(name, "float", family, unit, description, en, de)


def category(
    name: str, family: str, levels: Iterable[str], description: str, en: str, de: str
) -> FeatureInfo:
    return FeatureInfo(name, "category", family, "", description, en, de, (*levels, UNKNOWN))
