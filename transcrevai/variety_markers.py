"""Hand-written, weighted markers of pt-BR, pt-PT and African Portuguese (pt-AF).

This is the documented half of ``transcrevai.variety``: every marker is a regex with a weight
per label (pt-BR, pt-PT, pt-AF), so a decision can always be traced to the words that fired.
Grammar markers (pronouns, verb forms, progressive, clitics, spelling rules) are regexes here;
the word lists live in transcrevai/data/variety_markers.json. Patterns are written with accents
for readability; unless ``accented`` is set they are folded (accents and cedillas removed) and
matched on folded text, so ASR output without accents ("onibus", "telemovel") still fires them.
Spelling markers that live in the accents ("econômico"/"económico") are ``accented``.
Sources per group: docs/variety.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Weights = tuple[float, float, float]  # (pt-BR, pt-PT, pt-AF)
LEXICON_PATH = Path(__file__).parent / "data" / "variety_markers.json"

# Words that, right before a proclitic pronoun, make proclisis normal in pt-PT too
# (negation, subordinators, some adverbs), so proclisis after them says nothing about variety.
PROCLISIS_TRIGGERS = frozenset(
    "que não nunca já também só ainda quando se porque como onde quem sempre talvez bem mal "
    "até nem tudo todos ninguém alguém qual quanto logo cá lá aqui assim".split()
)


@dataclass(frozen=True)
class Marker:
    """One regex marker; ``weights`` are added to (pt-BR, pt-PT, pt-AF) when it matches."""

    group: str
    pattern: str
    weights: Weights
    accented: bool = False
    not_after: frozenset[str] = frozenset()
    items: tuple[str, ...] = ()  # word-list markers keep their items (token lookup)
    per_token: bool = False  # pattern is matched against each distinct word, not the text
    exclude: frozenset[str] = frozenset()  # whole (hyphenated) words that never count


_COMBINING = re.compile("[\u0300-\u036f]")  # the combining diacritics Portuguese uses
_OTHER_COMBINING = re.compile("[\u0483-\u0489\u0591-\u05c7\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]")


def strip_accents(text: str) -> str:
    """Remove accents and cedillas, keeping the length so match spans map back to the text."""
    stripped = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    if len(stripped) == len(text) and not _OTHER_COMBINING.search(stripped):
        return stripped
    return "".join(_strip_char(ch) for ch in text)


def _strip_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def fold(text: str) -> str:
    """Lower-case and strip accents: the form ASR output without accents also has."""
    return strip_accents(text.lower())


def _alt(items: tuple[str, ...]) -> str:
    # A space or hyphen inside a lexical item also matches the other (ASR drops hyphens).
    gaps = {" ": r"[-\s]+", "-": r"[-\s]?"}
    return "|".join(re.sub(r"[ -]", lambda g: gaps[g.group()], i) for i in items)


def w(group: str, weights: Weights, *items: str, accented: bool = False) -> Marker:
    """A whole-word alternation of regex fragments."""
    return Marker(group, rf"\b(?:{_alt(items)})\b", weights, accented, items=items)


_GERUND_AUX = (
    "estou|está|estamos|estão|estava|estávamos|estavam|estive|esteve|estar|estiver|esteja|"
    "estiverem|estivesse|estivessem|estejam|estivemos|estiveram|"
    "tô|tá|tamo|tava|tavam|fica|fico|fiquei|ficou|ficamos|ficaram|ficava|ficar|vai|vou|vem|anda|"
    "ando|andava|segue|continua"
)
_NOT_GERUND = (
    "quando|mundo|segundo|fundo|lindo|redondo|profundo|tremendo|horrendo|estupendo|brando|"
    "comando|bando|hediondo|oriundo|imundo|fecundo|nefando"
)
_A_INF_AUX = (
    "estou|estás|está|estamos|estão|estava|estavas|estávamos|estavam|estive|esteve|estiveram|"
    "estar|estiver|esteja|tou|tás|tá|tava|ando|andas|anda|andamos|andam|andava|andavam|fica|"
    "fico|fiquei|ficas|ficou|ficaram|ficamos|ficava"
)
_A_INF_ADV = "mesmo|sempre|todos|todas|ainda|já|só|agora|lá|cá|bem"  # "estou mesmo a precisar"
_SUBJ = "eu|ele|ela|você|vocês|a gente|nós|eles|elas"
_CLITIC = "me|te|se|nos|lhe|lhes"
_TU_VERBS = (
    "tens|queres|podes|sabes|vais|vens|fazes|dizes|achas|gostas|consegues|lembras|andas|ficas|"
    "chegas|foste|fizeste|disseste|tiveste|estiveste|pudeste|quiseste|trouxeste|soubeste|"
    "comeste|percebeste|esqueceste|recebeste|conheceste|viste|ouviste|pediste|conseguiste|"
    "chegares|puderes|quiseres|tiveres|fizeres|estiveres|vieres|souberes|"
    # more present indicative forms, then the present subjunctive of negative imperatives
    # ("não te preocupes", "não digas"); forms that are also common nouns or adjectives
    # ("falas", "compras", "voltas", "precisas", "leves") are left out
    "esqueces|preocupas|pensas|vives|trabalhas|ouves|entendes|conheces|deves|trazes|estudas|"
    "preocupes|esqueças|digas|venhas|tenhas|sejas|fiques|deixes|mexas|percas|ponhas|queiras|"
    "possas|saibas|estejas|vejas|oiças|ouças|chegues|ligues|voltes|comeces|tragas|esperes"
)
_TU_VERBS_ACCENTED = "estás|tás|és|dás|vês|saíres|saíste|pões|faças|vás"
_NOT_ASTE = "contraste|haste|traste|gaste|baste|arraste|desgaste|afaste|engaste"
_NOT_RES = (  # plurals ending like a 2sg future subjunctive / personal infinitive
    "lugares|milhares|militares|populares|familiares|bares|mares|colares|altares|pilares|lares|"
    "dólares|celulares|titulares|escolares|alimentares|regulares|particulares|similares|"
    "exemplares|solares|mulheres|prazeres|deveres|poderes|saberes|talheres|afazeres|colheres"
)
_ENCLITIC = "me|te|se|lhe|lhes|nos|vos|o|a|os|as|lo|la|los|las|no|na"
_GO = "fui|foi|fomos|foram|vou|vai|vamos|vão|ir|vem|veio|chegou|cheguei|chegamos"
_PLACES = (
    "mercado|médico|banco|shopping|supermercado|açougue|talho|farmácia|padaria|praia|cinema|"
    "centro|hospital|escola|feira|dentista|igreja|casa d[aeo]s?|festa|escritório|trabalho"
)

_LHE_DO_VERBS = (  # transitive verbs: "lhe" before them is a direct object
    "vi|viu|vimos|conheço|conheci|conhece|encontrei|encontrou|encontro|chamei|chamou|"
    "levei|levou|ajudei|ajudou|espero|esperei|visitei|vejo|cumprimentei|avisei|bati|"
    "bateu|bateram|convidei|convidou|prenderam|prendeu|procurei|procurou|acompanhei|"
    "acompanhou|respeito|respeitam|amo|adoro|chamaram|encontraram|viram|levaram|"
    "deixei|deixou|insultou|insultaram"
)

GRAMMAR: tuple[Marker, ...] = (
    # --- pronouns of address and their verb agreement -------------------------------------
    Marker("verb form", rf"\b(?:{_TU_VERBS})\b", (0.1, 1.0, 0.9)),
    Marker("verb form", rf"\b(?:{_TU_VERBS_ACCENTED})\b", (0.1, 1.0, 0.9), accented=True),
    Marker(
        "verb form",
        r"[a-z]+aste",
        (0.1, 1.0, 0.9),
        per_token=True,
        exclude=frozenset(_NOT_ASTE.split("|")),
    ),
    Marker(
        "verb form",
        r"\b(?:se|quando|enquanto|caso|só|que|assim que|logo que|depois de|"
        rf"antes de|até|para) (?!(?:{_NOT_RES})\b)[a-z]+(?:ares|eres|ires)\b",
        (0.1, 1.0, 0.9),
    ),
    Marker(
        "pronoun+verb",
        r"\btu (?:vai|tá|ta|quer|tem|sabe|pode|foi|fez|viu|acha|gosta|vem|faz)\b",
        (1.2, 0.0, 0.3),
    ),
    Marker("pronoun+verb", rf"\bvocê (?:{_TU_VERBS}|estás|tás|és)\b", (0.0, 0.0, 2.5)),
    Marker("possessive", r"\b(?:vosso|vossa|vossos|vossas)\b", (0.0, 1.0, 0.8)),
    Marker("possessive", r"\bde vocês\b", (0.5, 0.1, 0.2)),
    # --- progressive: gerund (BR) vs "a" + infinitive (PT/AF) ---------------------------------
    Marker(
        "progressive",
        rf"\b(?:{_GERUND_AUX}) (?!(?:{_NOT_GERUND})\b)[a-z]*(?:ando|endo|indo|"
        r"ondo)\b",
        (1.5, 0.2, 0.3),
    ),
    Marker(
        "progressive",
        rf"\b(?:{_A_INF_AUX}) (?:(?:{_A_INF_ADV}) )?a (?!(?:par|lugar|mar|bar|favor)\b)"
        r"[a-z]*(?:ar|er|ir|or)\b",
        (0.0, 1.5, 1.2),
    ),
    # "estou a te ligar": proclisis inside the a + infinitive progressive (Angola, Mozambique;
    # pt-PT has "a ligar-te", pt-BR "te ligando")
    Marker(
        "progressive+proclisis",
        rf"\b(?:{_A_INF_AUX}) a (?:me|te|lhe|nos|lhes) [a-z]+(?:ar|er|ir)\b",
        (0.0, 0.1, 1.5),
    ),
    Marker("pronoun", r"\ba gente\b", (1.0, 0.2, 0.4), not_after=frozenset({"toda"})),
    Marker(
        "modal",
        r"\b(?:tenho|tens|tem|temos|tinha|tinhas|tinhamos|tinham|ter|tera|teria|"
        r"tive|teve|tivemos|tiveram) de [a-z]+(?:ar|er|ir|or)\b",
        (0.1, 0.7, 0.6),
    ),
    # --- clitic placement ------------------------------------------------------------------------
    Marker(
        "enclisis", rf"[a-zç]-(?:{_ENCLITIC})\b", (0.15, 1.0, 0.8), exclude=frozenset({"trata-se"})
    ),
    Marker(
        "proclisis",
        r"(?:^|[.!?…]\s*)(?:(?:me|te|nos|lhe) [a-z]+|se (?:chama|trata|chamava)\b)",
        (1.5, 0.0, 0.5),
    ),
    Marker(
        "proclisis",
        rf"\b(?:{_SUBJ}) (?!lhe (?:{_LHE_DO_VERBS})\b)(?:me|te|se|lhe|lhes) [a-z]+",
        (1.2, 0.0, 0.6),
        not_after=PROCLISIS_TRIGGERS,
    ),
    Marker(
        "proclisis",
        r"\b(?:vou|vai|vamos|vao|pode|posso|quer|quero|queria|deve|devo|preciso|"
        rf"precisa|consegue) (?:{_CLITIC}) [a-z]+(?:ar|er|ir|or)\b",
        (1.2, 0.0, 0.6),
    ),
    Marker(
        "proclisis",
        r"\bme (?:da|passa|fala|diz|ajuda|empresta|traz|avisa|liga|manda|espera|"
        r"chama|deixa|explica|conta|mostra)\b",
        (1.0, 0.0, 0.4),
        not_after=PROCLISIS_TRIGGERS,
    ),
    Marker(
        "lhe as object",
        rf"\blhe (?:{_LHE_DO_VERBS})\b",
        (0.3, 0.0, 1.3),
    ),
    Marker(
        "proclisis+tu",
        rf"(?:^|[.!?…]\s*)(?:me|te|nos|lhe) (?:{_TU_VERBS}|estás|dás)\b",
        (0.0, 0.2, 1.5),
    ),
    Marker(
        "proclisis+tu",
        rf"\btu (?:me|te|nos|lhe) (?:{_TU_VERBS}|estás|dás)\b",
        (0.0, 0.2, 1.5),
        not_after=PROCLISIS_TRIGGERS,
    ),
    # "estão me ouvindo": proclisis inside the gerund progressive (pt-BR; pt-PT "estão a
    # ouvir-me"; Angolan "estão a me ouvir" is the a + infinitive marker above)
    Marker(
        "progressive+proclisis",
        rf"\b(?:{_GERUND_AUX}) (?:me|te|se|nos|lhe|lhes) (?!(?:{_NOT_GERUND})\b)[a-z]*"
        r"(?:ando|endo|indo)\b",
        (1.5, 0.0, 0.2),
    ),
    # "vi ele", "deixou ela": the subject pronoun as direct object (pt-BR colloquial; pt-PT and
    # written pt-AF "vi-o", "deixou-a")
    Marker(
        "ele as object",
        r"\b(?:vi|viu|vimos|viram|conheci|conheceu|encontrei|encontrou|chamei|chamou|levei|"
        r"levou|ajudei|ajudou|deixei|deixou|peguei|pegou|mandei|mandou|convidei|convidou|"
        r"avisei|avisou|esperei|ver|chamar|levar|ajudar|deixar|buscar|pegar|encontrar|"
        r"convidar|avisar|conhecer) (?:ele|ela|eles|elas)\b(?! (?:mesm|própri))",
        (1.2, 0.0, 0.4),
    ),
    # "esquece de trazer": esquecer de without the reflexive (pt-BR; pt-PT "esquecer-se de",
    # "não te esqueças de"); "não se esqueça de" is shared and does not count
    Marker(
        "esquecer de",
        r"\b(?:esquece|esqueça|esquecer|esquecendo|esquecemos|esqueceram) de\b",
        (1.2, 0.0, 0.2),
        not_after=frozenset({"se", "te", "me", "nos"}),
    ),
    # "vamos lá começar": vamos lá + infinitive as an exhortation (pt-PT; pt-BR "vamos começar")
    Marker(
        "exhortation",
        r"\bvamos lá (?:começar|despachar|tratar|resolver|acabar|pensar|organizar|arrumar|"
        r"terminar|ver se)\b",
        (0.1, 0.8, 0.5),
    ),
    # ter a certeza (pt-PT/pt-AF) vs ter certeza (pt-BR)
    Marker(
        "usage",
        r"\b(?:tens|tem|tenho|temos|têm|tinha|tinhas|tínhamos|ter|teres) a certeza\b",
        (0.1, 0.9, 0.7),
    ),
    Marker(
        "usage",
        r"\b(?:tem|tenho|temos|têm|tinha|tínhamos|ter) certeza\b",
        (0.9, 0.0, 0.2),
    ),
    # sentence-initial article + possessive (pt-PT/pt-AF; pt-BR often drops the article)
    Marker(
        "possessive",
        r"(?:^|[.!?]\s*)(?:o|a|os|as) (?:meu|minha|meus|minhas|nosso|nossa|nossos|nossas) [a-z]+",
        (0.0, 0.35, 0.35),
    ),
    # "Aí ele falou": aí as a narrative connective (pt-BR colloquial)
    Marker(
        "discourse",
        r"(?:^|[.!?,]\s*)aí (?:eu|ele|ela|a gente|eles|elas|você|vocês)\b",
        (0.9, 0.1, 0.2),
    ),
    # falar = dizer before a clause: "ele falou que" (pt-BR; pt-PT and pt-AF "disse que")
    Marker(
        "usage",
        r"\b(?:falou|falei|falaram|falamos|falava|falavam|fala) que\b",
        (0.8, 0.0, 0.2),
        not_after=frozenset("a uma sua essa esta na da minha cada".split()),
    ),
    Marker("discourse", r"\bo que que\b", (1.0, 0.0, 0.1)),
    Marker("discourse", r"(?:^|[.!?]\s*)gente[,!]|, gente[.!?,]", (0.9, 0.0, 0.1)),
    # --- spelling (accents live in the spelling, so these are matched unfolded) ----------------
    Marker(
        "spelling", r"\w*[êô][mn][aeiouáéíóú]\w*", (1.5, 0.0, 0.0), accented=True, per_token=True
    ),
    Marker(
        "spelling", r"\w*[éó][mn][aeiouáéíóú]\w*", (0.0, 1.2, 1.0), accented=True, per_token=True
    ),
    Marker("spelling", r"\w+ámos", (0.0, 1.0, 0.8), accented=True, per_token=True),
    Marker("spelling (pre-1990)", r"\bfim-de-semana\b", (0.0, 0.6, 1.0)),
    Marker("contraction", r"\bem (?:um|uma|uns|umas)\b", (0.8, 0.0, 0.2)),
    Marker("contraction", r"\b(?:num|numa|nuns|numas)\b", (0.1, 0.3, 0.3)),
    # --- sentence-level constructions -------------------------------------------------------------
    Marker(
        "existential",
        r"(?:^|[.!?]\s*)há (?:um|uma|uns|umas|muita|muitos|muitas|imensa|"
        r"imensos|pouca|poucos|alguém|gente|quem)\b",
        (0.1, 0.6, 0.5),
        accented=True,
    ),
    Marker(
        "existential",
        r"(?:^|[.!?]\s*)tem (?:um|uma|uns|umas|muita|muito|muitos|muitas|"
        r"gente|alguém)\b",
        (0.8, 0.0, 0.1),
    ),
    Marker("discourse", r"(?:^|[.!?]\s*)pronto,", (0.0, 0.8, 0.5)),
    Marker("discourse", r"(?:^|[.!?]\s*)nossa[,!]", (1.0, 0.0, 0.0)),
    Marker("possessive", r"(?:^|[.!?]\s*)(?:meu|minha|meus|minhas) [a-z]+", (0.6, 0.0, 0.0)),
    Marker("vocative", r"(?:^|[.!?,]\s*)ó [a-zà-ú]+", (0.1, 0.8, 0.5), accented=True),
)


def load_lexicon(path: Path = LEXICON_PATH) -> tuple[Marker, ...]:
    """The word-list markers from the JSON lexicon (weights in pt-BR, pt-PT, pt-AF order)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data["weights_order"] != ["pt-BR", "pt-PT", "pt-AF"]:
        raise ValueError(f"{path}: unexpected weights_order {data['weights_order']}")
    return tuple(
        w(g["group"], tuple(g["weights"]), *g["items"], accented=bool(g.get("accented", False)))
        for g in data["groups"]
    )


