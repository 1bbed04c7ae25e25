from hubchaos.private.redact import redact, redact_text


def test_passwords_in_dsns_urls_and_keys_are_masked() -> None:
    value = {
        "dsn": "postgresql://hubchaos:s3cret@127.0.0.1:15432/learninghub",
        "conninfo": "host=127.0.0.1 password=s3cret user=x",
        "nested": [{"url": "http://u:s3cret@127.0.0.1/"}],
        "db_password": "s3cret",
    }
    masked = redact(value)
    assert "s3cret" not in repr(masked)
    assert masked["dsn"] == "postgresql://hubchaos:***@127.0.0.1:15432/learninghub"
    assert masked["conninfo"] == "host=127.0.0.1 password=*** user=x"


def test_text_without_secrets_is_unchanged() -> None:
    text = "GET http://127.0.0.1:18000/students/1/dashboard 200"
    assert redact_text(text) == text
