"""Loading dictionaries 术语集加载: the project CSV (idempotent, audited) and MedDRA ASCII files."""

import pytest
from django.core.management import CommandError, call_command

from yaojian.adr.models import AdrReaction, ReactionSynonym, ReactionTerm
from yaojian.casework import coding
from yaojian.casework.dictionary import DictionaryError, load_project_dictionary, read_project_csv
from yaojian.core.models import AuditRecord

from .cases import add_case

HEADER = "code,name,name_en,system_organ_class,synonyms\n"


def loads():
    return AuditRecord.objects.filter(object_type="adr.reactionterm", action="import")


def test_reload_of_the_shipped_dictionary_changes_nothing(db, capsys):
    terms, synonyms = ReactionTerm.objects.count(), ReactionSynonym.objects.count()
    call_command("casework", "load-terms", "--dictionary", "yaojian")
    assert "新增 0，更新 0，停用 0，新增同义词 0" in capsys.readouterr().out
    assert (ReactionTerm.objects.count(), ReactionSynonym.objects.count()) == (terms, synonyms)
    record = loads().get()
    assert record.actor_name == "system" and len(record.after["content_sha256"]) == 64


def test_load_updates_adds_and_deactivates(db, tmp_path):
    path = tmp_path / "terms.csv"
    path.write_text(HEADER + "T1,皮疹,Rash,皮肤,出疹子|疹子\nT2,头晕,,神经,头昏\n", encoding="utf-8")
    first = load_project_dictionary(path, actor=None)
    assert (first.created, first.synonyms_added) == (2, 6)  # names and synonyms, normalised
    assert first.deactivated == 286  # the shipped terms are not in this file
    path.write_text(HEADER + "T1,皮疹,Rash,皮肤及皮下组织类疾病,出疹子|红疹\n", encoding="utf-8")
    second = load_project_dictionary(path, actor=None)
    assert (second.created, second.updated, second.deactivated, second.synonyms_added) == (0, 1, 1, 1)
    t1 = ReactionTerm.objects.get(code="T1")
    assert t1.system_organ_class == "皮肤及皮下组织类疾病"
    assert set(t1.synonyms.values_list("text", flat=True)) == {"皮疹", "rash", "出疹子", "疹子", "红疹"}
    assert not ReactionTerm.objects.get(code="T2").active
    assert loads().count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,name\nT1,皮疹\n", "表头应为"),
        (HEADER + "T1,皮疹,Rash,皮肤\n", "第 2 行：应有 5 列"),
        (HEADER + "T1,,Rash,皮肤,\n", "第 2 行：术语编码和标准术语不能为空"),
        (HEADER + "T1,皮疹,,,\nT1,头晕,,,\n", "第 3 行：术语编码 T1 重复"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DictionaryError, match=message):
        read_project_csv(path)


def test_gbk_csv_is_read(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "T1,皮疹,Rash,皮肤,出疹子\n").encode("gbk"))
    assert read_project_csv(path)[0].synonyms == ["出疹子"]


def write_meddra(folder, pts, llts, socs, hier, release="27.1"):
    """A tiny MedDRA ASCII distribution ($-separated, a trailing $ on each line)."""
    folder.mkdir(exist_ok=True)
    for name, rows in (("pt.asc", pts), ("llt.asc", llts), ("soc.asc", socs), ("mdhier.asc", hier)):
        (folder / name).write_text("".join("$".join(r) + "$\n" for r in rows), encoding="utf-8")
    (folder / "meddra_release.asc").write_text(f"{release}$Chinese$\n", encoding="utf-8")


PTS = [
    ["10037844", "皮疹", "", "10040785", "", "", "", "", "", "", ""],
    ["10028813", "恶心", "", "10017947", "", "", "", "", "", "", ""],
]
LLTS = [
    ["10037844", "皮疹", "10037844", "", "", "", "", "", "", "Y", ""],
    ["10037855", "出疹", "10037844", "", "", "", "", "", "", "Y", ""],
    ["10037866", "疹子（旧）", "10037844", "", "", "", "", "", "", "N", ""],  # non-current
    ["10028813", "恶心", "10028813", "", "", "", "", "", "", "Y", ""],
    ["10028820", "反胃", "10028813", "", "", "", "", "", "", "Y", ""],
]
SOCS = [["10040785", "皮肤及皮下组织类疾病", "Skin"], ["10017947", "胃肠系统疾病", "Gastr"]]
HIER = [
    ["10037844", "1", "2", "10040785", "皮疹", "h", "g", "皮肤及皮下组织类疾病", "Skin", "", "10040785", "Y"],
    ["10028813", "3", "4", "10017947", "恶心", "h", "g", "胃肠系统疾病", "Gastr", "", "10017947", "Y"],
]


def test_meddra_loader_makes_pts_terms_and_current_llts_synonyms(db, tmp_path, settings, capsys):
    folder = tmp_path / "MedAscii"
    write_meddra(folder, PTS, LLTS, SOCS, HIER)
    call_command("casework", "load-terms", "--dictionary", "meddra", str(folder))
    assert "术语集 meddra 27.1：2 个术语，新增 2" in capsys.readouterr().out
    rash = ReactionTerm.objects.get(dictionary="meddra", code="10037844")
    assert (rash.name, rash.system_organ_class, rash.version) == ("皮疹", "皮肤及皮下组织类疾病", "27.1")
    assert set(rash.synonyms.values_list("text", flat=True)) == {"皮疹", "出疹"}
    # Coding to MedDRA where the organisation chooses it.
    settings.YAOJIAN_REACTION_DICTIONARY = "meddra"
    report = add_case(None, "MD-1", reactions=("反胃",), division_code="320106")
    assert coding.code_report(report) == 1
    assert AdrReaction.objects.get(report=report).coded_term.code == "10028813"
    # Reloading the same files is a no-op but still leaves its audit record.
    call_command("casework", "load-terms", "--dictionary", "meddra", str(folder))
    assert "新增 0，更新 0，停用 0，新增同义词 0" in capsys.readouterr().out
    assert loads().count() == 2


def test_meddra_loader_reports_missing_files_and_short_lines(db, tmp_path):
    with pytest.raises(CommandError, match="缺少 pt.asc、llt.asc、soc.asc、mdhier.asc"):
        call_command("casework", "load-terms", "--dictionary", "meddra", str(tmp_path))
    folder = tmp_path / "bad"
    write_meddra(folder, [["10037844"]], LLTS, SOCS, HIER)
    with pytest.raises(CommandError, match="pt.asc 第 1 行"):
        call_command("casework", "load-terms", "--dictionary", "meddra", str(folder))
    with pytest.raises(CommandError, match="MedAscii"):
        call_command("casework", "load-terms", "--dictionary", "meddra")
    assert not loads().exists()
