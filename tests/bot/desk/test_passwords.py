from __future__ import annotations

from bot.desk.passwords import hash_password, verify_password


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("scrypt$") and first != second  # a fresh salt each time
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)


def test_malformed_stored_hashes_never_verify() -> None:
    for stored in ("", "plain", "md5$x$y", "scrypt$1$2$3$!!$!!"):
        assert not verify_password("anything", stored)
