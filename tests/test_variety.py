"""Portuguese variety identification (transcrevai.variety) on labelled sentences.

The labelled sets live in tests/data/variety/ (original sentences written for this project,
synthetic transcript-style text, not real transcripts; see docs/variety.md). train.tsv fits and
tunes everything (since round 3 it also holds the former heldout2/heldout3 rows, which earlier
rounds had already used for tuning). test.tsv is now a dev set: its misses were looked at while
the round-3 markers were written, so its figure is contaminated. heldout4.tsv is the clean
held-out set: written after round 3 by a separate writer who never saw the repository, the
training data or the classifier, and evaluated once per model, with nothing tuned on it since.
The floors below are the measured figures minus a small margin.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from transcrevai.types import VarietyResult
from transcrevai.variety import (
    INSUFFICIENT,
    LABELS,
    MODEL_PATH,
    evaluate_variety,
    identify,
    load_tsv,
)

DATA = Path(__file__).parent / "data" / "variety"
TRAIN = load_tsv(DATA / "train.tsv")
TEST = load_tsv(DATA / "test.tsv")  # dev set (contaminated in round 3)
HELDOUT4 = load_tsv(DATA / "heldout4.tsv")  # independent writer, evaluated once per model
HELD_OUT = {"test": TEST, "heldout4": HELDOUT4}
# Single-sentence accuracy measured with the final model (docs/variety.md); the floor is this
# minus 0.02. The 0.9 target is met on heldout4 (0.933), not on the test.tsv dev set (0.846).
MEASURED = {"test": 0.846, "heldout4": 0.933}
MIN_PER_LABEL = {"test": 26, "heldout4": 69}


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form, for the overlap check between sets."""
    return " ".join(re.sub(r"[^\w\s]", " ", _strip_accents(text.lower())).split())


