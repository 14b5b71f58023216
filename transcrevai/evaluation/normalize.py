"""Portuguese text normalisation for WER scoring (Brazilian and European spellings).

Reference and hypothesis go through the same function, so a rule only needs to map every
way of writing one spoken thing to one string; it does not need to be pretty. Rules, in
order:

1. Unicode NFC, then lower-case ("É" and "E" + combining acute become one "é").
2. Text in ``[...]``, ``(...)``, ``{...}`` and ``<...>`` is dropped: annotations, not speech
   ("[Música]", "(Pausa.)", "(risos)", "<unk>").
3. Hesitations (``drop_hesitations=True``): the written pause "é..." / "é…" is dropped.
   With ``"aggressive"`` also "é," ("É, eu acho" → "eu acho").
4. Abbreviations expand to the spoken words: sr./sra./srs./sras./srta. → senhor…,
   dr./dra. → doutor/doutora, prof./profa./prof.ª → professor/professora, exmo./exma. →
   excelentíssimo/a, V.Exa./V. Ex.ª → vossa excelência, etc. → et cetera, a.C./d.C. →
   antes/depois de cristo, nº/n.º/n° → número, art. → artigo, pág. → página, av. → avenida.
5. Symbols and units: "12%" / "12 %" → "12 por cento"; "1º", "2.ª" → "primeiro", "segunda"
   (ordinals always become words, in both modes); "30°" → "30 graus" ("°C" → "graus
   celsius"); "R$ 5,50" → "5 reais e 50 centavos", "US$ 3" → "3 dólares", "€ 2" / "2 €" →
   "2 euros", "R$ 5 mil" → "5 mil reais", "R$ 2 milhões" → "2 milhões de reais"; "10h",
   "10h30" → "10 horas", "10 horas e 30"; "5 min" → "5 minutos"; km, km/h, kg, cm →
   quilômetro(s) (Brazilian spelling; "quilómetro" folds to it), quilômetros por hora,
   quilos (the spoken form), centímetro(s); "&" → "e". A quantity of exactly 1 takes the
   singular ("1 km" → "um quilômetro").
6. Digit grouping: "1.188" and "6.235,50" use the Portuguese thousands dot (removed) and
   decimal comma; an English decimal point "3.5" becomes "3,5". "século XIX" → "século 19"
   (Roman numerals only after século/séculos, where they are unambiguous).
7. Punctuation becomes a space, so hyphens and apostrophes split words: "guarda-chuva" →
   "guarda chuva", "acredita-se" → "acredita se", "copo d'água" → "copo d água". ASR
   systems hyphenate inconsistently; splitting makes "guarda-chuva" and "guarda chuva"
   score as equal (a compound counts as two words). Commas between digits are kept.
8. Filler tokens (``drop_hesitations`` truthy) are dropped: hã, ã, ãh, ahn, hum, hm, hmm,
   mhm, uhum, uh, uhm, eh, éh and elongations ("hmmm", "éé"). The verb "é" is kept: it is
   far more often "is" than a filler. ``"aggressive"`` also drops runs of two or more "é"
   ("é é é" → ""), accepting the loss of a repeated verb. "ah", "né", "tipo" are words, kept.
9. Numbers: every spelled number (pt-BR "dezesseis", "dezenove", pt-PT "dezasseis",
   "dezanove", "catorze"/"quatorze", feminine "duas", "duzentas", "trinta e uma") and every
   digit string is parsed to a value and written back in one form: ``numbers="words"``
   (default) → canonical words ("dois mil e vinte", "três vírgula cinco"); ``"digits"`` →
   "2020", "3,5". Mixed "3 mil" = "três mil" = 3000. A number never spans punctuation
   ("mil, cinco" stays two numbers), but adjacent ones with none between ("mil cinco") join
   where the grammar allows, as a listener would hear them. Values above 999 999 999 stay
   digits; digit strings with a leading zero ("007") are read digit by digit. Fractions of
   up to three digits are read as a number ("três vírgula catorze"), longer ones digit by
   digit ("três vírgula um quatro um cinco nove"). A lone "um"/"uma"/"1"
   becomes "um" in both modes: it is mostly the article, and "uma casa" vs "1 casa" should
   match; "uma" → "um" everywhere means an um/uma confusion is not counted as an error.

Example (pt-BR): "O Sr. Silva pagou R$ 1.200,50 — é... uns 12% a mais!" →
"o senhor silva pagou mil e duzentos reais e cinquenta centavos uns doze por cento a mais".
Example (pt-PT): "Hmm, são dezasseis quilómetros até à 2.ª rotunda" →
"são dezesseis quilômetros até à segunda rotunda".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

from transcrevai.evaluation.numbers_pt import (
    MAX_INT,
    parse_number,
    spell_decimal,
    spell_int,
    spell_ordinal,
)

Hesitations = bool | Literal["aggressive"]
NumberStyle = Literal["words", "digits"]

_NUM = r"\d+(?:,\d+)?"
_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|<[^>]*>")
_E_ELLIPSIS = re.compile(r"(?<!\w)é\s*(?:\.{2,}|…)")
_E_COMMA = re.compile(r"(?<!\w)é\s*,")

# (pattern, replacement) applied in order; longer forms before their prefixes.
_END = r"(?:\.|(?!\w))"  # an optional abbreviation period, else a word end
_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"v\.\s?exas\.", "vossas excelências"),
    (r"v\.\s?exa\.", "vossa excelência"),
    (r"v\.\s?ex\.?ª", "vossa excelência"),
    (r"srs" + _END, "senhores"),
    (r"sras" + _END, "senhoras"),
    (r"srta" + _END, "senhorita"),
    (r"sra" + _END, "senhora"),
    (r"sr" + _END, "senhor"),
    (r"drs" + _END, "doutores"),
    (r"dras" + _END, "doutoras"),
    (r"dra" + _END, "doutora"),
    (r"dr" + _END, "doutor"),
    (r"profs\.", "professores"),
    (r"profa\.|prof\.?ª", "professora"),
    (r"prof\.", "professor"),
    (r"exmos\.", "excelentíssimos"),
    (r"exmo\.", "excelentíssimo"),
    (r"exmas\.", "excelentíssimas"),
    (r"exma\.", "excelentíssima"),
    (r"etc" + _END, "et cetera"),
    (r"a\.\s?c" + _END, "antes de cristo"),
    (r"d\.\s?c" + _END, "depois de cristo"),
    (r"n\.?\s?[º°]s" + _END, "números"),
    (r"n\.?\s?[º°]\.?", "número"),
    (r"arts\.", "artigos"),
    (r"art\.", "artigo"),
    (r"págs\.", "páginas"),
    (r"pág\.", "página"),
    (r"av\.", "avenida"),
]
_ABBREV_RES = [(re.compile(r"(?<!\w)" + p), r) for p, r in _ABBREVIATIONS]

_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("quilômetro por hora", "quilômetros por hora"),
    "km": ("quilômetro", "quilômetros"),
    "kg": ("quilo", "quilos"),
    "cm": ("centímetro", "centímetros"),
}
_UNIT_RE = re.compile(r"(?<![\w,])(" + _NUM + r")?\s?(km/h|km|kg|cm)(?!\w)")
_CURRENCY_SCALED = re.compile(
    r"(r\$|us\$|€)\s?(" + _NUM + r")\s(mil|milhão|milhões|bilhão|bilhões)(?!\w)"
)
_CURRENCY_BEFORE = re.compile(r"(r\$|us\$|€)\s?(\d+)(?:,(\d\d))?(?![\d,])")
_CURRENCY_AFTER = re.compile(r"(?<![\d,])(\d+)(?:,(\d\d))?\s?€")
_CURRENCY_NAMES = {"r$": ("real", "reais"), "us$": ("dólar", "dólares"), "€": ("euro", "euros")}
_HOURS = re.compile(r"(?<![\w,])(\d{1,2})h(\d\d)?(?!\w)")
_MINUTES = re.compile(r"(?<![\w,])(\d+)\s?min\.?(?!\w)")
_ORDINAL = re.compile(r"(?<![\w,])(\d{1,4})\.?\s?([ºª])")
_DEGREES = re.compile(r"(?<=\d)\s?°\s?(c(?!\w))?")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?!\d|\.\d)")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_CENTURY = re.compile(
    r"(?<!\w)(séculos?)\s+(?=[ivxlc]+(?!\w))(c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})(?!\w)"
)
_PUNCT = re.compile(r"(?<!\d),|,(?!\d)|[^\w\s,]|_")
_SEPARATOR = re.compile(r"(?<!\d),|,(?!\d)|[.;:!?…—–\"“”«»]")
_LEADING_ZERO = re.compile(r"0\d+")
_DECIMAL_TOKEN = re.compile(r"(\d+),(\d+)")
_HESITATION = re.compile(
    r"h?ã+h?n*|h?ãh+|ah+n+|h+m+|h+u+m+|m{2,}|m+h+m+|u+h+(?:u*m+)?|e+h+|é+h+|é{2,}"
)
_FOLD = {"uma": "um", "quilómetro": "quilômetro", "quilómetros": "quilômetros"}
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _plural(count: str | None, forms: tuple[str, str]) -> str:
    return forms[0] if count in (None, "1") else forms[1]


def _currency(symbol: str, whole: str, cents: str | None) -> str:
    text = f" {whole} {_plural(whole, _CURRENCY_NAMES[symbol])} "
    if cents and int(cents):
        text += f"e {int(cents)} {'centavo' if int(cents) == 1 else 'centavos'} "
    return text


def _roman(m: re.Match[str]) -> str:
    numeral = "".join(m.group(i) for i in (2, 3, 4))
    if not numeral:
        return m.group(0)
    values = [_ROMAN[c] for c in numeral]
    total = sum(
        -v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)
    )
    return f"{m.group(1)} {total}"


def _expand(text: str) -> str:
    """Rules 4–6: abbreviations, symbols, units and digit grouping, on lower-case text."""
    for pattern, replacement in _ABBREV_RES:
        text = pattern.sub(f" {replacement} ", text)
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _DECIMAL_POINT.sub(",", text)
    text = _CURRENCY_SCALED.sub(
        lambda m: (
            f" {m.group(2)} {m.group(3)} {'' if m.group(3) == 'mil' else 'de '}"
            f"{_CURRENCY_NAMES[m.group(1)][1]} "
        ),
        text,
    )
    text = _CURRENCY_BEFORE.sub(lambda m: _currency(m.group(1), m.group(2), m.group(3)), text)
    text = _CURRENCY_AFTER.sub(lambda m: _currency("€", m.group(1), m.group(2)), text)
    text = _HOURS.sub(
        lambda m: (
            f" {m.group(1)} {_plural(m.group(1), ('hora', 'horas'))}"
            + (f" e {m.group(2)} " if m.group(2) else " ")
        ),
        text,
    )
    text = _MINUTES.sub(lambda m: f" {m.group(1)} minutos ", text)
    text = _UNIT_RE.sub(
        lambda m: f" {m.group(1) or ''} {_plural(m.group(1), _UNITS[m.group(2)])} ", text
    )
    text = _ORDINAL.sub(
        lambda m: (
            f" {spell_ordinal(int(m.group(1)), m.group(2) == 'ª')} "
            if 1 <= int(m.group(1)) <= 1000
            else f" {m.group(1)} "
        ),
        text,
    )
    text = _DEGREES.sub(lambda m: " graus celsius " if m.group(1) else " graus ", text)
    text = text.replace("%", " por cento ").replace("&", " e ")
    return _CENTURY.sub(_roman, text)


def _render(value: str, numbers: NumberStyle) -> list[str]:
    """Write a parsed value ("266", "3,5") in the chosen style (rule 9)."""
    if value == "1":
        return ["um"]
    if numbers == "digits":
        return [value]
    decimal = _DECIMAL_TOKEN.fullmatch(value)
    whole = decimal.group(1) if decimal else value
    if int(whole) > MAX_INT:
        return [value]
    return (spell_decimal(value) if decimal else spell_int(int(value))).split()


def _numbers(tokens: list[str], numbers: NumberStyle) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if _LEADING_ZERO.fullmatch(tok):
            out.extend([tok] if numbers == "digits" else [spell_int(int(d)) for d in tok])
            i += 1
            continue
        parsed = parse_number(tokens, i)
        if parsed is None and (tok.isdecimal() or _DECIMAL_TOKEN.fullmatch(tok)):
            parsed = (tok, i + 1)
        if parsed is not None:
            out.extend(_render(parsed[0], numbers))
            i = parsed[1]
            continue
        out.append(_FOLD.get(tok, tok))
        i += 1
    return out


def _drop_fillers(tokens: list[str], drop: Hesitations) -> list[str]:
    return [t for t in tokens if not _HESITATION.fullmatch(t)] if drop else tokens


def _drop_repeated_e(tokens: list[str]) -> list[str]:
    """Aggressive mode: a run of two or more "é" is a hesitation, drop the whole run."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        before = i > 0 and tokens[i - 1] == "é"
        repeated = before or (i + 1 < len(tokens) and tokens[i + 1] == "é")
        if not (tok == "é" and repeated):
            out.append(tok)
    return out


