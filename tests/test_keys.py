"""API keys: random, hashed for the settings, matched by name in constant time."""

from ooi_status.keys import hash_api_key, is_valid_hash, match_api_key, new_api_key


def test_new_keys_are_long_and_distinct():
    keys = {new_api_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) >= 40 for key in keys)


def test_hash_is_the_settings_form():
    digest = hash_api_key("secret")
    assert digest == "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    assert is_valid_hash(digest)
    assert not is_valid_hash("secret") and not is_valid_hash("sha256:XYZ") and not is_valid_hash(None)


def test_match_names_the_key():
    hashes = {"ops": hash_api_key("a"), "cron": hash_api_key("b")}
    assert match_api_key("a", hashes) == "ops"
    assert match_api_key("b", hashes) == "cron"
    assert match_api_key("c", hashes) is None
    assert match_api_key("a", {}) is None
    assert match_api_key("a", {"bad": "not a hash"}) is None