def _whisper_style(text: str) -> str:
    """What a transcript without punctuation or capitals looks like."""
    return re.sub(r"[^\w\s-]", "", text).lower()


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Bom dia.", "Você viu o ônibus?", TEST[0][1], " ".join(t for _, t in TEST)],
)
def test_contract_types_and_ranges(text: str) -> None:
    r = identify(text)
    assert isinstance(r, VarietyResult)
    assert r.label in LABELS
    assert 0.0 <= r.confidence <= 1.0
    assert set(r.scores) == set(LABELS)
    assert all(0.0 <= p <= 1.0 for p in r.scores.values())
    assert sum(r.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(isinstance(e, str) and e for e in r.evidence)


@pytest.mark.parametrize("text", ["", "  \n ", "ok", "sim senhor", "123 456"])
def test_empty_or_too_short_text_defaults_to_br_with_low_confidence(text: str) -> None:
    r = identify(text)
    assert r.label == "pt-BR"
    assert r.confidence <= 0.4
    assert INSUFFICIENT in r.evidence


def test_short_text_with_a_marker_keeps_it_but_stays_unsure() -> None:
    r = identify("o autocarro")
    assert r.label == "pt-PT"
    assert r.confidence <= 0.4
    assert r.evidence[0] == INSUFFICIENT
    assert any("autocarro" in e for e in r.evidence)


@pytest.mark.parametrize(
    ("text", "label", "marker"),
    [
        (
            "Você viu que o ônibus atrasou de novo? A gente tá esperando faz meia hora.",
            "pt-BR",
            "ônibus",
        ),
        ("Me passa o celular que eu vou ligar pro meu chefe agora.", "pt-BR", "celular"),
        ("O usuário tem que cadastrar a senha na tela do aplicativo.", "pt-BR", "usuário"),
        (
            "Estou a fazer o jantar, liga-me quando chegares à estação de comboio.",
            "pt-PT",
            "comboio",
        ),
        ("Tu tens o meu telemóvel? Deixei-o ontem na casa de banho.", "pt-PT", "telemóvel"),
        ("A equipa do utilizador está a testar o ecrã novo.", "pt-PT", "ecrã"),
        (
            "Ya, o candongueiro estava bué cheio e o kota teve de esperar pelo próximo.",
            "pt-AF",
            "candongueiro",
        ),
        (
            "Apanhei o machimbombo em Maputo, estás a ver, e paguei vinte meticais.",
            "pt-AF",
            "machimbombo",
        ),
        ("Você estás a ver aquele prédio novo que fizeram no bairro?", "pt-AF", "você estás"),
        (
            "O projecto da nova centralidade foi apresentado ontem no Huambo.",
            "pt-AF",
            "centralidade",
        ),
        (
            "Na cidade da Praia a cachupa é o prato de domingo em todas as casas.",
            "pt-AF",
            "cachupa",
        ),
    ],
)
def test_clear_markers_per_variety(text: str, label: str, marker: str) -> None:
    r = identify(text)
    assert r.label == label, r
    assert r.confidence > 0.6
    assert any(marker in e for e in r.evidence), r.evidence


def test_clitic_placement_separates_br_from_pt() -> None:
    br = identify("Ele se chama Pedro e me disse que vem amanhã cedo.")
    pt = identify("Ele chama-se Pedro e disse-me que vem amanhã cedo.")
    assert br.label == "pt-BR" and pt.label == "pt-PT"
    assert any("proclisis" in e for e in br.evidence)
    assert any("enclisis" in e for e in pt.evidence)


def test_proclisis_after_negation_is_not_evidence_for_br() -> None:
    # pt-PT itself puts the clitic first after "não"/"que": that must not count as Brazilian.
    r = identify("Acho que ele não se lembra do que lhe disseram ontem.")
    assert not any("proclisis" in e for e in r.evidence)


def test_progressive_gerund_vs_a_infinitive() -> None:
    br = identify("Eles estão trabalhando no relatório desde cedo.")
    pt = identify("Eles estão a trabalhar no relatório desde cedo.")
    assert br.scores["pt-BR"] > br.scores["pt-PT"]
    assert pt.scores["pt-PT"] > pt.scores["pt-BR"]


def test_accent_spelling_differences() -> None:
    br = identify("O Antônio estudou engenharia econômica em outra cidade.")
    pt = identify("O António estudou engenharia económica noutra cidade.")
    assert br.label == "pt-BR"
    assert pt.scores["pt-BR"] < 0.05


@pytest.mark.parametrize(
    ("text", "fires", "favoured"),
    [
        ("Toda a gente sabe que isto vai acabar mal.", "toda a gente", "pt-PT"),
        ("Estou a te ligar desde manhã, porque não atendes?", "estou a te ligar", "pt-AF"),
        ("Vivi três anos na Beira e gostei muito.", "na beira", "pt-AF"),
        ("A fuba subiu outra vez no mercado.", "fuba", "pt-AF"),
        ("Comprei fubá para fazer o bolo.", "fubá", "pt-BR"),
        ("Faz dois anos que a gente mora aqui.", "faz dois anos", "pt-BR"),
        ("Vivo nesta rua há cinco anos.", "há cinco anos", "pt-PT"),
        ("Precisamos de rever o contrato.", "precisamos de rever", "pt-PT"),
        ("A gente precisa rever o contrato.", "precisa rever", "pt-BR"),
        ("A acta da reunião tem de ser assinada.", "acta", "pt-AF"),
        ("O sinal caiu, vocês estão me ouvindo?", "estão me ouvindo", "pt-BR"),
        ("Eu vi ela saindo do mercado.", "vi ela", "pt-BR"),
        ("Não esquece de trazer o crachá amanhã.", "esquece de", "pt-BR"),
        ("O reajuste sai na semana que vem.", "reajuste", "pt-BR"),
        ("Foram dezesseis bilhões de reais.", "dezesseis", "pt-BR"),
        ("Foram dezasseis mil milhões de euros.", "dezasseis", "pt-PT"),
        ("Olha, não te preocupes com isso.", "preocupes", "pt-PT"),
        ("Tens a certeza de que fechaste a porta?", "tens a certeza", "pt-PT"),
        (
            "A empresa vai despedir cinquenta trabalhadores.",
            "despedir cinquenta trabalhadores",
            "pt-PT",
        ),
        ("O planeamento da obra atrasou.", "planeamento", "pt-PT"),
        ("Ele lhe encontrou no mercado.", "lhe encontrou", "pt-AF"),
        ("Passámos três dias no óbito da tia.", "no óbito", "pt-AF"),
        ("O madala ficou na machamba.", "madala", "pt-AF"),
    ],
)
def test_usage_and_spelling_markers(text: str, fires: str, favoured: str) -> None:
    hits = [e for e in identify(text).evidence if f"'{fires}'" in e]
    assert hits and hits[0].endswith(f"-> {favoured})"), identify(text).evidence


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Toda a gente sabe que isto vai acabar mal.", "'a gente'"),
        ("A casa fica na beira da estrada.", "beira"),
        ("O resultado ficou abaixo do esperado.", "abaixo"),
        ("Ela leva tudo ao pé da letra.", "ao pé"),
        ("O fubá está caro.", "Angola"),
        ("Comprei facas novas para a cozinha.", "verb form"),  # not "faças"
        ("As compras e as voltas que demos cansaram.", "verb form"),
        ("Espero que ele mantenha a calma.", "Mozambique"),
        ("A região enfrenta uma seca histórica.", "seca"),  # drought, not "a bore"
        ("Ela organizou a festa de despedida.", "despedid"),
        ("O óbito foi confirmado e a certidão de óbito já saiu.", "óbito"),
        ("Ele veio de fato e gravata.", "'de fato'"),  # pt-PT suit, not pt-BR "in fact"
        ("A casa tem uma sala e um quarto.", "quarto"),
        ("Vamos lá jantar hoje.", "exhortation"),
        ("Ela espera lá fora.", "espera lá"),
        ("O Banco Central Europeu subiu os juros.", "banco central"),
        ("Não se esqueça de trazer o documento.", "esquec"),
        ("Ele fez uma fala que ninguém entendeu.", "fala que"),
        ("Ele lhe encontrou no mercado.", "proclisis"),  # lhe as object, not BR proclisis
    ],
)
def test_markers_do_not_fire_on_lookalikes(text: str, absent: str) -> None:
    assert not any(absent in e for e in identify(text).evidence), identify(text).evidence


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("EU PEGUEI O ÔNIBUS E CHEGUEI ATRASADO NO TRABALHO", "pt-BR"),
        ("eu peguei o onibus e cheguei atrasado no trabalho", "pt-BR"),
        ("tomei cafe da manha na padaria e fui de onibus", "pt-BR"),
        ("APANHEI O AUTOCARRO E ESQUECI-ME DO TELEMÓVEL", "pt-PT"),
        ("apanhei o autocarro e esqueci-me do telemovel", "pt-PT"),
        ("tomei o pequeno almoco e fui a casa de banho", "pt-PT"),
        ("O CANDONGUEIRO PAROU NO MUSSEQUE", "pt-AF"),
        ("paguei cem meticais no chapa ate a baixa de maputo", "pt-AF"),
    ],
)
def test_upper_case_and_missing_accents(text: str, label: str) -> None:
    assert identify(text).label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        (
            "então gente a gente vai começar a reunião agora porque o marcos ainda tá no trânsito "
            "você sabe como é né",
            "pt-BR",
        ),
        (
            "bom dia a todos vamos começar a reunião que o rui ainda está a estacionar o carro "
            "tu sabes como é aquilo",
            "pt-PT",
        ),
        ("ya o kota disse que o candongueiro já não passa no cazenga por causa das obras", "pt-AF"),
    ],
)
def test_whisper_style_transcripts(text: str, label: str) -> None:
    assert identify(text).label == label


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_unchanged_by_case_whisper_style_or_missing_accents(name: str) -> None:
    items = HELD_OUT[name]
    base, _ = evaluate_variety(items)
    upper, _ = evaluate_variety([(lab, t.upper()) for lab, t in items])
    whisper, _ = evaluate_variety([(lab, _whisper_style(t)) for lab, t in items])
    no_accents, _ = evaluate_variety([(lab, _strip_accents(t)) for lab, t in items])
    assert upper == base
    assert whisper >= base - 0.03
    assert no_accents >= base - 0.03


