from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.settings import load_settings


def test_defaults_come_from_the_shipped_file():
    settings = load_settings()
    assert settings.alerts.deadline_leads == ["90d", "30d", "7d", "1d", "0d"]
    assert settings.effective_database_url == "sqlite:///var/tracker.db"
    assert settings.smtp.host is None


def test_config_file_overrides_defaults_and_environment_overrides_both(tmp_path, monkeypatch):
    config = tmp_path / "tracker.toml"
    config.write_text('[smtp]\nhost = "mail.example.org"\nport = 2525\n')
    assert load_settings(config).smtp.port == 2525
    monkeypatch.setenv("TRACKER_SMTP__PORT", "587")
    settings = load_settings(config)
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example.org", 587)


def test_config_file_named_in_the_environment_is_read(tmp_path, monkeypatch):
    config = tmp_path / "mine.toml"
    config.write_text('timezone = "Europe/Geneva"\n')
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    assert load_settings().timezone == "Europe/Geneva"


def test_missing_config_file_is_an_error_not_ignored(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_bad_value_names_the_key_and_the_file(tmp_path):
    config = tmp_path / "tracker.toml"
    config.write_text('[smtp]\nport = "twenty-five"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "smtp.port" in str(caught.value)
    assert str(config) in str(caught.value)


def test_unknown_key_is_refused(tmp_path):
    config = tmp_path / "tracker.toml"
    config.write_text('[smtp]\nhots = "typo"\n')
    with pytest.raises(ConfigError, match=r"smtp\.hots"):
        load_settings(config)


def test_password_is_never_printed_even_in_errors(tmp_path, monkeypatch):
    config = tmp_path / "tracker.toml"
    config.write_text('[smtp]\npassword = "hunter2"\nport = "hunter2-port"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "hunter2" not in str(caught.value)
    config.write_text('[smtp]\npassword = "hunter2"\n')
    settings = load_settings(config)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "hunter2"


def test_unknown_time_zone_is_refused_naming_the_key(monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="timezone"):
        load_settings()


def test_invalid_toml_is_reported_with_its_file(tmp_path: Path):
    config = tmp_path / "tracker.toml"
    config.write_text("[smtp\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)


@pytest.mark.parametrize("secret", ["", "s3cr3t-value", "q" * 31])
def test_a_signing_secret_shorter_than_32_characters_is_refused_and_never_shown(
    tmp_path: Path, secret: str
):
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[server]\nprevious_secrets = [{{ secret = "{secret}", until = 2027-01-01 }}]\n'
    )
    for given in ({"config_file": None, "server": {"secret": secret}}, {"config_file": config}):
        with pytest.raises(ConfigError, match="at least 32 characters") as refused:
            load_settings(**given)  # type: ignore[arg-type]
        assert secret == "" or secret not in str(refused.value)
