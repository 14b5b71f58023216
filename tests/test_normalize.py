"""Portuguese scoring normalisation: every documented rule, pt-BR and pt-PT spellings."""

from __future__ import annotations

import random

import pytest

from transcrevai.evaluation.normalize import make_normalizer, normalize_pt
from transcrevai.evaluation.numbers_pt import parse_number, spell_int, spell_ordinal


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (14, "catorze"),
        (16, "dezesseis"),
        (19, "dezenove"),
        (100, "cem"),
        (101, "cento e um"),
        (266, "duzentos e sessenta e seis"),
        (1000, "mil"),
        (1100, "mil e cem"),
        (1999, "mil novecentos e noventa e nove"),
        (2020, "dois mil e vinte"),
        (100_000, "cem mil"),
        (1_000_000, "um milhão"),
        (1_200_000, "um milhão e duzentos mil"),
        (2_009_001, "dois milhões e nove mil e um"),
        (
            999_999_999,
            "novecentos e noventa e nove milhões novecentos e noventa e nove mil "
            "novecentos e noventa e nove",
        ),
    ],
)
def test_spell_int(n: int, words: str) -> None:
    assert spell_int(n) == words


def test_spell_int_range() -> None:
    with pytest.raises(ValueError):
        spell_int(1_000_000_000)
    with pytest.raises(ValueError):
        spell_int(-1)


def test_parse_inverts_spell_on_a_sample() -> None:
    rng = random.Random(7)
    values = list(range(2, 2100)) + [rng.randrange(1_000_000_000) for _ in range(3000)]
    for n in values:
        tokens = spell_int(n).split()
        assert parse_number(tokens, 0) == (str(n), len(tokens)), n


@pytest.mark.parametrize(
    ("n", "feminine", "words"),
    [
        (1, False, "primeiro"),
        (2, True, "segunda"),
        (21, False, "vigésimo primeiro"),
        (400, False, "quadringentésimo"),
        (1000, True, "milésima"),
    ],
)
def test_spell_ordinal(n: int, feminine: bool, words: str) -> None:
    assert spell_ordinal(n, feminine) == words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case, NFC (E + combining acute), punctuation, hyphens and apostrophes
        ("E\u0301 VERDADE!", "é verdade"),
        (
            "Acredita-se que o guarda-chuva, o copo d'água...",
            "acredita se que o guarda chuva o copo d água",
        ),
        # annotations
        ("[Música] Bom dia (risos) a todos <unk>", "bom dia a todos"),
        # abbreviations
        (
            "O Sr. Presidente e a Sra. Deputada; Srs. e Sras.",
            "o senhor presidente e a senhora deputada senhores e senhoras",
        ),
        (
            "Dr. João, Dra. Maria, Prof. Rui, Profa. Ana, prof.ª Eva",
            "doutor joão doutora maria professor rui professora ana professora eva",
        ),
        (
            "Peço a V.Exa. e a V. Ex.ª, etc.",
            "peço a vossa excelência e a vossa excelência et cetera",
        ),
        ("século III a.C. e 3 d. C.", "século três antes de cristo e três depois de cristo"),
        ("nº 5, n.º 6 e art. 107", "número cinco número seis e artigo cento e sete"),
        # units, currency, time, percent, ordinals, degrees
        (
            "10 km, 1 km, 120 km/h, 5kg",
            "dez quilômetros um quilômetro cento e vinte quilômetros por hora cinco quilos",
        ),
        ("são dezasseis quilómetros", "são dezesseis quilômetros"),
        (
            "R$ 1.200,50 e US$ 3 e 2 €",
            "mil e duzentos reais e cinquenta centavos e três dólares e dois euros",
        ),
        ("R$ 5 mil e R$ 2 milhões", "cinco mil reais e dois milhões de reais"),
        ("às 10h30 e à 1h", "às dez horas e trinta e à um hora"),
        ("12% e 12 % e doze por cento", "doze por cento e doze por cento e doze por cento"),
        ("o 1º lugar e a 2.ª volta", "o primeiro lugar e a segunda volta"),
        ("30°C e 30°", "trinta graus celsius e trinta graus"),
        # digit grouping and decimals
        (
            "1.188 votos e 6.235,5 reais",
            "mil cento e oitenta e oito votos e seis mil duzentos e "
            "trinta e cinco vírgula cinco reais",
        ),
        ("3.5 e 3,5 e 12,05", "três vírgula cinco e três vírgula cinco e doze vírgula zero cinco"),
        ("agente 007", "agente zero zero sete"),
        ("1234567890", "1234567890"),
        # pt-PT and pt-BR spellings meet
        ("dezanove dezasseis dezassete quatorze", "dezenove dezesseis dezessete catorze"),
        ("duas casas, duzentas pessoas, trinta e uma", "dois casas duzentos pessoas trinta e um"),
        ("uma casa, 1 casa", "um casa um casa"),
        ("século XIX, século civil", "século dezenove século civil"),
    ],
)
def test_normalize_words(text: str, expected: str) -> None:
    assert normalize_pt(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nestor pestana duzentos e sessenta e seis", "nestor pestana 266"),
        ("dois mil e vinte e três, dois mil vinte e três, 2023", "2023 2023 2023"),
        (
            "um milhão, 2 milhões, dois milhões, 3 mil, três mil",
            "1000000 2000000 2000000 3000 3000",
        ),
        ("três vírgula cinco, zero vírgula zero cinco", "3,5 0,05"),
        ("dois e três", "2 e 3"),
        ("cem por cento", "100 por cento"),
        ("mil e uma noites", "1001 noites"),
        ("um carro e uma casa", "um carro e um casa"),
        ("agente 007", "agente 007"),
    ],
)
def test_normalize_digits(text: str, expected: str) -> None:
    assert normalize_pt(text, numbers="digits") == expected


