from __future__ import annotations

from pathlib import Path

import pytest

from bot.classify import Classifier
from bot.model import Category


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_file()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("厨房水龙头坏了", Category.REPAIR),
        ("卫生间漏水，水漫到客厅了！", Category.EMERGENCY),
        ("电梯里有人被困", Category.EMERGENCY),
        ("我要投诉保安态度太差", Category.COMPLAINT),
        ("请问下周停水是什么时候？", Category.INQUIRY),
        ("想预约一次家政保洁", Category.SERVICE),
        ("建议小区多装几个路灯", Category.SUGGESTION),
        ("The kitchen tap is broken", Category.REPAIR),
        ("There is smoke in the stairwell, FIRE!", Category.EMERGENCY),
        ("I want to make a complaint about the noise", Category.COMPLAINT),
        ("When is the pool open?", Category.INQUIRY),
        ("你好", Category.INQUIRY),
        # Cases that once went wrong: a drip is no emergency, a real one is, praise is no complaint.
        ("水龙头有点漏水", Category.REPAIR),
        ("马桶漏水了", Category.REPAIR),
        ("卫生间漏水严重，已经淹了", Category.EMERGENCY),
        ("The pipe is leaking", Category.REPAIR),
        ("Burst pipe, water everywhere!", Category.EMERGENCY),
        ("Lift stuck between floors with my kid inside", Category.EMERGENCY),
        ("有人在小区里打架", Category.EMERGENCY),
        ("服务态度很好，谢谢", Category.INQUIRY),
        ("The lobby is not clean", Category.COMPLAINT),
        ("Please fix the fire door", Category.REPAIR),
        ("煤气费怎么交？", Category.INQUIRY),
        ("厨房有煤气味", Category.EMERGENCY),
        ("I'd like to book home cleaning", Category.SERVICE),
    ],
)
def test_keyword_rules(classifier: Classifier, text: str, expected: Category) -> None:
    assert classifier.classify(text) == expected


def test_english_keywords_match_whole_words_only(classifier: Classifier) -> None:
    # "fix" must not fire inside "prefix", nor "fire" inside "firewall".
    assert classifier.classify("what prefix does the firewall use") == Category.INQUIRY


def test_rules_are_read_from_the_file_given(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'order = ["suggestion", "repair"]\ndefault = "inquiry"\n'
        '[keywords]\nsuggestion = ["灯"]\nrepair = ["灯"]\n',
        encoding="utf-8",
    )
    assert Classifier.from_file(rules).classify("路灯不亮") == Category.SUGGESTION