@dataclass(frozen=True)
class CompiledMarker:
    """A marker ready to match: literal words go through a token lookup (fast), the rest
    through ``regex``, which only runs when one of ``needs`` occurs (None: always)."""

    marker: Marker
    regex: re.Pattern[str] | None
    blockers: frozenset[str] = frozenset()  # folded ``not_after`` words
    words: frozenset[str] = frozenset()
    needs: frozenset[str] | None = None
    word_start: bool = False  # the pattern began with \b: checked on each match instead
    sentence_start: bool = False  # began with (?:^|[.!?]\s*): run on ". " + text instead


_SENTENCE_START = re.compile(r"\(\?:\^\|(\[[^\]]+\]\\s\*)\)")


def _regex(pattern: str) -> tuple[re.Pattern[str], bool, bool]:
    # A leading \b or ^-alternative stops the regex engine's fast prefix scan (~100x slower
    # here), so they are rewritten: \b is checked per match, ^ becomes a ". " sentinel.
    if pattern.startswith(r"\b"):
        return re.compile(pattern[2:]), True, False
    start = _SENTENCE_START.match(pattern)
    if start:
        return re.compile(start.group(1) + pattern[start.end() :]), False, True
    return re.compile(pattern), False, False


_LITERAL = re.compile(r"[^\W\d_]+(?:s\?)?")
_FIRST_WORD = re.compile(r"([^\W\d_]+)(s\?)?(?:[ -]|\\b|\(\?[=!]|$)")
_FIRST_GROUP = re.compile(r"\(\?:([^\W\d_ |]+(?:[ |][^\W\d_ |]+)*)\)[ -]")


