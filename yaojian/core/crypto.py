"""Personal-data encryption 个人信息加密 at rest: SM4-GCM with a key kept outside the database.

The key comes from ``YAOJIAN_DATA_KEY`` (32 hex digits = 128-bit SM4 key); without it a
development key is derived from the secret key. Values are stored as
``sm4gcm:v1:<base64(nonce ‖ ciphertext ‖ tag)>``.
"""

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import models

PREFIX = "sm4gcm:v1:"


def _key() -> bytes:
    configured = os.environ.get("YAOJIAN_DATA_KEY")
    if configured:
        return bytes.fromhex(configured)
    return hashlib.new("sm3", (settings.SECRET_KEY + ":data").encode()).digest()[:16]


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.SM4(_key()), modes.GCM(nonce)).encryptor()
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return PREFIX + base64.b64encode(nonce + body + encryptor.tag).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("不是加密数据")
    raw = base64.b64decode(token[len(PREFIX) :])
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.SM4(_key()), modes.GCM(nonce, tag)).decryptor()
    return (decryptor.update(body) + decryptor.finalize()).decode()


class EncryptedTextField(models.TextField):
    """Text stored encrypted; Python code sees clear text, the database never does."""

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") or value.startswith(PREFIX) else encrypt(value)