def test_words_and_digits_forms_meet_in_both_modes() -> None:
    pairs = [
        ("Construída no século 3 a.c.", "construída no século III a.C."),
        ("nestor pestana duzentos e sessenta e seis", "Nestor Pestana, 266."),
        ("ele estava na casa dos 20 anos", "Ele estava na casa dos vinte anos."),
        ("dezasseis vírgula cinco por cento", "16,5%"),
    ]
    for mode in ("words", "digits"):
        norm = make_normalizer(numbers=mode)  # type: ignore[arg-type]
        for a, b in pairs:
            assert norm(a) == norm(b), (mode, a, b)


def test_hesitations_default_keeps_the_verb() -> None:
    text = "Hã, ahn, eu acho que é... é isso, né? Hmmm, uhum. É, tá bom. éé"
    assert normalize_pt(text) == "eu acho que é isso né é tá bom"
    assert normalize_pt("é é é eu acho") == "é é é eu acho"


def test_hesitations_aggressive_and_off() -> None:
    text = "É, é é eu acho que é isso, hum"
    assert normalize_pt(text, drop_hesitations="aggressive") == "eu acho que é isso"
    assert normalize_pt(text, drop_hesitations=False) == "é é é eu acho que é isso hum"
    assert normalize_pt("hã é... bom", drop_hesitations=False) == "hã é bom"


def test_bad_number_style_is_rejected() -> None:
    with pytest.raises(ValueError):
        normalize_pt("um", numbers="roman")  # type: ignore[arg-type]


def test_docstring_examples_hold() -> None:
    assert normalize_pt("O Sr. Silva pagou R$ 1.200,50 — é... uns 12% a mais!") == (
        "o senhor silva pagou mil e duzentos reais e cinquenta centavos uns doze por cento a mais"
    )
    assert normalize_pt("Hmm, são dezasseis quilómetros até à 2.ª rotunda") == (
        "são dezesseis quilômetros até à segunda rotunda"
    )


def test_numbers_stop_at_punctuation_and_long_fractions_read_digit_by_digit() -> None:
    assert normalize_pt("mil, cinco", numbers="digits") == "1000 5"
    assert normalize_pt("mil e cinco", numbers="digits") == "1005"
    assert normalize_pt("3,14159") == "três vírgula um quatro um cinco nove"
    assert normalize_pt("três vírgula um quatro um cinco nove", numbers="digits") == "3,14159"
    assert normalize_pt("três vírgula catorze", numbers="digits") == "3,14"
