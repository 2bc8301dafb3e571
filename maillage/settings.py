"""maillage's settings, read once from the environment and an optional ``.env`` file.

Every setting has a default and a help text; ``.env.example`` documents each (a test checks
that). Bad values stop maillage at start with a message that names the variable and the fix.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from maillage.errors import ConfigError

__all__ = ["Settings", "get_settings", "load_settings", "REPO_ROOT", "URI_SCHEMES"]

#: The repository (or installation) root: where ``.neo4j/`` of the local launcher lives.
REPO_ROOT = Path(__file__).resolve().parents[1]
URI_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


class Settings(BaseSettings):
    """Configuration of maillage. Each field is read from the variable in its alias."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    neo4j_uri: str | None = Field(
        None,
        alias="NEO4J_URI",
        description="Neo4j server to use (bolt://, neo4j://, neo4j+s:// ...). Unset: the local "
        "server of scripts/neo4j-local when it runs, else the memory store.",
    )
    neo4j_user: str = Field("neo4j", alias="NEO4J_USER", description="Neo4j user name.")
    neo4j_password: SecretStr | None = Field(
        None,
        alias="NEO4J_PASSWORD",
        description="Neo4j password. Unset: read from .neo4j/password, written by scripts/neo4j-local.",
    )
    neo4j_database: str = Field("neo4j", alias="NEO4J_DATABASE", description="Neo4j database name.")
    store: Literal["auto", "neo4j", "memory"] = Field(
        "auto",
        alias="MAILLAGE_STORE",
        description="Graph store: neo4j, memory (a file under MAILLAGE_DATA_DIR), or auto "
        "(Neo4j when NEO4J_URI is set or the local server runs, memory otherwise).",
    )
    data_dir: Path = Field(
        Path(".maillage"),
        alias="MAILLAGE_DATA_DIR",
        description="Folder for the memory store's file, uploads and caches.",
    )
    neo4j_home: Path = Field(
        REPO_ROOT / ".neo4j",
        alias="MAILLAGE_NEO4J_HOME",
        description="Folder of the local Neo4j server (data, log, password file).",
    )
    neo4j_port: int = Field(7687, alias="MAILLAGE_NEO4J_PORT", ge=1, le=65535, description="Bolt port of the local Neo4j server.")
    query_timeout: float = Field(
        10.0, alias="MAILLAGE_QUERY_TIMEOUT", gt=0, le=600, description="Seconds before the Cypher console stops a query."
    )
    query_row_cap: int = Field(
        1000, alias="MAILLAGE_QUERY_ROW_CAP", ge=1, le=100_000, description="Most rows the Cypher console returns."
    )
    batch_size: int = Field(
        5000, alias="MAILLAGE_BATCH_SIZE", ge=1, le=100_000, description="Rows per UNWIND batch when writing to Neo4j."
    )

    # ---- web view (api/) ---------------------------------------------------------------
    host: str = Field(
        "127.0.0.1",
        alias="MAILLAGE_HOST",
        description="Interface the web view binds to (`maillage serve --host` overrides it). Without "
        "MAILLAGE_TOKENS the web view has no login, so it refuses to start on a non-loopback host.",
    )
    port: int = Field(8000, alias="MAILLAGE_PORT", ge=1, le=65535, description="Port of the web view (`maillage serve --port` overrides it).")
    tokens: SecretStr | None = Field(
        None,
        alias="MAILLAGE_TOKENS",
        description="Access tokens of the web view and JSON API as token:role pairs separated by commas, "
        "roles viewer < analyst < editor (e.g. 'k3y...:viewer,s3cr3t...:editor'; tokens of 16+ characters). "
        "Unset, with no MAILLAGE_TOKENS_FILE: no login, everyone is editor, on a loopback host only.",
    )
    tokens_file: Path | None = Field(
        None,
        alias="MAILLAGE_TOKENS_FILE",
        description="File of access tokens, one token:role per line ('#' starts a comment); added to MAILLAGE_TOKENS.",
    )
    secret_key: SecretStr | None = Field(
        None,
        alias="MAILLAGE_SECRET_KEY",
        description="Key that signs login cookies and CSRF tokens. Unset: a random key per process "
        "(logins end when the server restarts).",
    )
    session_hours: float = Field(12.0, alias="MAILLAGE_SESSION_HOURS", gt=0, le=24 * 90, description="Hours a web login lasts.")
    secure_cookies: bool = Field(
        False, alias="MAILLAGE_SECURE_COOKIES", description="Mark cookies Secure: set it when the web view is served over HTTPS."
    )
    allowed_hosts: str = Field(
        "",
        alias="MAILLAGE_ALLOWED_HOSTS",
        description="Extra Host names (comma-separated) the open local demo answers to; it always answers "
        "to localhost, 127.0.0.1 and ::1. Guards the login-free demo against DNS rebinding; "
        "ignored when tokens are configured.",
    )
    upload_max_bytes: int = Field(
        20 * 1024 * 1024,
        alias="MAILLAGE_UPLOAD_MAX_BYTES",
        ge=1024,
        le=2 * 1024**3,
        description="Largest upload (bytes, all files of one import together) the web import accepts.",
    )
    cache_seconds: float = Field(
        300.0,
        alias="MAILLAGE_CACHE_SECONDS",
        ge=0,
        le=86_400,
        description="Seconds the web view keeps the graph snapshot and analysis results; imports through "
        "the web view clear the cache at once, changes made elsewhere show after this delay.",
    )
    max_page_size: int = Field(
        200, alias="MAILLAGE_MAX_PAGE_SIZE", ge=10, le=10_000, description="Most rows one page of a table or JSON list holds (?per_page= cap)."
    )

    import_max_bytes: int = Field(
        100 * 1024 * 1024,
        alias="MAILLAGE_IMPORT_MAX_BYTES",
        ge=1024,
        le=64 * 1024**3,
        description="Largest file (bytes) `maillage load` reads; a larger one is refused before it is read.",
    )

    @field_validator("neo4j_uri")
    @classmethod
    def _check_uri(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in URI_SCHEMES or not rest:
            raise ValueError(
                f"{value!r} is not a Neo4j URI; expected one of "
                + ", ".join(f"{s}://host:port" for s in URI_SCHEMES)
            )
        return value

    @field_validator("neo4j_database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty (Neo4j's default database is 'neo4j')")
        return value

    def password(self) -> str | None:
        """Return the Neo4j password: NEO4J_PASSWORD, else the local server's password file."""
        if self.neo4j_password is not None:
            return self.neo4j_password.get_secret_value()
        path = self.neo4j_home / "password"
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def local_uri(self) -> str:
        """Return the URI of the local server of ``scripts/neo4j-local``."""
        return f"bolt://127.0.0.1:{self.neo4j_port}"

    def local_server_running(self) -> bool:
        """Whether ``scripts/neo4j-local`` has a live server (its pid file names a process)."""
        try:
            pid = int((self.neo4j_home / "neo4j.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        return True


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; turn pydantic's error into a :class:`ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            name = e["loc"][0] if e["loc"] else "?"
            field = Settings.model_fields.get(str(name))
            var = field.alias if field is not None and field.alias else str(name)
            lines.append(f"{var}: {e['msg']} (got {e.get('input')!r})")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines) + "\nFix the variable in your environment or .env file (see .env.example).") from err


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return load_settings()
