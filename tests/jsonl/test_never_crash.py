"""Mutated real exports: readers report issues or raise GroundtruthError, never anything else."""

from __future__ import annotations

import copy
import json
import random

import pytest

import groundtruth as gt
from groundtruth.errors import GroundtruthError

JUNK = [None, 1, -5, 1.5, "x", "", [], {}, [1], [[1, 2]], {"a": 1}, True, 10**12, [["a"]], "😀"]
FILES = {
    "labelstudio": ["labelstudio_image_rect_poly_keypoint_export.json",
                    "labelstudio_text_ner_export.3tasks.json"],
    "prodigy": ["prodigy_news_headlines_ner.first150.jsonl",
                "prodigy_github_issues_textcat.first300.jsonl"],
    "doccano": ["doccano_relation_extraction_example.jsonl", "doccano_multileg_en_216087.jsonl"],
    "preference": ["hh_rlhf_harmless_base_test.first200.jsonl"],
}


def mutate(rng, obj):
    if isinstance(obj, dict) and obj:
        k = rng.choice(list(obj))
        r = rng.random()
        if r < 0.3:
            obj[k] = copy.deepcopy(rng.choice(JUNK))
        elif r < 0.4:
            del obj[k]
        else:
            mutate(rng, obj[k])
    elif isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        if rng.random() < 0.3:
            obj[i] = copy.deepcopy(rng.choice(JUNK))
        else:
            mutate(rng, obj[i])


@pytest.mark.parametrize("seed", range(4))
def test_mutated_exports_never_crash(jsonl_data, tmp_path, seed):
    rng = random.Random(seed)
    for fmt, names in FILES.items():
        name = rng.choice(names)
        raw = (jsonl_data / name).read_bytes()
        if name.endswith(".json"):
            data = json.loads(raw)
            for _ in range(rng.randint(5, 30)):
                mutate(rng, data)
            out = json.dumps(data).encode()
        else:
            lines = [json.loads(line) for line in raw.splitlines()[:25]]
            for _ in range(rng.randint(5, 30)):
                mutate(rng, rng.choice(lines))
            out = b"\n".join(json.dumps(line).encode() for line in lines)
        path = tmp_path / f"{fmt}-{seed}{'.json' if name.endswith('.json') else '.jsonl'}"
        path.write_bytes(out)
        try:
            ds = gt.load(str(path), format=fmt)
            gt.save(ds, str(tmp_path / f"back-{path.name}"), format=fmt)
            gt.export(ds, tmp_path / f"{fmt}-{seed}-ner.jsonl", task="ner")
        except GroundtruthError:
            pass


def test_duplicate_ids_are_renamed_and_reported(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_bytes(b'{"id": 5, "text": "a", "label": []}\n{"id": 5, "text": "b", "label": []}\n')
    ds = gt.load(str(p), format="doccano")
    assert [it.id for it in ds.items] == ["5", "5~2"]
    assert [(i.code, i.location.line) for i in ds.issues] == [("json.record.duplicate-id", 2)]
    q = tmp_path / "ls.json"
    q.write_bytes(b'[{"id": 1, "data": {"text": "a"}}, {"id": 1, "data": {"text": "b"}}]')
    ds = gt.load(str(q), format="labelstudio")
    assert [it.id for it in ds.items] == ["1", "1~1"]
    assert [(i.code, i.location.path) for i in ds.issues] == [("json.record.duplicate-id",
                                                                "$[1].id")]