_PLAIN = re.compile(r"([^\W\d_]+)(?:\\b.*|\(\?[=!].*)?")


def _top_level_words(branch: str) -> list[str]:
    """``branch`` split at the spaces outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(branch + " "):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == " " and not depth:
            parts.append(branch[start:i])
            start = i + 1
    return parts


def _first_words(alt: str) -> set[str] | None:
    """Words one of which every match of ``alt`` contains (so the regex only needs running
    when one occurs); None when that cannot be read off the pattern."""
    out: set[str] = set()
    depth, start = 0, 0
    for i, ch in enumerate(alt + "|"):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch != "|" or depth:
            continue
        branch, start = alt[start:i], i + 1
        required = [w.group(1) for w in map(_PLAIN.fullmatch, _top_level_words(branch)) if w]
        word, group = _FIRST_WORD.match(branch), _FIRST_GROUP.match(branch)
        if required:  # the longest word every match must contain: a rare one gates best
            out.add(max(required, key=len))
        elif word:  # "word ...", "words? ..."
            out.update({word.group(1), word.group(1) + "s"} if word.group(2) else {word.group(1)})
        elif group:
            out.update(a.split()[0] for a in group.group(1).split("|"))
        else:
            return None
    return out


def _compile_lexical(m: Marker) -> CompiledMarker:
    norm = (lambda t: t) if m.accented else strip_accents
    words: set[str] = set()
    rest: list[str] = []
    needs: set[str] | None = set()
    for item in m.items:
        alts = item.split("|") if "(" not in item else [item]
        for alt in alts:
            if _LITERAL.fullmatch(alt):
                base = alt.removesuffix("s?")
                words.update({norm(base), norm(base + "s")} if alt.endswith("s?") else {norm(alt)})
                continue
            rest.append(alt)
            first = _first_words(alt)
            if first is None:
                needs = None
            elif needs is not None:
                needs.update(norm(f) for f in first)
    if not rest:
        return CompiledMarker(m, None, words=frozenset(words))
    regex, word_start, _ = _regex(norm(rf"\b(?:{_alt(tuple(rest))})\b"))
    return CompiledMarker(
        m,
        regex,
        words=frozenset(words),
        needs=None if needs is None else frozenset(needs),
        word_start=word_start,
    )


_LEADING_WORDS = re.compile(r"\\b\(\?:([^()\[\]\\?*+{}]+)\)( |\\b$)|\\b([^\W\d_]+) ")


def _gate(pattern: str, norm: Callable[[str], str]) -> tuple[frozenset[str], frozenset[str] | None]:
    """(words, needs) for a grammar pattern: a bare word list becomes a token lookup; a pattern
    that starts with literal words only needs running when one of them occurs."""
    lead = _LEADING_WORDS.match(pattern)
    if lead is None:
        return frozenset(), None
    alts = lead.group(1).split("|") if lead.group(1) else [lead.group(3)]
    if lead.group(2) and lead.group(2) != " ":
        return frozenset(norm(a) for a in alts), None
    return frozenset(), frozenset(norm(a.split()[0]) for a in alts)


def compile_markers(markers: tuple[Marker, ...] | None = None) -> tuple[CompiledMarker, ...]:
    """Compile grammar + lexicon markers (by default), folding each unless it is accented."""
    out = []
    for m in GRAMMAR + load_lexicon() if markers is None else markers:
        if m.items:
            out.append(_compile_lexical(m))
            continue
        pattern = m.pattern if m.accented else strip_accents(m.pattern)
        blockers = frozenset(fold(t) for t in m.not_after)
        if m.per_token:
            out.append(CompiledMarker(m, re.compile(pattern), blockers))
            continue
        words, needs = _gate(pattern, (lambda t: t) if m.accented else strip_accents)
        if words and not m.not_after:
            out.append(CompiledMarker(m, None, words=words))
            continue
        regex, word_start, sentence_start = _regex(pattern)
        out.append(
            CompiledMarker(
                m,
                regex,
                blockers,
                needs=needs,
                word_start=word_start,
                sentence_start=sentence_start,
            )
        )
    return tuple(out)
