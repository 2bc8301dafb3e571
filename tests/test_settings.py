"""Settings: every one documented, bad values refused with the variable named."""

from __future__ import annotations

import pytest

from maillage.errors import ConfigError
from maillage.settings import REPO_ROOT, Settings, load_settings


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_env_example(field):
    alias = Settings.model_fields[field].alias
    assert alias and f"# {alias}=" in (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    assert Settings.model_fields[field].description, f"{alias} needs a help string"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"NEO4J_URI": "http://localhost:7474"}, "NEO4J_URI"),
        ({"NEO4J_URI": "bolt//missing-colon"}, "NEO4J_URI"),
        ({"MAILLAGE_STORE": "postgres"}, "MAILLAGE_STORE"),
        ({"MAILLAGE_NEO4J_PORT": "70000"}, "MAILLAGE_NEO4J_PORT"),
        ({"MAILLAGE_QUERY_TIMEOUT": "-1"}, "MAILLAGE_QUERY_TIMEOUT"),
        ({"NEO4J_DATABASE": " "}, "NEO4J_DATABASE"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch, env, variable):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=variable) as info:
        load_settings()
    assert ".env.example" in str(info.value)


def test_password_falls_back_to_local_file(tmp_path, monkeypatch):
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    (tmp_path / "password").write_text("s3cret-local\n")
    assert load_settings(MAILLAGE_NEO4J_HOME=str(tmp_path)).password() == "s3cret-local"
    monkeypatch.setenv("NEO4J_PASSWORD", "from-env-123")
    assert load_settings(MAILLAGE_NEO4J_HOME=str(tmp_path)).password() == "from-env-123"


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILLAGE_STORE", raising=False)
    (tmp_path / ".env").write_text("MAILLAGE_STORE=memory\nMAILLAGE_DATA_DIR=elsewhere\n")
    s = load_settings()
    assert s.store == "memory" and str(s.data_dir) == "elsewhere"


def test_auto_store_without_neo4j_is_memory(tmp_path, monkeypatch):
    from graph import MemoryStore, open_store

    monkeypatch.delenv("NEO4J_URI", raising=False)
    s = load_settings(MAILLAGE_STORE="auto", MAILLAGE_DATA_DIR=str(tmp_path), MAILLAGE_NEO4J_HOME=str(tmp_path / "none"))
    store = open_store(s)
    assert isinstance(store, MemoryStore) and store.path == tmp_path / "graph.json"


def test_local_password_file_is_private():
    """scripts/neo4j-local writes the password readable only by its owner."""
    import stat

    from tests.conftest import TEST_NEO4J_HOME

    path = TEST_NEO4J_HOME / "password"
    if not path.exists():
        pytest.fail("the test Neo4j server has not been started (run make test)")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
