"""Camunda 7's example diagrams (camunda/camunda-bpm-examples, Apache-2.0), deployed as a designer
migrating from Camunda would: each through POST /api/v1/definitions, with the files its example deploys
beside it (a called process, its Camunda forms). EXPECTED.tsv says what each must do; at least 45 of
the 54 deploy, and every refusal names the feature it is refused for. tests/data/camunda-bpm-examples/
README.md says how the 54 were chosen. Nothing is downloaded.
"""
import csv
import io
import re
from pathlib import Path

import pytest

from engine import services
from tests.support.web import assert_error

EXAMPLES = Path(__file__).parent.parent / "data" / "camunda-bpm-examples"
with (EXAMPLES / "EXPECTED.tsv").open(encoding="utf-8") as _table:
    EXPECTED = {row["path"]: row for row in csv.DictReader(_table, delimiter="\t")}


def test_the_54_diagrams_are_here_and_45_of_them_deploy():
    assert sorted(EXPECTED) == sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.bpmn"))
    assert len(EXPECTED) == 54
    assert sum(row["outcome"] == "deploys" for row in EXPECTED.values()) >= 45
    assert (EXAMPLES / "LICENSE").is_file() and (EXAMPLES / "NOTICE").is_file()


def _upload(path: str) -> dict:
    row = EXPECTED[path]
    together = [path, *row["deployed_with"].split()]
    return {"file": [(io.BytesIO((EXAMPLES / p).read_bytes()), p.rsplit("/", 1)[-1])
                     for p in together if p.endswith(".bpmn")],
            "forms": [(io.BytesIO((EXAMPLES / p).read_bytes()), p.rsplit("/", 1)[-1])
                      for p in together if p.endswith(".form")]}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_example_deploys_or_is_refused_naming_the_feature(duban_sqlite, as_, path):
    before = services.list_definitions(duban_sqlite)
    response = as_("designer").post("/api/v1/definitions", data=_upload(path), content_type="multipart/form-data")
    if EXPECTED[path]["outcome"] == "deploys":
        assert response.status_code == 201, response.get_json()
        deployed = response.get_json()
        for process in deployed["processes"]:
            for warning in process["warnings"]:  # what will not run as in Camunda is said, in Chinese
                assert re.search("[\u4e00-\u9fff]", warning["message"]), warning
        assert services.definition_xml(duban_sqlite, deployed["key"])
        return
    refused = assert_error(response, 422, "deployment_invalid")
    assert EXPECTED[path]["message_names"] in " | ".join(d["message"] for d in refused["details"]), refused
    assert all(d["element"] or d["line"] for d in refused["details"]), refused["details"]
    assert services.list_definitions(duban_sqlite) == before  # a refused upload changes nothing