def test_splits_are_disjoint_and_big_enough() -> None:
    """No sentence occurs in two sets, even up to case, accents and punctuation (one heldout4
    sentence that was also in train.tsv was dropped when the set was added)."""
    seen = {_fold(t) for _, t in TRAIN}
    for lab in LABELS:
        assert sum(1 for g, _ in TRAIN if g == lab) >= 340
    for name, items in HELD_OUT.items():
        for lab in LABELS:
            assert sum(1 for g, _ in items if g == lab) >= MIN_PER_LABEL[name]
        texts = [_fold(t) for _, t in items]
        assert len(set(texts)) == len(texts)
        assert not set(texts) & seen
        seen |= set(texts)


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_sentence_accuracy_floor(name: str) -> None:
    """Single sentences. heldout4 (clean): 0.933 measured (195/209), so the 0.9 target is met;
    its misses are mostly pt-PT read as pt-BR (5) and pt-AF read as pt-PT (6). test.tsv (dev,
    contaminated): 0.846; half its misses are sentences with no marker at all (decided by the
    word n-grams and the priors, near chance), the rest mostly African sentences in
    European-norm Portuguese (read as pt-PT)."""
    acc, confusion = evaluate_variety(HELD_OUT[name])
    assert acc >= MEASURED[name] - 0.02, confusion
    for lab in LABELS:  # no variety collapses into another
        assert confusion[lab][lab] >= 0.6 * sum(confusion[lab].values()), confusion


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_three_sentence_transcripts_reach_target(name: str) -> None:
    """Transcripts are longer than one sentence: three consecutive held-out sentences of one
    variety joined, full groups only (measured: heldout4 0.986, 68/69; test.tsv 1.0, 24/24)."""
    groups = []
    for lab in LABELS:
        texts = [t for g, t in HELD_OUT[name] if g == lab]
        groups += [(lab, " ".join(texts[i : i + 3])) for i in range(0, len(texts) - 2, 3)]
    acc, confusion = evaluate_variety(groups)
    assert acc >= 0.9, confusion


