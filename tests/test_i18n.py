"""Simplified Chinese by default, English selectable; the catalogues are complete."""
import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "intranet/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def test_interface_is_chinese_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page


def test_anonymous_visitor_can_switch_to_english(client):
    from conftest import csrf_token
    client.post("/auth/language", data={"lang": "en", "next": "/auth/login",
                                        "csrf_token": csrf_token(client)})
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_unknown_language_is_ignored(client):
    from conftest import csrf_token
    client.post("/auth/language", data={"lang": "xx", "csrf_token": csrf_token(client)})
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                "-k", "_l", "-o", str(pot), str(ROOT)])
    with open(pot, "rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    assert "Sign in" in extracted and len(extracted) > 100  # the extraction really ran
    with open(CATALOGUE, "rb") as fh:
        catalogue = read_po(fh)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in extracted - translated)
    assert missing == [], ("untranslated messages; see README 'Translations': "
                           f"{missing[:10]}")


# Rule IDs (C6, K7, …) belong in code, tests and commits; a reader gets the rule in words.
RULE_CODE = re.compile(r"(规则|\b[Rr]ules?)\s*[ACKPQRV]\d|[（(][ACKPQRV]\d{1,2}[)）]")


def test_no_rule_code_reaches_a_reader():
    """Neither a message (English or Chinese, obsolete ones aside) nor a template's own text
    (its comments aside) names a rule by its ID."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    coded = []
    for message in catalogue:
        texts = [message.id, message.string]
        texts = [t for text in texts for t in (text if isinstance(text, tuple) else (text,))]
        coded += [t for t in texts if t and RULE_CODE.search(t)]
    for template in sorted((ROOT / "intranet/templates").rglob("*.html")):
        text = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.S)
        coded += [f"{template.name}: {m.group(0)}" for m in RULE_CODE.finditer(text)]
    assert coded == []


def test_settings_show_labels_not_codes(app, client, staff):
    """Issue 13 §5: a choice setting reads as words (自然日, 中国（北京时间）), not as its stored
    code."""
    from tests.conftest import login

    login(client, "admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert ">自然日：每天都计入</option>" in page
    assert ">工作日：不计周末和法定节假日</option>" in page
    assert ">中国（北京时间）</option>" in page
    assert ">calendar</option>" not in page and ">Asia/Shanghai</option>" not in page
