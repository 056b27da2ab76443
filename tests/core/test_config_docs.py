"""Every setting app/config.py reads is in the README's one Configuration table."""
from __future__ import annotations

import re

from tests.conftest import ROOT

READS = re.compile(r'(?:_int|_str|_bool|_float|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]+)"')
DICT_KEYS = re.compile(r'^([A-Z_]+_SETTINGS) = \{(.*?)^\}', re.S | re.M)


def _settings_read() -> set[str]:
    source = (ROOT / "app" / "config.py").read_text()
    names = set(READS.findall(source))
    for block in DICT_KEYS.finditer(source):
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)":', block.group(2)))
    return names


def _configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Configuration\n")
    return readme[start:readme.index("\n## ", start + 1)]


def test_every_setting_is_in_the_readme_table():
    table = _configuration_table()
    names = _settings_read()
    assert len(names) > 80
    missing = sorted(name for name in names if f"`{name}`" not in table)
    assert not missing, f"settings read in app/config.py but not listed in README's Configuration: {missing}"
