"""Config: one object built from the environment, with embedded defaults."""

from __future__ import annotations

import stat

import pytest

from service.config import PROJECT_ROOT, Config


def test_defaults_are_sqlite_and_embedded_redis_under_the_instance_path(tmp_path):
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path)})

    assert config.instance_path == tmp_path
    assert (config.database_url, config.redis_url, config.public_url) == (None, None, None)
    assert config.sqlalchemy_url == f"sqlite:///{tmp_path / 'chain-collab.sqlite3'}"
    assert config.embedded_redis is True
    assert config.default_timezone == "Asia/Shanghai"
    assert config.testing is False


def test_instance_path_defaults_to_the_projects_instance_directory():
    config = Config.from_env({"SECRET_KEY": "s3cret"})

    assert config.instance_path == PROJECT_ROOT / "instance"
    assert (
        config.sqlalchemy_url == f"sqlite:///{PROJECT_ROOT / 'instance' / 'chain-collab.sqlite3'}"
    )


def test_secret_key_is_made_once_and_kept_under_the_instance_path(tmp_path):
    instance = tmp_path / "not-yet-there"

    first = Config.from_env({"INSTANCE_PATH": str(instance)})
    second = Config.from_env({"INSTANCE_PATH": str(instance)})

    assert len(first.secret_key) == 64
    assert second.secret_key == first.secret_key
    key_file = instance / "secret_key"
    assert key_file.read_text() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "from-env"})

    assert config.secret_key == "from-env"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://app:pw@db.internal:5432/chain",
            "postgresql+psycopg://app:pw@db.internal:5432/chain",
        ),
        ("postgresql://app@127.0.0.1/chain", "postgresql+psycopg://app@127.0.0.1/chain"),
        ("postgresql+psycopg://app@127.0.0.1/chain", "postgresql+psycopg://app@127.0.0.1/chain"),
        ("sqlite:////var/lib/chain.sqlite3", "sqlite:////var/lib/chain.sqlite3"),
    ],
)
def test_database_url_is_read_for_psycopg_3(tmp_path, given, used):
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": given})

    assert config.database_url == given
    assert config.sqlalchemy_url == used


def test_environment_settings_are_read(tmp_path):
    config = Config.from_env(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "k",
            "REDIS_URL": "redis://cache.internal:6379/2",
            "PUBLIC_URL": "https://chain.example.com/",
            "DEFAULT_TIMEZONE": "Europe/Berlin",
        }
    )

    assert config.redis_url == "redis://cache.internal:6379/2"
    assert config.embedded_redis is False
    assert config.public_url == "https://chain.example.com"
    assert config.default_timezone == "Europe/Berlin"


def test_empty_settings_mean_the_defaults(tmp_path):
    config = Config.from_env(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "k",
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "PUBLIC_URL": "",
        }
    )

    assert (config.database_url, config.redis_url, config.public_url) == (None, None, None)
    assert config.sqlalchemy_url.startswith("sqlite:///")
    assert config.embedded_redis is True


def test_from_env_reads_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db/chain")
    monkeypatch.delenv("REDIS_URL", raising=False)

    config = Config.from_env()

    assert config.sqlalchemy_url == "postgresql+psycopg://app@db/chain"
    assert config.embedded_redis is True


def test_overrides_give_a_new_config(tmp_path):
    config = Config.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})

    testing = config.with_overrides(testing=True)

    assert (testing.testing, config.testing) == (True, False)
    assert testing.secret_key == "k"