def test_confident_predictions_are_right() -> None:
    """Measured on test.tsv + heldout4 (287 sentences): confidence >= 0.8 on 227, 0.974 right
    (test.tsv 54/58, heldout4 167/169); >= 0.95 on 194 (41 + 153), all right."""
    items = [item for rows in HELD_OUT.values() for item in rows]
    confident = [(g, t) for g, t in items if identify(t).confidence >= 0.8]
    acc, _ = evaluate_variety(confident)
    assert len(confident) >= len(items) // 2
    assert acc >= 0.9
    very = [(g, t) for g, t in items if identify(t).confidence >= 0.95]
    acc, _ = evaluate_variety(very)
    assert len(very) >= len(items) // 3
    assert acc >= 0.97


def test_sentence_without_marker_is_not_forced_to_a_default() -> None:
    """No marker: the n-grams and the learnt priors decide, with a middling confidence."""
    texts = [
        "A reunião começa às dez horas.",
        "O presidente falou com os jornalistas ontem à tarde.",
        "Ela comprou um vestido novo para a festa.",
    ]
    results = [identify(t) for t in texts]
    assert all(r.confidence < 0.7 for r in results)
    assert all(len(r.evidence) == 1 and r.evidence[0].startswith("word n-grams") for r in results)
    assert {r.label for r in results} != {"pt-BR"}


def test_evaluate_variety_counts() -> None:
    items = [
        ("pt-BR", "Cadê o ônibus?"),
        ("pt-PT", "Onde está o autocarro?"),
        ("pt-AF", "Onde está o autocarro?"),
    ]
    acc, confusion = evaluate_variety(items)
    assert acc == pytest.approx(2 / 3)
    assert confusion == {
        "pt-BR": {"pt-BR": 1, "pt-PT": 0, "pt-AF": 0},
        "pt-PT": {"pt-BR": 0, "pt-PT": 1, "pt-AF": 0},
        "pt-AF": {"pt-BR": 0, "pt-PT": 1, "pt-AF": 0},
    }
    with pytest.raises(ValueError):
        evaluate_variety([("pt-XX", "texto")])
    assert evaluate_variety([])[0] == 0.0


def test_long_transcript_is_sampled_and_still_labelled() -> None:
    pt = [t for g, t in TEST if g == "pt-PT"]
    r = identify(" ".join(pt * 40))  # ~100 k characters
    assert r.label == "pt-PT"
    assert r.confidence > 0.9


def test_fitted_model_file_matches_training_split() -> None:
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert MODEL_PATH.stat().st_size < 1_000_000
    assert model["train_sha256"] == hashlib.sha256((DATA / "train.tsv").read_bytes()).hexdigest()
    assert sorted(model["classes"]) == sorted(LABELS)
    assert len(model["stack_coef"]) == 3 and all(len(row) == 6 for row in model["stack_coef"])
    assert len(model["coef"]) > 1000
    # each label's own marker score must push towards that label
    assert all(model["stack_coef"][i][i] > 1.0 for i in range(3))


@pytest.mark.slow
def test_training_script_reproduces_the_model(tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, str(root / "scripts" / "train_variety.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=root,
    )
    assert json.loads(out.read_text()) == json.loads(MODEL_PATH.read_text())
