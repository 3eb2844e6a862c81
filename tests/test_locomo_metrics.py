"""Specification of the LoCoMo benchmark's evidence handling, metrics and data reading."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.locomo import data, metrics
from benchmarks.locomo.systems import Bm25Turns

ROOT = Path(__file__).resolve().parents[1]

VALID = {"D1:1", "D1:2", "D1:3", "D2:1", "D2:4", "D8:6", "D9:17", "D11:26"}


def test_evidence_with_several_ids_in_one_string_is_split() -> None:
    assert metrics.normalise_evidence(["D8:6; D9:17"], VALID) == (["D8:6", "D9:17"], [])
    assert metrics.normalise_evidence(["D1:3,D2:4"], VALID) == (["D1:3", "D2:4"], [])


def test_stray_colons_and_zero_padding_are_repaired() -> None:
    assert metrics.normalise_evidence(["D:11:26", "D1:03"], VALID) == (["D11:26", "D1:3"], [])


def test_ids_naming_no_turn_are_dropped_and_duplicates_kept_once() -> None:
    kept, dropped = metrics.normalise_evidence(["D", "D10:0", "D1:2", "D1:2", "D2:9", ""], VALID)
    assert (kept, dropped) == (["D1:2"], ["D", "D10:0", "D2:9"])


def test_turn_recall_is_the_fraction_of_gold_in_the_top_k() -> None:
    ranked = ["D1:1", "D2:1", "D1:3", "D2:4"]
    assert metrics.turn_recall(ranked, ["D1:3", "D2:4"], 3) == 0.5
    assert metrics.turn_recall(ranked, ["D1:3", "D2:4"], 4) == 1.0
    assert metrics.turn_recall([], ["D1:3"], 10) == 0.0


def test_session_recall_all_needs_every_gold_session_in_the_top_k() -> None:
    ranked = ["D1:1", "D3:2", "D3:5", "D4:1", "D5:1", "D2:7"]
    assert metrics.session_recall_all(ranked, ["D1:9", "D3:1"], 5) == 1.0
    assert metrics.session_recall_all(ranked, ["D1:9", "D2:7"], 5) == 0.0
    assert metrics.session_recall_all(ranked, ["D1:9", "D2:7"], 6) == 1.0


def test_metrics_refuse_a_question_without_gold() -> None:
    with pytest.raises(ValueError):
        metrics.turn_recall(["D1:1"], [], 5)
    with pytest.raises(ValueError):
        metrics.session_recall_all(["D1:1"], [], 5)


def test_system_summary_averages_per_question_and_per_category() -> None:
    rows = [
        metrics.Scored(1, ("D1:1", "D2:1"), ("D1:1", "D9:9")),
        metrics.Scored(4, ("D3:1",), ("D3:1",)),
        metrics.Scored(4, ("D4:1",), ()),
    ]
    assert metrics.summarise_system(rows, [1.0, 2.0, 3.0]) == {
        "n": 3,
        "turn_recall@5": 0.5,
        "turn_recall@10": 0.5,
        "session_recall_all@5": 0.3333,
        "recall_ms_p50": 2.0,
        "recall_ms_p95": 2.9,
        "per_category": {
            "1": {
                "n": 1,
                "turn_recall@5": 0.5,
                "turn_recall@10": 0.5,
                "session_recall_all@5": 0.0,
            },
            "4": {
                "n": 2,
                "turn_recall@5": 0.5,
                "turn_recall@10": 0.5,
                "session_recall_all@5": 0.5,
            },
        },
    }


def test_a_turn_is_speaker_and_text_plus_any_shared_image_caption() -> None:
    plain = {"speaker": "Mel", "dia_id": "D1:2", "text": "Hi!"}
    assert data.turn_text(plain) == "Mel: Hi!"
    shared = {**plain, "blip_caption": "a photo of a dog"}
    assert data.turn_text(shared) == "Mel: Hi! [shares a photo of a dog]"


def test_session_times_are_read_as_utc() -> None:
    assert data.parse_session_time("1:56 pm on 8 May, 2023") == dt.datetime(
        2023, 5, 8, 13, 56, tzinfo=dt.UTC
    )


def _tiny_locomo(path: Path) -> Path:
    conversation = {
        "speaker_a": "Ann",
        "speaker_b": "Bob",
        "session_1_date_time": "9:00 am on 1 June, 2023",
        "session_1": [
            {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a beagle named Biscuit."},
            {"speaker": "Bob", "dia_id": "D1:2", "text": "Lovely! I am learning the violin."},
        ],
        "session_2_date_time": "7:30 pm on 3 July, 2023",
        "session_2": [
            {"speaker": "Ann", "dia_id": "D2:1", "text": "Biscuit chewed my garden hose."},
            {"speaker": "Bob", "dia_id": "D2:2", "text": "My violin teacher moved to Oslo."},
        ],
        "session_3_date_time": "8:00 am on 9 July, 2023",
    }
    qa = [
        {"question": "What is Ann's dog called?", "answer": "Biscuit", "evidence": ["D1:1"],
         "category": 4},
        {"question": "What instrument does Bob play?", "answer": "violin",
         "evidence": ["D1:2; D2:2"], "category": 1},
        {"question": "Where did the teacher go?", "answer": "Oslo", "evidence": ["D9:9"],
         "category": 3},
        {"question": "Is Ann a cat person?", "adversarial_answer": "yes", "evidence": ["D1:1"],
         "category": 5},
    ]  # fmt: skip
    path.write_text(json.dumps([{"sample_id": "t-0", "conversation": conversation, "qa": qa}]))
    return path


def test_loading_keeps_turns_in_session_order_and_sets_questions_aside(tmp_path: Path) -> None:
    (conv,) = data.load_conversations(_tiny_locomo(tmp_path / "t.json"))
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D2:1", "D2:2"]
    assert conv.turns[2].valid_from == dt.datetime(2023, 7, 3, 19, 30, tzinfo=dt.UTC)
    assert [(q.index, q.category, q.gold) for q in conv.questions] == [
        (0, 4, ("D1:1",)),
        (1, 1, ("D1:2", "D2:2")),
    ]
    assert conv.skipped == [
        {"index": 2, "question": "Where did the teacher go?", "evidence": ["D9:9"]}
    ]


def test_bm25_baseline_finds_the_turn_sharing_the_question_words(tmp_path: Path) -> None:
    (conv,) = data.load_conversations(_tiny_locomo(tmp_path / "t.json"))
    bm25 = Bm25Turns(conv.turns)
    assert bm25.recall("where did the violin teacher move?", 10)[:2] == ["D2:2", "D1:2"]
    assert bm25.recall("zebra", 10) == []


def test_benchmark_writes_the_report_for_a_lexical_run(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.locomo",
            "--data",
            str(_tiny_locomo(tmp_path / "t.json")),
            "--out",
            str(out),
            "--systems",
            "bm25",
            "--work",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["n"] == 2
    assert report["skipped_no_valid_evidence"] == 1
    bm25 = report["systems"]["bm25"]
    assert set(bm25) >= {
        "turn_recall@5",
        "turn_recall@10",
        "session_recall_all@5",
        "recall_ms_p50",
        "recall_ms_p95",
        "per_category",
    }
    assert bm25["errors"] == []
    assert set(bm25["per_category"]) == {"1", "4"}
    assert report["per_question"][1]["raw_evidence"] == ["D1:2; D2:2"]
