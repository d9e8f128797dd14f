"""Buyer identity 购药人身份: validation and the keyed hash used to count distinct buyers.

``buyer_hash`` = HMAC-SM3(key, normalised ID number), hex. The key is ``YAOJIAN_BUYER_HASH_KEY`` (hex) when set,
otherwise derived from the personal-data key (``YAOJIAN_DATA_KEY``, see ``core.crypto``) as
HMAC-SM3(data key, "yaojian:pharmacy:buyer-hash:v1"). Both live outside the database, so a copy of the
database alone cannot test guessed ID numbers against the hashes (an unkeyed hash of an 18-digit ID with a
known check digit and birth date could be brute-forced). Rotating the key changes every hash: distinct-buyer
counts already stored in ``DailyCount`` stay valid, new ones are computed with the new key.
"""

import hmac
import os

from yaojian.core import crypto, identifiers

HASH_CONTEXT = b"yaojian:pharmacy:buyer-hash:v1"


def _hash_key() -> bytes:
    configured = os.environ.get("YAOJIAN_BUYER_HASH_KEY")
    if configured:
        return bytes.fromhex(configured)
    return hmac.new(crypto._key(), HASH_CONTEXT, "sm3").digest()


def buyer_hash(id_number: str) -> str:
    return hmac.new(_hash_key(), identifiers.normalize(id_number).encode(), "sm3").hexdigest()


def check_buyer(name: str, id_number: str) -> dict[str, str]:
    """Reasons by field for an invalid buyer (empty dict when valid)."""
    errors = {}
    if not str(name or "").strip():
        errors["buyer_name"] = "购药人姓名不能为空"
    elif len(str(name).strip()) > 40:
        errors["buyer_name"] = "购药人姓名过长（最多40字）"
    reason = identifiers.check_resident_id(id_number)
    if reason:
        errors["buyer_id_number"] = f"身份证号无效：{reason}"
    return errors
