"""Every registered converter has a mapping document and at least one executable case; third
parties register through the `groundtruth.converters` entry-point group."""

from __future__ import annotations

import sys
import textwrap

import pytest

from groundtruth import converters
from tests.conftest import CONVERTERS


@pytest.mark.parametrize("name", sorted(converters.available()))
def test_registered_converter_has_mapping_and_cases(name):
    folder = CONVERTERS / name
    assert (folder / "MAPPING.md").is_file(), f"converters/{name}/MAPPING.md is missing"
    cases = list((folder / "cases").glob("*/case.json"))
    assert cases, f"converters/{name}/cases/ has no case"


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(converters.UnknownFormatError) as err:
        converters.get("no-such-format")
    assert "groundtruth" in err.value.hint


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """A fake installed distribution that declares a converter entry point."""
    pkg = tmp_path / "gt_fake_plugin.py"
    pkg.write_text(textwrap.dedent('''
        from groundtruth import Dataset
        from groundtruth.converters import ConversionReport

        class TsvConverter:
            name = "fake-tsv"
            description = "a third-party format"
            extensions = (".tsv",)

            def detect(self, head, path):
                return 0.9 if path.endswith(".tsv") else 0.0

            def read(self, path, *, fs=None, **options):
                return Dataset()

            def write(self, dataset, path, *, fs=None, **options):
                return ConversionReport(format=self.name)
    '''))
    dist = tmp_path / "gt_fake_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gt-fake-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[groundtruth.converters]\nfake-tsv = gt_fake_plugin:TsvConverter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = (dict(converters._registry), dict(converters._origins), converters._discovered)
    converters._registry.clear()
    converters._origins.clear()
    converters._discovered = False
    yield tmp_path
    converters._registry.clear()
    converters._registry.update(saved[0])
    converters._origins.clear()
    converters._origins.update(saved[1])
    converters._discovered = saved[2]
    sys.modules.pop("gt_fake_plugin", None)


def test_entry_point_plugin_is_discovered(fake_plugin):
    assert "fake-tsv" in converters.available()
    (fake_plugin / "x.tsv").write_text("a\tb\n")
    assert converters.detect_format(str(fake_plugin / "x.tsv")) == "fake-tsv"


def test_duplicate_names_are_an_error_naming_both(fake_plugin):
    class Other:
        name = "fake-tsv"
        description = "clash"
        extensions = ()

        def detect(self, head, path):
            return 0.0

        def read(self, path, *, fs=None, **options):
            raise NotImplementedError

        def write(self, dataset, path, *, fs=None, **options):
            raise NotImplementedError

    converters.available()
    with pytest.raises(ValueError, match="entry point") as err:
        converters.register(Other, origin="test")
    assert "test" in str(err.value)
