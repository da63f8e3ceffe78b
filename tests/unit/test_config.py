"""Settings from PORTSIDE_* variables, and the secret key kept in the data directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portside.config import Limits, Settings, SettingsError


def test_empty_environment_gives_the_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.limits == Limits()
    assert settings.data_dir == Path("data")
    assert settings.database_url == ""
    assert settings.secret_key == ""


def test_limits_are_overridden_by_their_variables() -> None:
    settings = Settings.from_env(
        {
            "PORTSIDE_MAX_MESSAGE_CHARS": "500",
            "PORTSIDE_MESSAGES_PER_10S": "3",
            "PORTSIDE_HEARTBEAT_S": "2.5",
            "PORTSIDE_SEND_QUEUE_FRAMES": "16",
        }
    )
    assert settings.limits.max_message_chars == 500
    assert settings.limits.messages_per_10s == 3
    assert settings.limits.heartbeat_s == 2.5
    assert settings.limits.send_queue_frames == 16
    # The others keep their defaults.
    assert settings.limits.logins_per_minute == Limits().logins_per_minute


def test_integer_limits_stay_integers_and_float_limits_floats() -> None:
    env = {"PORTSIDE_HEARTBEAT_S": "30", "PORTSIDE_LOGINS_PER_MINUTE": "5"}
    limits = Settings.from_env(env).limits
    assert type(limits.heartbeat_s) is float
    assert type(limits.logins_per_minute) is int


def test_an_empty_variable_means_the_default() -> None:
    settings = Settings.from_env({"PORTSIDE_MAX_MESSAGE_CHARS": ""})
    assert settings.limits.max_message_chars == 4000


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PORTSIDE_MAX_MESSAGE_CHARS", "lots"),
        ("PORTSIDE_MAX_MESSAGE_CHARS", "1.5"),
        ("PORTSIDE_MESSAGES_PER_10S", "0"),
        ("PORTSIDE_MESSAGES_PER_10S", "-3"),
        ("PORTSIDE_HEARTBEAT_S", "soon"),
        ("PORTSIDE_HEARTBEAT_S", "-1"),
        ("PORTSIDE_HEARTBEAT_S", "nan"),
        ("PORTSIDE_HEARTBEAT_S", "inf"),
    ],
)
def test_bad_numbers_raise_settings_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: raw})
    assert name in str(caught.value)
    assert repr(raw) in str(caught.value)


def test_plain_settings_are_read_and_public_url_loses_its_trailing_slash() -> None:
    settings = Settings.from_env(
        {
            "PORTSIDE_DATA_DIR": "/var/lib/portside",
            "PORTSIDE_SECRET_KEY": "k" * 40,
            "PORTSIDE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "PORTSIDE_PUBLIC_URL": "https://chat.example.com/",
        }
    )
    assert settings.data_dir == Path("/var/lib/portside")
    assert settings.secret_key == "k" * 40
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.public_url == "https://chat.example.com"


def test_keyword_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env({"PORTSIDE_SECRET_KEY": "from-env"}, secret_key="override")
    assert settings.secret_key == "override"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/portside", "postgresql+asyncpg://u:p@db:5432/portside"),
        ("postgres://u:p@db/portside", "postgresql+asyncpg://u:p@db/portside"),
        ("postgresql+asyncpg://db/portside", "postgresql+asyncpg://db/portside"),
        ("sqlite:///relative/portside.db", "sqlite:///relative/portside.db"),
        ("sqlite:////srv/portside.db", "sqlite:////srv/portside.db"),
        ("sqlite+aiosqlite:////srv/portside.db", "sqlite:////srv/portside.db"),
    ],
)
def test_database_url_is_normalised_for_the_async_drivers(given: str, expected: str) -> None:
    settings = Settings.from_env({"PORTSIDE_DATABASE_URL": given})
    assert settings.database_url == expected
    assert settings.effective_database_url == expected


@pytest.mark.parametrize("url", ["mysql://u:p@db/portside", "redis://x", "portside.db"])
def test_unsupported_database_url_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="PORTSIDE_DATABASE_URL"):
        Settings.from_env({"PORTSIDE_DATABASE_URL": url})


def test_refused_database_url_does_not_echo_its_password() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PORTSIDE_DATABASE_URL": "mysql://user:hunter2@db/portside"})
    assert "hunter2" not in str(caught.value)
    assert "mysql:" in str(caught.value)


def test_without_database_url_sqlite_lives_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path)})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'portside.db'}"


def test_with_secret_writes_a_private_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-data-dir"
    settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(data_dir)}).with_secret()
    key_file = data_dir / "secret.key"
    assert len(settings.secret_key) >= 32
    assert key_file.read_text() == settings.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]


def test_with_secret_reuses_the_key_file(tmp_path: Path) -> None:
    env = {"PORTSIDE_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env).with_secret()
    second = Settings.from_env(env).with_secret()
    assert second.secret_key == first.secret_key


def test_with_secret_reads_a_key_file_written_with_a_newline(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("an-operator-made-key\n")
    settings = Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path)}).with_secret()
    assert settings.secret_key == "an-operator-made-key"


def test_with_secret_keeps_a_key_given_in_the_environment(tmp_path: Path) -> None:
    env = {"PORTSIDE_DATA_DIR": str(tmp_path), "PORTSIDE_SECRET_KEY": "given"}
    settings = Settings.from_env(env).with_secret()
    assert settings.secret_key == "given"
    assert not (tmp_path / "secret.key").exists()


def test_different_data_directories_get_different_keys(tmp_path: Path) -> None:
    one = Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path / "one")}).with_secret()
    two = Settings.from_env({"PORTSIDE_DATA_DIR": str(tmp_path / "two")}).with_secret()
    assert one.secret_key != two.secret_key
