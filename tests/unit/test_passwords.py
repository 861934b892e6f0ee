from app.core.passwords import hash_password, needs_rehash, verify_password


def test_a_hash_verifies_only_its_own_password_and_is_salted() -> None:
    first, second = hash_password("open sesame"), hash_password("open sesame")
    assert first != second
    assert verify_password("open sesame", first)
    assert not verify_password("open sesamE", first)


def test_garbage_in_the_hash_column_never_verifies() -> None:
    assert not verify_password("x", "")
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "scrypt$notanumber$8$1$AA==$AA==")


def test_weaker_parameters_are_upgraded_at_the_next_sign_in() -> None:
    assert needs_rehash(hash_password("pw", n=2**10))
    assert not needs_rehash(hash_password("pw"))
