"""Platform tokens, encrypted at rest with a key from the settings (Fernet: AES + HMAC)."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hookline.errors import SettingsError
from hookline.settings import Settings
from publisher.errors import ChannelNeedsReconnect
from publisher.platforms.base import Tokens


def cipher(settings: Settings) -> Fernet:
    """Return the cipher for tokens: HOOKLINE_TOKEN_KEY, or a key derived from the secret."""
    if settings.token_key:
        try:
            return Fernet(settings.token_key.encode())
        except ValueError:
            raise SettingsError(
                "HOOKLINE_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes); make one "
                'with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            ) from None
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"hookline platform tokens", info=b"v1"
    ).derive(settings.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(settings: Settings, tokens: Tokens) -> str:
    return cipher(settings).encrypt(json.dumps(tokens.as_dict()).encode()).decode()


def unseal(settings: Settings, ciphertext: str | None, *, channel: str) -> Tokens:
    """Decrypt a channel's tokens; a missing or undecryptable one means reconnecting."""
    if not ciphertext:
        raise ChannelNeedsReconnect(f"{channel} is not connected: connect it to the platform.")
    try:
        data = json.loads(cipher(settings).decrypt(ciphertext.encode()))
    except InvalidToken:
        raise ChannelNeedsReconnect(
            f"{channel}'s tokens cannot be decrypted (was HOOKLINE_TOKEN_KEY or the secret key "
            "changed?): reconnect the channel."
        ) from None
    return Tokens.from_dict(data)
