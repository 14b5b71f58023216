"""Manifest loaders: every supported layout on tiny fixtures, errors, and the real manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from transcrevai.errors import InvalidRequestError
from transcrevai.evaluation.loaders import ManifestItem, load_manifest, normalize_variety

SOURCE = Path(__file__).parent / "data" / "eval"
# audio files of the fixtures are made at test time (no audio is kept in git); the loaders
# only need them to exist, so a few silent samples each are enough
AUDIO = [
    "generic/audio/a.wav",
    "generic/audio/b.wav",
    "coraa/train/alip/ALIP_1.wav",
    "coraa/train/nurc/SP_2.wav",
    "cv/clips/common_voice_pt_1.mp3",
    "cv/clips/common_voice_pt_2.mp3",
    "folder/sp1/falante1.wav",
    "folder/sp2/falante2.flac",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np
    import soundfile as sf

    root = tmp_path_factory.mktemp("eval-fixtures") / "eval"
    shutil.copytree(SOURCE, root)
    for rel in AUDIO:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.zeros(1600, dtype=np.float32), 16000)
    return root


SHARED_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "audio"


def test_generic_csv_resolves_relative_paths_and_optional_columns(data: Path) -> None:
    items = load_manifest(data / "generic" / "manifest.csv")
    assert items == [
        ManifestItem(
            (data / "generic" / "audio" / "a.wav").resolve(),
            "Olá, mundo: isto é um teste",
            "ana",
            "pt-BR",
        ),
        ManifestItem(
            (data / "generic" / "audio" / "b.wav").resolve(), "bom dia a todos", None, "pt-PT"
        ),
    ]
    assert load_manifest(data / "generic") == items  # a folder holding manifest.csv


def test_generic_tsv(data: Path) -> None:
    items = load_manifest(data / "generic" / "tabbed.tsv")
    assert [(i.audio_path.name, i.reference, i.speaker) for i in items] == [
        ("a.wav", "olá mundo", None)
    ]


def test_coraa_metadata(data: Path) -> None:
    items = load_manifest(data / "coraa" / "metadata_test_final.csv")
    assert [i.audio_path.relative_to((data / "coraa").resolve()).as_posix() for i in items] == [
        "train/alip/ALIP_1.wav",
        "train/nurc/SP_2.wav",
    ]
    assert items[0].reference == "e eu fui pra lá né, com dezesseis anos"
    assert {i.variety for i in items} == {"pt-BR"}


def test_common_voice_tsv_reads_clips_folder_speaker_and_accent(data: Path) -> None:
    items = load_manifest(data / "cv" / "test.tsv")
    assert [i.audio_path.parent.name for i in items] == ["clips", "clips"]
    assert [i.reference for i in items] == ['O "Brasil" é grande.', "Lisboa fica em Portugal."]
    assert [i.speaker for i in items] == ["abc123", "def456"]
    assert [i.variety for i in items] == ["pt-BR", "pt-PT"]


def test_folder_of_audio_with_same_stem_transcripts(data: Path) -> None:
    items = load_manifest(data / "folder")
    assert [(i.audio_path.name, i.reference) for i in items] == [
        ("falante1.wav", "a gravação do primeiro falante"),
        ("falante2.flac", "segunda gravação"),
    ]


def test_folder_with_audio_lacking_transcripts_lists_them(data: Path, tmp_path: Path) -> None:
    shutil.copytree(data / "folder", tmp_path / "corpus")
    (tmp_path / "corpus" / "sp2" / "falante2.txt").unlink()
    shutil.copy(data / "generic" / "audio" / "a.wav", tmp_path / "corpus" / "solto.wav")
    with pytest.raises(InvalidRequestError) as err:
        load_manifest(tmp_path / "corpus")
    assert "2 transcript(s)" in err.value.message
    assert "sp2/falante2.txt" in err.value.message and "solto.txt" in err.value.message


def test_missing_column_is_named(data: Path) -> None:
    with pytest.raises(InvalidRequestError) as err:
        load_manifest(data / "generic" / "missing_column.csv")
    assert "audio_path, reference_text" in err.value.message
    assert "audio, transcript" in err.value.message


def test_missing_audio_files_are_all_listed(data: Path) -> None:
    with pytest.raises(InvalidRequestError) as err:
        load_manifest(data / "generic" / "missing_files.csv")
    message = err.value.message
    assert message.startswith("2 audio file(s)")
    assert "audio/nao_existe_1.wav" in message and "audio/nao_existe_2.wav" in message
    assert str(data) not in message  # relative, never the machine's layout
    assert len(load_manifest(data / "generic" / "missing_files.csv", check_files=False)) == 3


def test_absent_manifest_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError):
        load_manifest(tmp_path / "nope.csv")
    with pytest.raises(InvalidRequestError, match="no audio"):
        load_manifest(tmp_path)


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("pt_br", "pt-BR"),
        ("PT-PT", "pt-PT"),
        ("Português de Portugal", "pt-PT"),
        ("Angola", "pt-AF"),
        ("pt", None),
        ("", None),
        ("Brasil, Portugal", None),
        ("galego", "galego"),
    ],
)
def test_normalize_variety(raw: str, label: str | None) -> None:
    assert normalize_variety(raw) == label


@pytest.mark.skipif(
    not (SHARED_AUDIO / "manifest.csv").is_file(),
    reason="../shared/audio/manifest.csv absent (real test audio not mounted)",
)
def test_real_shared_manifest() -> None:
    items = load_manifest(SHARED_AUDIO / "manifest.csv")
    assert len(items) == 38
    assert all(i.audio_path.is_file() for i in items)
    assert all(i.reference for i in items)
    assert {i.variety for i in items} == {"pt-BR"}
    laps = [i for i in items if i.audio_path.name == "LapsBM_0415.wav"]
    assert laps[0].reference == "nestor pestana duzentos e sessenta e seis região central"
    assert laps[0].speaker == "lapsbm-LapsBM_0415"
    # the same FLEURS files read as a folder of same-stem transcripts agree with the manifest
    folder = {i.audio_path: i.reference for i in load_manifest(SHARED_AUDIO / "fleurs-ptbr")}
    assert len(folder) == 10
    assert all(folder[i.audio_path] == i.reference for i in items if i.audio_path in folder)
