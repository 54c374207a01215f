"""Tokens, sentences and passages in scripts other than the Latin alphabet: Chinese and
Japanese copy is found, with exact offsets, and stories on a similar subject are not
linked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.config import ScanConfig
from dedup.match.compare import passages
from dedup.models import Document
from dedup.text.clean import clean_documents, repair_text
from dedup.text.credits import find_credits
from dedup.text.features import extract_features, sentence_ends
from dedup.text.scripts import token_spans, tokens, unspaced_share

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# Short news texts written for these tests (no corpus text).
ZH_WIRE = (
    "新华社北京3月18日电 国家统计局18日发布数据显示，今年前两个月全国规模以上工业增加值同比增长"
    "百分之七点二，增速比去年全年加快零点八个百分点。\n\n"
    "国家统计局新闻发言人在当天举行的新闻发布会上表示，一季度国民经济开局良好，消费需求持续恢复，"
    "就业形势总体稳定，市场预期明显改善。\n\n"
    "数据显示，前两个月社会消费品零售总额同比增长百分之五点五，其中餐饮收入增长明显，汽车和家电消费"
    "保持较快增长。\n\n"
    "发言人同时指出，外部环境依然复杂严峻，国内需求仍显不足，部分企业生产经营困难，经济持续回升向好"
    "的基础还需要进一步巩固。"
)
# Its first two paragraphs, under a paper's own first line.
ZH_RERUN = "本报讯 记者从有关部门获悉，一季度经济数据陆续公布。\n\n" + "\n\n".join(
    ZH_WIRE.split("\n\n")[:2]
)
# Another story on the economy, written independently.
ZH_OTHER = (
    "海关总署7日公布的数据显示，今年前两个月我国货物贸易进出口总值同比增长百分之八点七，其中出口增长"
    "百分之十点三，进口增长百分之六点七。\n\n"
    "海关总署统计分析司负责人表示，外贸开局总体平稳，对共建国家进出口保持增长，民营企业进出口比重"
    "继续提升。\n\n"
    "分析人士认为，随着全球电子产品需求回暖，我国集成电路和汽车出口有望继续保持增长势头。"
)
JA_WIRE = (
    "【東京共同】政府は18日の閣議で、物価高騰を受けた新たな経済対策を決定した。低所得世帯への"
    "給付金の支給や、電気・ガス料金の負担軽減策の延長が柱となる。\n\n"
    "首相は閣議後の記者会見で「国民の暮らしを守るため、あらゆる政策を総動員する」と述べた。対策の"
    "財源は補正予算で手当てする方針だ。\n\n"
    "与党内からは減税を求める声も上がっており、政府は年内に税制改正の議論を本格化させる。"
)
# Its first two sentences, verbatim, after a line of the site's own.
JA_COPY = "経済ニュース速報です。\n\n" + "。".join(JA_WIRE.split("。")[:2]) + "。"
JA_OTHER = (
    "日銀は19日の金融政策決定会合で、大規模な金融緩和策の維持を決めた。総裁は会合後の記者会見で、"
    "賃金と物価の好循環を見極める考えを示した。\n\n"
    "市場では、来年春にも追加の政策修正に踏み切るとの見方が広がっている。"
)


@pytest.mark.parametrize(
    "text",
    [
        ZH_WIRE,
        JA_WIRE,
        "สำนักข่าวไทยรายงานว่า รัฐบาลประกาศมาตรการใหม่",
        "नई दिल्ली में सरकार ने नई योजना की घोषणा की।",
        "Президент России заявил в понедельник, что переговоры продолжатся.",
        "قال المتحدث باسم الحكومة إن المفاوضات ستستمر؟",
        "서울=연합뉴스 정부는 18일 새로운 경제 대책을 발표했다.",
        "Don't stop: the U.S. economy grew 2.5% in 2024.",
    ],
)
def test_token_offsets_are_exact_and_cover_every_letter(text):
    spans = token_spans(text)
    assert [text[a:b] for a, b in spans] == tokens(text)
    covered = set()
    for a, b in spans:
        covered.update(range(a, b))
    letters = {i for i, ch in enumerate(text) if ch.isalnum()}
    assert letters <= covered


def test_runs_without_spaces_are_overlapping_pairs_and_words_keep_their_marks():
    assert tokens("国家统计局") == ["国家", "家统", "统计", "计局"]
    assert tokens("は") == ["は"]
    assert tokens("प्रधानमंत्री मोदी") == ["प्रधानमंत्री", "मोदी"]  # vowel signs inside words
    assert tokens("ราชการ")[0] == "รา"
    assert unspaced_share(tokens("国家统计局 said")) == 0.8  # four pairs of five tokens


def test_sentences_end_at_the_full_stops_of_every_script():
    text = "第一句。第二句！第三句？Fourth one. क्या हुआ। هل انتهى؟ next"
    ends = {text[i] for i in sentence_ends(text).nonzero()[0]}
    assert ends == {"。", "！", "？", ".", "।", "؟"}
    features = extract_features(Document(id="z", path="", text="第一句话。第二句话。"))
    assert features.sentence_starts.tolist() == [0, 3]


def test_the_cleaning_keeps_chinese_and_japanese_prose():
    docs = clean_documents(
        [Document(id=str(n), path="", text=t) for n, t in enumerate([ZH_WIRE, JA_WIRE])]
    )
    for doc in docs:
        removed = sum(end - start for start, end in doc.removed)
        assert removed < 0.1 * len(doc.text), doc.removed


def _scan(tmp_path, texts):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    texts_by_id = {}
    for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts_by_id[record["id"]] = texts[record["id"].rsplit("/", 1)[-1].removesuffix(".txt")]
    passages = [json.loads(x) for x in (out / "passages.jsonl").read_text().splitlines()]
    return texts_by_id, passages


@pytest.mark.parametrize(
    ("wire", "copy", "other", "shared"),
    [
        (ZH_WIRE, ZH_RERUN, ZH_OTHER, "国家统计局新闻发言人在当天举行的新闻发布会上表示"),
        (JA_WIRE, JA_COPY, JA_OTHER, "低所得世帯への給付金の支給や"),
    ],
)
def test_a_copy_in_chinese_or_japanese_is_found_with_exact_offsets(
    tmp_path, wire, copy, other, shared
):
    texts, passages = _scan(tmp_path, {"wire": wire, "copy": copy, "other": other})
    linked = {frozenset((p["a"].rsplit("/", 1)[-1], p["b"].rsplit("/", 1)[-1])) for p in passages}
    assert linked == {frozenset(("wire.txt", "copy.txt"))}
    for p in passages:
        a = texts[p["a"]][p["a_start"] : p["a_end"]]
        b = texts[p["b"]][p["b_start"] : p["b_end"]]
        assert a == b and p["kind"] == "verbatim"
    assert any(shared in texts[p["a"]][p["a_start"] : p["a_end"]] for p in passages)


@pytest.mark.parametrize(
    ("line", "agency"),
    [
        ("新华社北京3月18日电 国家统计局18日发布数据。", "Xinhua"),
        ("【東京共同】政府は18日の閣議で決定した。", "Kyodo"),
        ("与党内からは声も上がっている。（共同）", "Kyodo"),
        ("(서울=연합뉴스) 정부는 18일 새로운 대책을 발표했다.", "Yonhap"),
        ("PARIS (AFP) - Le gouvernement a annoncé lundi de nouvelles mesures.", "AFP"),
        ("Die Regierung will die Steuern senken. (dpa)", "dpa"),
        ("dpa/afp", "dpa"),
        ("МОСКВА, 18 марта. /ТАСС/. Сообщение (ТАСС)", "TASS"),
        ("Сообщает (РИА Новости)", "RIA Novosti"),
        # A whole article on one line, as many JSON sources give it.
        ("MADRID (EFE) - " + "El Gobierno aprobó el plan de ayudas. " * 80, "EFE"),
        ("Madrid, 3 dic (EFE).- El Gobierno aprobó hoy el plan de ayudas.", "EFE"),
        ("(ANSA) - ROMA, 3 DIC - Il governo ha approvato oggi il piano.", "ANSA"),
    ],
)
def test_credit_lines_in_the_agencies_languages(line, agency):
    assert agency in [credit.agency for credit in find_credits(line)]


@pytest.mark.parametrize(
    "line",
    [
        "据新华社报道，国家统计局发布了数据。",
        "両国は共同声明を発表した。",
        "Selon l'AFP, le bilan s'alourdit.",
    ],
)
def test_a_sentence_that_mentions_an_agency_is_not_a_credit(line):
    assert find_credits(line) == []


FR_WIRE = (
    "Le gouvernement a présenté lundi un plan de soutien aux agriculteurs touchés par la "
    "sécheresse, qui prévoit des aides directes et un report des cotisations sociales.\n\n"
    "Le ministre de l'Agriculture a déclaré que les premiers versements seraient effectués "
    "avant la fin du mois, et que les exploitations les plus fragiles seraient prioritaires."
)


def test_french_prose_is_kept_and_its_language_read():
    (doc,) = clean_documents([Document(id="fr", path="", text=FR_WIRE)])
    assert doc.removed == [] and doc.language == "fr"


def test_a_folder_of_several_languages_pairs_each_text_only_with_its_own_language(tmp_path):
    texts = {
        "zh_wire": ZH_WIRE,
        "zh_copy": ZH_RERUN,
        "ja_wire": JA_WIRE,
        "ja_copy": JA_COPY,
        "fr_wire": FR_WIRE,
        "fr_copy": FR_WIRE.split("\n\n")[0] + "\n\nUn paragraphe écrit par le journal lui-même.",
        # English around the French story's numbers and names: a candidate, never a pair.
        "en_story": "The French government on Monday presented a plan for farmers hit by "
        "the drought, with direct aid and deferred social contributions, the minister said.",
    }
    _, passages = _scan(tmp_path, texts)
    linked = {
        frozenset(p[side].rsplit("/", 1)[-1].split("_")[0] for side in ("a", "b")) for p in passages
    }
    assert linked == {frozenset({"zh"}), frozenset({"ja"}), frozenset({"fr"})}
    records = [
        json.loads(x) for x in (tmp_path / "out" / "documents.jsonl").read_text().splitlines()
    ]
    assert {r["id"].split("_")[0]: r["language"] for r in records} == {
        "zh": "zh",
        "ja": "ja",
        "fr": "fr",
        "en": "en",
    }
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "language zh" in page and "language fr" in page
    assert 'lang="ja"' in page  # a Japanese text is drawn with Japanese glyphs


def test_the_gbk_mojibake_footer_of_seed_004_is_repaired():
    text = (SEEDS / "004_5f3937abe48c33b0.txt").read_text(encoding="utf-8")
    assert "娌" in text
    repaired = repair_text(text)
    (line,) = [x for x in repaired.splitlines() if "31010602000204" in x]
    assert line.startswith("沪公网安") and "娌" not in repaired
    # A byte lost in the decoding leaves the one character it belonged to as U+FFFD.
    lost = "上海市公安局网络安全备案号".encode().decode("gbk", errors="ignore")
    page = f"Copyright Shanghai Daily. All rights reserved.\n{lost} 31010602000204\n"
    assert repair_text(page).splitlines()[1] == ("上海市公安局网络安全备\ufffd号 31010602000204")


@pytest.mark.parametrize("text", [ZH_WIRE, JA_WIRE, "全角の句読点！本当ですか？（共同）"])
def test_chinese_and_japanese_text_is_left_as_it_is(text):
    assert repair_text(text) == text


@pytest.mark.parametrize(
    ("name", "codec", "text"),
    [
        ("ja_sjis", "shift_jis", JA_WIRE),
        ("ja_eucjp", "euc_jp", JA_WIRE),
        (
            "ko_euckr",
            "euc_kr",
            "(서울=연합뉴스) 정부는 18일 국무회의에서 새로운 경제 대책을 확정했다.",
        ),
        (
            "zh_big5",
            "big5",
            "中央社記者台北18日電 行政院今天通過新的經濟方案，提供低收入家庭補助。",
        ),
        ("zh_gb18030", "gb18030", ZH_WIRE),
        ("zh_utf16le", "utf-16-le", ZH_WIRE),
        ("ja_utf16be", "utf-16-be", JA_WIRE),
    ],
)
def test_files_in_east_asian_encodings_and_utf16_without_a_mark_are_read(
    tmp_path, name, codec, text
):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"{name}.txt").write_bytes(text.encode(codec))
    result = CliRunner().invoke(app, ["scan", str(folder), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(x) for x in (tmp_path / "out" / "documents.jsonl").open()]
    assert record["text"] == text


def test_the_gate_answers_in_chinese_and_japanese_and_never_across_languages(tmp_path):
    from dedup.gate import Gate

    # A Japanese article quoting the Chinese wire's second paragraph word for word.
    quoting = (
        "中国の国家統計局は18日、記者会見を開いた。発表によると、"
        + ZH_WIRE.split("\n\n")[1]
        + "と述べたという。日本政府は今後の動向を注視している。"
    )
    with Gate(tmp_path / "index.db") as gate:
        gate.add({"id": "zh_wire", "text": ZH_WIRE})
        gate.add({"id": "ja_wire", "text": JA_WIRE})
        zh = gate.check({"id": "zh_copy", "text": ZH_RERUN})
        ja = gate.check({"id": "ja_copy", "text": JA_COPY})
        other = gate.check({"id": "zh_other", "text": ZH_OTHER})
        across = gate.check({"id": "ja_quoting", "text": quoting})
    assert (zh.verdict, zh.matches[0].id, zh.matches[0].agency) == (
        "syndicated",
        "zh_wire",
        "Xinhua",
    )
    assert (ja.verdict, ja.matches[0].id, ja.matches[0].agency) == (
        "syndicated",
        "ja_wire",
        "Kyodo",
    )
    assert other.verdict == "new" and across.verdict == "new"


def test_a_short_stock_phrase_in_chinese_is_not_a_passage():
    # 19 characters shared: 18 pairs, more than the 12 tokens of an English passage but under
    # the 24 of a Chinese one.
    stock = "据本报记者从有关部门获悉的最新消息显示，"
    first = stock + "今年全市新建公园二十个，绿地面积增加百分之十五，市民休闲空间明显扩大。"
    second = stock + "本周末城区部分道路将实施交通管制，请驾驶人提前规划出行路线。"
    a, b = (extract_features(Document(id=x, path="", text=x)) for x in (first, second))
    assert passages(a, b, ScanConfig()) == []
    # The same run twice as long is one.
    longer = stock + "今年全市新建公园二十个，绿地面积"
    c, d = (extract_features(Document(id=x, path="", text=x + "。")) for x in (longer, longer[:-1]))
    assert [x.kind for x in passages(c, d, ScanConfig())] == [0]


def test_mojibake_a_chinese_text_cannot_repair_is_removed_as_boilerplate():
    # In mostly Chinese text mojibake is not repaired (genuine Chinese would be at stake), but
    # a line of it, even ended as a sentence, is not the article's.
    garbled = "上海市公安局网络安全备案号码".encode().decode("gbk", errors="ignore")
    text = f"{ZH_WIRE}\n\n{garbled}。\n"
    (doc,) = clean_documents([Document(id="m", path="", text=text)])
    assert [doc.text[a:b] for a, b in doc.removed] == [f"{garbled}。"]
