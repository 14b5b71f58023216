"""Portuguese number words: spell integers/decimals/ordinals and parse spelled numbers back.

Scoring needs both directions with one vocabulary: a reference may say "duzentos e sessenta
e seis" where the recogniser wrote "266", or "dezasseis" (pt-PT) where it wrote "dezesseis"
(pt-BR). Parsing every spelled number to a value and re-spelling it in one canonical form
unifies all of these. ``num2words`` spells correctly (checked: its pt_BR output equals
:func:`spell_int` apart from the commas it puts between groups) but cannot parse, and the
parser needs these tables anyway, so both directions live here.

Canonical spelling (what :func:`spell_int` emits): Brazilian forms ``dezesseis``,
``dezessete``, ``dezenove``, ``catorze``; masculine (``um``, ``dois``, ``duzentos``); the
conjunction "e" inside each group below 1000 ("cento e vinte e três"), before a group
below 100 ("dois mil e vinte", "dois milhões e nove mil e um") and before a last group that
is a whole hundred ("mil e cem", "um milhão e duzentos mil"), not otherwise ("mil
novecentos e noventa e nove"), as the grammars and ``num2words`` do. Range: 0..999 999 999.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_INT = 999_999_999
_MAX_FRACTION_AS_NUMBER = 3

_UNITS = ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"]
_TEENS = [
    "dez",
    "onze",
    "doze",
    "treze",
    "catorze",
    "quinze",
    "dezesseis",
    "dezessete",
    "dezoito",
    "dezenove",
]
_TENS = [
    "",
    "",
    "vinte",
    "trinta",
    "quarenta",
    "cinquenta",
    "sessenta",
    "setenta",
    "oitenta",
    "noventa",
]
_HUNDREDS = [
    "",
    "cento",
    "duzentos",
    "trezentos",
    "quatrocentos",
    "quinhentos",
    "seiscentos",
    "setecentos",
    "oitocentos",
    "novecentos",
]

_ORD_UNITS = [
    "",
    "primeiro",
    "segundo",
    "terceiro",
    "quarto",
    "quinto",
    "sexto",
    "sétimo",
    "oitavo",
    "nono",
]
_ORD_TENS = [
    "",
    "décimo",
    "vigésimo",
    "trigésimo",
    "quadragésimo",
    "quinquagésimo",
    "sexagésimo",
    "septuagésimo",
    "octogésimo",
    "nonagésimo",
]
_ORD_HUNDREDS = [
    "",
    "centésimo",
    "ducentésimo",
    "trecentésimo",
    "quadringentésimo",
    "quingentésimo",
    "sexcentésimo",
    "septingentésimo",
    "octingentésimo",
    "nongentésimo",
]

# Parsing vocabulary: canonical forms plus pt-PT, feminine, old and unaccented spellings.
_UNIT_WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
_UNIT_WORDS.update({"uma": 1, "duas": 2, "tres": 3})
_TEEN_WORDS: dict[str, int] = {w: 10 + i for i, w in enumerate(_TEENS)}
_TEEN_WORDS.update(
    {"quatorze": 14, "dezasseis": 16, "dezesete": 17, "dezassete": 17, "dezanove": 19}
)
_TEN_WORDS: dict[str, int] = {w: 10 * i for i, w in enumerate(_TENS) if w}
_TEN_WORDS.update({"cinqüenta": 50, "cincoenta": 50})
_HUNDRED_WORDS: dict[str, int] = {w: 100 * i for i, w in enumerate(_HUNDREDS) if w}
_HUNDRED_WORDS.update({w[:-2] + "as": 100 * i for i, w in enumerate(_HUNDREDS) if i >= 2})
_HUNDRED_WORDS["cem"] = 100
_THOUSAND = {"mil"}
_MILLION = {"milhão", "milhões", "milhao", "milhoes"}
_DECIMAL_SEP = {"vírgula", "virgula"}
# Words that count as a number on their own only inside a longer number ("um carro").
_ARTICLE_LIKE = {"um", "uma"}


def _spell_below_1000(n: int) -> str:
    if n == 100:
        return "cem"
    parts: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(_HUNDREDS[hundreds])
    if 10 <= rest < 20:
        parts.append(_TEENS[rest - 10])
    else:
        tens, units = divmod(rest, 10)
        if tens:
            parts.append(_TENS[tens])
        if units:
            parts.append(_UNITS[units])
    return " e ".join(parts)


def spell_int(n: int) -> str:
    """Canonical Portuguese words for 0 <= n <= 999 999 999 (ValueError outside)."""
    if not 0 <= n <= MAX_INT:
        raise ValueError(f"{n} is outside 0..{MAX_INT}")
    if n == 0:
        return "zero"
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    groups: list[tuple[int, str]] = []
    if millions:
        words = "um milhão" if millions == 1 else f"{_spell_below_1000(millions)} milhões"
        groups.append((millions, words))
    if thousands:
        words = "mil" if thousands == 1 else f"{_spell_below_1000(thousands)} mil"
        groups.append((thousands, words))
    if units:
        groups.append((units, _spell_below_1000(units)))
    text = groups[0][1]
    for k, (value, words) in enumerate(groups[1:], start=1):
        last = k == len(groups) - 1
        text += " e " if value < 100 or (last and value % 100 == 0) else " "
        text += words
    return text


def spell_decimal(digits: str) -> str:
    """Words for "3,5" / "12,05" / "3,14159": integer part, "vírgula", then the fraction.

    A fraction of up to three digits is read as a number after its leading zeros ("doze
    vírgula zero cinco", "três vírgula catorze"); a longer one digit by digit ("três vírgula
    um quatro um cinco nove"), as people read it.
    """
    whole, _, frac = digits.partition(",")
    words = [spell_int(int(whole))]
    if frac:
        words.append("vírgula")
        if len(frac) > _MAX_FRACTION_AS_NUMBER:
            words.extend(_UNITS[int(d)] for d in frac)
        else:
            stripped = frac.lstrip("0")
            words.extend(["zero"] * (len(frac) - len(stripped)))
            if stripped:
                words.append(spell_int(int(stripped)))
    return " ".join(words)


def _parse_fraction(tokens: Sequence[str], k: int) -> tuple[str, int] | None:
    """Digits after "vírgula": a run of two or more digit words, else zeros + a number < 1000."""
    run = k
    while run < len(tokens) and tokens[run] in _UNIT_WORDS:
        run += 1
    if run - k >= 2:
        return "".join(str(_UNIT_WORDS[t]) for t in tokens[k:run]), run
    zeros = 0
    while k < len(tokens) and tokens[k] == "zero":
        zeros, k = zeros + 1, k + 1
    group = _parse_below_1000(tokens, k, allow_digits=False)
    if group is not None and group[0] == 0:
        group = None
    if not zeros and group is None:
        return None
    return "0" * zeros + (str(group[0]) if group else ""), group[1] if group else k


def spell_ordinal(n: int, feminine: bool = False) -> str:
    """Ordinal words for 1..1000 ("vigésimo primeiro", "segunda"); ValueError outside."""
    if not 1 <= n <= 1000:
        raise ValueError(f"ordinal {n} is outside 1..1000")
    if n == 1000:
        words = ["milésimo"]
    else:
        hundreds, rest = divmod(n, 100)
        tens, units = divmod(rest, 10)
        words = [w for w in (_ORD_HUNDREDS[hundreds], _ORD_TENS[tens], _ORD_UNITS[units]) if w]
    if feminine:
        words = [w[:-1] + "a" for w in words]
    return " ".join(words)


def _digit_value(token: str) -> int | None:
    return int(token) if token.isdecimal() and len(token) <= 9 else None


def _parse_below_1000(
    tokens: Sequence[str], i: int, allow_digits: bool = True
) -> tuple[int, int] | None:
    """Parse one group below 1000 starting at ``i``; returns (value, next index)."""
    n = len(tokens)
    if i >= n:
        return None
    digit = _digit_value(tokens[i])
    if digit is not None:
        return (digit, i + 1) if allow_digits and digit < 1000 else None
    tok = tokens[i]
    value, j = 0, i

    def joined(k: int, table: dict[str, int]) -> bool:
        return k + 1 < n and tokens[k] == "e" and tokens[k + 1] in table

    if tok in _HUNDRED_WORDS:
        value, j = _HUNDRED_WORDS[tok], i + 1
        continues = any(joined(j, t) for t in (_TEN_WORDS, _TEEN_WORDS, _UNIT_WORDS))
        if continues and tokens[j + 1] == "zero":
            continues = False
        if tok == "cento" and not continues:
            return None  # "por cento": a bare "cento" is not a number
        if tok == "cem" or not continues:
            return value, j
        j += 1
    if tokens[j] in _TEN_WORDS:
        value += _TEN_WORDS[tokens[j]]
        j += 1
        if joined(j, _UNIT_WORDS) and tokens[j + 1] != "zero":
            value += _UNIT_WORDS[tokens[j + 1]]
            j += 2
        return value, j
    if tokens[j] in _TEEN_WORDS:
        return value + _TEEN_WORDS[tokens[j]], j + 1
    if tokens[j] in _UNIT_WORDS and not (value and tokens[j] == "zero"):
        return value + _UNIT_WORDS[tokens[j]], j + 1
    return (value, j) if j > i else None


def _parse_integer(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """Parse the longest integer (up to millions) starting at ``i``.

    A digit token may only open a number ("3 mil"), and a group followed by a scale word
    at least as large as the one just read starts the next number ("um milhão dois milhões").
    """
    n = len(tokens)
    total, j, found = 0, i, False

    def next_start() -> int:
        return j + 1 if found and j < n and tokens[j] == "e" else j

    for scale, words in ((1_000_000, _MILLION), (1000, _THOUSAND)):
        start = next_start()
        group = _parse_below_1000(tokens, start, allow_digits=not found)
        after = tokens[group[1]] if group is not None and group[1] < n else ""
        if group is not None and after in words and group[0] > 0:
            total += group[0] * scale
            j, found = group[1] + 1, True
        elif group is not None and after in _MILLION:
            return (total, j) if found else None
        elif scale == 1000 and start < n and tokens[start] in _THOUSAND:
            total += 1000
            j, found = start + 1, True
    start = next_start()
    group = _parse_below_1000(tokens, start, allow_digits=not found)
    after = tokens[group[1]] if group is not None and group[1] < n else ""
    if group is not None and after not in _THOUSAND | _MILLION and not (found and not group[0]):
        total += group[0]
        j, found = group[1], True
    return (total, j) if found else None


def parse_number(tokens: Sequence[str], i: int) -> tuple[str, int] | None:
    """Parse a spelled (or digit, or mixed "3 mil") number at ``tokens[i]``.

    Returns the value as a digit string ("266", "3,5") and the index after it, or None when
    no number starts there. A lone "um"/"uma" is not a number (it is mostly the article).
    """
    parsed = _parse_integer(tokens, i)
    if parsed is None:
        return None
    value, j = parsed
    if j == i + 1 and tokens[i] in _ARTICLE_LIKE:
        return None
    text = str(value)
    if j + 1 < len(tokens) and tokens[j] in _DECIMAL_SEP:
        fraction = _parse_fraction(tokens, j + 1)
        if fraction is not None:
            text += "," + fraction[0]
            j = fraction[1]
    return text, j
