"""GE2E speaker encoder: torch-free checkpoint reading, preprocessing, and real-voice separation."""

from __future__ import annotations

import io
import pickle
import pickletools
import struct
import zipfile
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from transcrevai.diarization import ge2e
from transcrevai.diarization.ge2e import GE2EEncoder, find_weights
from transcrevai.diarization.torch_checkpoint import load_checkpoint
from transcrevai.errors import ModelError

MLS = Path(__file__).resolve().parents[1] / ".." / "shared" / "audio" / "mls-pt"


def _weights() -> Path:
    try:
        return find_weights()
    except ModelError:
        pytest.skip("Resemblyzer is not installed (pip install --no-deps Resemblyzer==0.1.4)")


@pytest.fixture(scope="module")
def enc() -> GE2EEncoder:
    _weights()  # skips when Resemblyzer is absent
    return GE2EEncoder.load()  # None: finds the installed weights itself


@pytest.fixture(scope="module")
def mls() -> dict[str, list[np.ndarray]]:
    if not MLS.is_dir():
        pytest.skip(f"real voices not found at {MLS}")
    out = {}
    for d in sorted(p for p in MLS.iterdir() if p.is_dir()):
        out[d.name] = [sf.read(f, dtype="float32")[0] for f in sorted(d.glob("*.wav"))]
    return out


def test_checkpoint_weights_load() -> None:
    ckpt = load_checkpoint(_weights())
    state = ckpt["model_state"]
    assert ckpt["step"] == 1564501
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    for k in range(3):
        assert state[f"lstm.weight_hh_l{k}"].shape == (1024, 256)
        assert state[f"lstm.bias_ih_l{k}"].dtype == np.float32
    assert state["linear.weight"].shape == (256, 256)
    assert np.isfinite(state["linear.weight"]).all() and state["linear.weight"].std() > 0.01


def test_reader_refuses_code_in_pickle(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    # A protocol-2 pickle that would call os.system("true") if its global were resolved.
    evil.write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
    with pytest.raises(ModelError, match="os.system"):
        load_checkpoint(evil)
    with pytest.raises(ModelError, match="not found"):
        GE2EEncoder.load(tmp_path / "missing.pt")


def _legacy_to_zip(legacy: Path, out: Path) -> None:
    """Rewrite the legacy stream as torch's zip layout (data.pkl + data/<key>)."""
    f = io.BytesIO(legacy.read_bytes())
    for _ in range(3):  # magic, protocol, sys_info
        for _op in pickletools.genops(f):
            pass
    start = f.tell()
    for _op in pickletools.genops(f):
        pass
    main = f.getvalue()[start : f.tell()]
    keys = pickle.Unpickler(f).load()  # a list of str; this is the trusted installed file
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", main)
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            zf.writestr(f"archive/data/{key}", f.read(numel * 4))  # all FloatStorage


def test_zip_layout_reads_same_tensors(tmp_path: Path) -> None:
    legacy = _weights()
    _legacy_to_zip(legacy, tmp_path / "zipped.pt")
    a = load_checkpoint(legacy)["model_state"]
    b = load_checkpoint(tmp_path / "zipped.pt")["model_state"]
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_mel_matches_resemblyzer_call(enc: GE2EEncoder, mls: dict) -> None:
    wav = next(iter(mls.values()))[0][:24000] * 0.05  # quiet: volume normalisation must act
    ref_in = ge2e._normalize_volume(wav)
    rms_db = 20 * np.log10(np.sqrt(np.mean((ref_in * 32767.0) ** 2)) / 32767.0)
    assert abs(rms_db - ge2e.TARGET_DBFS) < 0.01
    ref = (
        librosa.feature.melspectrogram(y=ref_in, sr=16000, n_fft=400, hop_length=160, n_mels=40)
        .astype(np.float32)
        .T
    )
    ours = enc.mel_frames(wav)
    assert ours.shape == (151, 40)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_embeddings_shape_norm_determinism(enc: GE2EEncoder, mls: dict) -> None:
    clip = next(iter(mls.values()))[1]
    windows = [clip[:24000], clip[24000:27200], clip[:80000], clip[30000:54000], clip[:100]]
    emb = enc.embed_windows(windows)
    assert emb.shape == (5, 256) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert (emb >= 0).all()  # ReLU before the norm
    np.testing.assert_array_equal(enc.embed_windows(windows), emb)
    # Batching with other lengths must not change a window's embedding.
    alone = enc.embed_windows([windows[1]])[0]
    np.testing.assert_allclose(alone, emb[1], atol=1e-5)
    # A 5 s window (501 frames) is the normalised mean of its 160-frame partials:
    # starts 0, 77, 154, 231, 308 and one aligned to the end (341).
    parts = enc.embed_partials(windows[2])
    assert len(parts) == 6
    mean = parts.mean(axis=0)
    np.testing.assert_allclose(emb[2], mean / np.linalg.norm(mean), atol=1e-5)
    # Other sample rates are resampled to 16 kHz first.
    at44k = librosa.resample(windows[0], orig_sr=16000, target_sr=44100)
    assert float(enc.embed_windows([at44k], sr=44100)[0] @ emb[0]) > 0.99
    with pytest.raises(ValueError):
        enc.embed_windows([np.zeros(0, dtype=np.float32)])


def test_separates_real_speakers(enc: GE2EEncoder, mls: dict) -> None:
    """Enroll each voice on 4 clips, identify 1.5 s windows of its 2 held-out clips."""
    assert len(mls) >= 10
    size = 24000
    centroids, tests, labels = [], [], []
    for k, clips in enumerate(mls.values()):
        enrol = [c[s : s + size] for c in clips[:4] for s in range(0, len(c) - size + 1, 2 * size)]
        e = enc.embed_windows(enrol).mean(axis=0)
        centroids.append(e / np.linalg.norm(e))
        held = [c[s : s + size] for c in clips[4:] for s in range(0, len(c) - size + 1, size)]
        tests.append(enc.embed_windows(held))
        labels += [k] * len(held)
    emb, lab = np.concatenate(tests), np.array(labels)
    accuracy = float(((emb @ np.array(centroids).T).argmax(axis=1) == lab).mean())
    sim = emb @ emb.T
    same = lab[:, None] == lab[None, :]
    np.fill_diagonal(same, False)
    gap = sim[same].mean() - sim[lab[:, None] != lab[None, :]].mean()
    print(
        f"GE2E on {len(mls)} real voices: accuracy {accuracy:.3f} over {len(lab)} windows, "
        f"same-minus-different cosine {gap:.3f}"
    )
    assert gap > 0.1
    assert accuracy >= 0.8  # chance is 0.1