def normalize_pt(
    text: str, drop_hesitations: Hesitations = True, numbers: NumberStyle = "words"
) -> str:
    """Normalise Portuguese text for scoring; see the module docstring for every rule."""
    if numbers not in ("words", "digits"):
        raise ValueError(f"numbers must be 'words' or 'digits', not {numbers!r}")
    text = unicodedata.normalize("NFC", text).lower()
    text = _BRACKETS.sub(" ", text)
    if drop_hesitations:
        text = _E_ELLIPSIS.sub(" ", text)
    if drop_hesitations == "aggressive":
        text = _E_COMMA.sub(" ", text)
    # Numbers are read within each stretch between separators, so "mil, cinco" stays two.
    tokens: list[str] = []
    for chunk in _SEPARATOR.split(_expand(text)):
        words = _drop_fillers(_PUNCT.sub(" ", chunk).split(), drop_hesitations)
        tokens.extend(_numbers(words, numbers))
    if drop_hesitations == "aggressive":
        tokens = _drop_repeated_e(tokens)
    return " ".join(tokens)


def make_normalizer(
    drop_hesitations: Hesitations = True, numbers: NumberStyle = "words"
) -> Callable[[str], str]:
    """A one-argument normaliser with fixed options, for :func:`~.wer.wer`."""
    return lambda text: normalize_pt(text, drop_hesitations=drop_hesitations, numbers=numbers)
