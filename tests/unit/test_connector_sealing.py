"""Connector secrets sealed under the installation's key: read back only with that key, any change to the
sealed text detected, the same value sealed twice never the same text, nothing of the value in the clear."""
import pytest

from engine.connectors.sealing import Unreadable, seal, unseal


def test_sealed_secrets_open_only_under_their_key_and_unchanged():
    values = {"url": "https://oapi.dingtalk.com/robot/send?access_token=ABC", "sign_secret": "SEC密钥"}
    sealed = seal("key-1", values)
    assert "ABC" not in sealed and "SEC" not in sealed and seal("key-1", values) != sealed
    assert unseal("key-1", sealed) == values
    with pytest.raises(Unreadable):
        unseal("key-2", sealed)
    prefix, body = sealed.split(":", 1)
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(Unreadable):
        unseal("key-1", f"{prefix}:{flipped}")
    assert unseal("key-1", None) == {}


@pytest.mark.parametrize("token", ["d1:" + "A" * 96, "d2:", "d2:not base64!", "d2:" + "A" * 30, "sealed"])
def test_text_that_is_not_a_sealing_of_this_version_is_unreadable(token):
    """An earlier format (d1), a cut or garbled token: unreadable, and the connector asks for the secrets again."""
    with pytest.raises(Unreadable):
        unseal("key-1", token)
