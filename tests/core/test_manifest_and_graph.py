"""Manifests, discovery and the dependency graph."""

from pathlib import Path

import pytest

from core.errors import ManifestError, PluginError
from core.manifest import parse_manifest
from core.plugins import check_graph, closure, dependents, discover, topo_order

from .helpers import FIXTURE_REGISTRY, make_manifest


def graph(tmp_path, spec: dict[str, list[str]]):
    return {n: make_manifest(tmp_path, n, depends=d) for n, d in spec.items()}


def test_manifest_fields_parsed(tmp_path):
    m = make_manifest(tmp_path, "offers", depends=["clients>=1.0", "sales"], edition="standard",
                      extra='optional = ["mail"]\ntitle_en = "Offers"\n')
    assert m.name == "offers"
    assert [str(d) for d in m.depends] == ["clients>=1.0", "sales"]
    assert m.optional == ["mail"]
    assert m.edition == "standard"
    assert m.title_en == "Offers"


@pytest.mark.parametrize("body,key", [
    ('[plugin]\nversion = "1.0"\ntitle = "X"\n', "'name'"),
    ('[plugin]\nname = "x1"\nversion = "not a version"\ntitle = "X"\n', "'version'"),
    ('[plugin]\nname = "x1"\nversion = "1.0"\ntitle = "X"\nedition = "gold"\n', "'edition'"),
    ('[plugin]\nname = "x1"\nversion = "1.0"\ntitle = "X"\ndepends = ["a b c"]\n', "'depends'"),
    ('[plugin]\nname = "x1"\nversion = "1.0"\ntitle = "X"\nkernel = "~~1"\n', "'kernel'"),
    ('[plugin]\nname = "Bad-Name"\nversion = "1.0"\ntitle = "X"\n', "'name'"),
    ('[plugin\n', "TOML"),
])
def test_manifest_errors_name_file_and_key(tmp_path, body, key):
    f = tmp_path / "plugin.toml"
    f.write_text(body)
    with pytest.raises(ManifestError) as exc:
        parse_manifest(f, "x1")
    assert str(f) in exc.value.message
    assert key in exc.value.message


def test_topological_order_ties_broken_by_name(tmp_path):
    ms = graph(tmp_path, {"zeta": [], "alpha": [], "mid": ["zeta"], "beta": ["alpha"],
                          "top": ["mid", "beta"]})
    assert topo_order(ms, ms) == ["alpha", "beta", "zeta", "mid", "top"]
    # same result whatever the input order
    assert topo_order(ms, reversed(list(ms))) == ["alpha", "beta", "zeta", "mid", "top"]


def test_cycle_is_refused_naming_plugins(tmp_path):
    ms = graph(tmp_path, {"aa": ["bb"], "bb": ["cc"], "cc": ["aa"], "dd": []})
    with pytest.raises(PluginError) as exc:
        check_graph(ms, "1.0.0")
    assert "aa, bb, cc" in exc.value.message
    assert "dd" not in exc.value.message


def test_missing_dependency_is_refused(tmp_path):
    ms = graph(tmp_path, {"offers": ["clients"]})
    with pytest.raises(PluginError, match="'offers' wymaga wtyczki 'clients'"):
        check_graph(ms, "1.0.0")


def test_version_constraint_is_checked(tmp_path):
    ms = {"clients": make_manifest(tmp_path, "clients", version="1.2.0"),
          "offers": make_manifest(tmp_path, "offers", depends=["clients>=2.0"])}
    with pytest.raises(PluginError) as exc:
        check_graph(ms, "1.0.0")
    assert "offers" in exc.value.message and "clients>=2.0" in exc.value.message
    assert "1.2.0" in exc.value.message


def test_kernel_version_is_checked(tmp_path):
    ms = {"future": make_manifest(tmp_path, "future", kernel=">=9.0")}
    with pytest.raises(PluginError, match="'future' wymaga jądra >=9.0"):
        check_graph(ms, "1.0.0")


def test_closure_and_dependents(tmp_path):
    ms = graph(tmp_path, {"aa": [], "bb": ["aa"], "cc": ["bb"], "dd": []})
    assert closure(ms, ["cc"]) == {"aa", "bb", "cc"}
    assert dependents(ms, ["aa"], ms.keys()) == {"bb", "cc"}
    assert dependents(ms, ["aa"], ["aa", "bb"]) == {"bb"}


def test_discovery_from_registry_file():
    ms = discover(FIXTURE_REGISTRY)
    assert {"alpha", "beta", "gamma", "emitter", "listener"} <= set(ms)
    assert ms["gamma"].edition == "pro"
    assert ms["alpha"].package == "tests.fixtures.plugins.alpha"
    assert ms["alpha"].source == "registry"


def test_registry_name_mismatch_is_refused(tmp_path):
    make_manifest(tmp_path / "plugins", "real")
    reg = tmp_path / "reg.toml"
    reg.write_text('[plugins]\nother = { path = "plugins/real" }\n')
    with pytest.raises(ManifestError, match="'real' nie zgadza się z wpisem 'other'"):
        discover(reg)


def test_in_tree_catalogue_is_valid():
    ms = discover()
    check_graph(ms, __import__("core").__version__)
    for m in ms.values():
        assert m.path.joinpath("plugin.toml").exists()
        assert Path(m.path).is_dir()
