"""POST /keys and GET /keys/{address} through the Chalice app, on moto and the local pinning service."""

import json

from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.ethsig import SECP256K1_N
from dmtp_protocol.messages import Domain
from tests.conftest import CHAIN_ID
from tests.support.bundles import registration_body

JSON = {"Content-Type": "application/json"}


def post(api, body, headers=JSON, path="/keys"):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return api.http.post(path, headers=headers, body=raw)


def problem(response):
    assert response.headers["Content-Type"] == "application/problem+json"
    body = json.loads(response.body)
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body


def test_valid_registration_is_accepted_and_queued_under_its_cid_and_pinned_by_no_one_yet(api, stack, domain, wallet):
    pins_before = stack.pinning.pin_requests
    response = post(api, registration_body(wallet, domain))
    assert response.status_code == 202
    record = json.loads(response.body)
    assert record["status"] == "queued"
    assert cid_for_bytes(canonical_json(record["bundle"])) == record["cid"]
    assert record["cid"] not in stack.pinning.pins  # the worker pins it, in a batch, before writing it on chain
    assert stack.pinning.pin_requests == pins_before
    assert response.headers["Location"] == f"/keys/{wallet.address}"


def test_personal_sign_registration_is_accepted(api, domain, wallet):
    response = post(api, registration_body(wallet, domain, signature_type="eip191"))
    assert response.status_code == 202
    assert "DMTP Key Registry" in json.loads(response.body)["proof"]["personalSignText"]


def test_pinned_document_carries_what_a_third_party_needs_to_reverify(api, stack, domain, wallet):
    body = registration_body(wallet, domain)
    document = json.loads(post(api, body).body)["bundle"]
    for field in ("DMTPpubKey", "DMTPpriKey", "Signature", "keyType", "version", "issuedAt", "signatureType"):
        assert document[field] == body[field]
    assert document["wallet"] == wallet.address
    assert (document["chainId"], document["registry"]) == (CHAIN_ID, stack.registry_address)


def test_lookup_returns_bundle_cid_status_and_proof(api, domain, wallet):
    accepted = json.loads(post(api, registration_body(wallet, domain)).body)
    response = api.http.get(f"/keys/{wallet.address.lower()}")
    assert response.status_code == 200
    found = json.loads(response.body)
    assert (found["cid"], found["status"], found["bundle"]) == (accepted["cid"], "queued", accepted["bundle"])
    proof = found["proof"]
    assert proof["typedData"]["domain"] == domain.as_eip712()
    assert proof["signature"] == found["bundle"]["Signature"]


def test_signature_from_another_wallet_is_rejected(api, domain, wallet):
    from eth_account import Account

    response = post(api, registration_body(wallet, domain, signer=Account.create()))
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid-signature"


def test_tampered_dmtp_public_key_is_rejected(api, domain, wallet):
    body = registration_body(wallet, domain)
    body["DMTPpubKey"] = "0x" + ("00" if body["DMTPpubKey"][2:4] != "00" else "11") + body["DMTPpubKey"][4:]
    response = post(api, body)
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid-signature"


def test_signature_made_for_another_chain_is_rejected(api, stack, wallet):
    response = post(api, registration_body(wallet, Domain(CHAIN_ID + 1, stack.registry_address)))
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid-signature"


def test_signature_made_for_another_registry_contract_is_rejected(api, wallet):
    response = post(api, registration_body(wallet, Domain(CHAIN_ID, "0x" + "11" * 20)))
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid-signature"


def test_high_s_signature_is_rejected(api, domain, wallet):
    body = registration_body(wallet, domain)
    raw = bytes.fromhex(body["Signature"][2:])
    s = int.from_bytes(raw[32:64], "big")
    flipped_v = 27 + 28 - raw[64] if raw[64] >= 27 else 1 - raw[64]
    body["Signature"] = "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([flipped_v])).hex()
    response = post(api, body)
    assert response.status_code == 401
    answer = problem(response)
    assert answer["code"] == "invalid-signature" and "EIP-2" in answer["detail"]


def test_body_that_is_not_json_is_rejected(api):
    response = post(api, b"{not json")
    assert response.status_code == 400
    assert problem(response)["code"] == "malformed-request"


def test_body_that_is_not_an_object_is_rejected(api):
    response = post(api, [1, 2])
    assert response.status_code == 400
    assert problem(response)["code"] == "malformed-request"


def test_missing_fields_are_named_in_the_error(api, domain, wallet):
    body = registration_body(wallet, domain)
    del body["Signature"], body["DMTPpriKey"]
    response = post(api, body)
    assert response.status_code == 400
    answer = problem(response)
    assert (answer["code"], answer["fields"]) == ("malformed-request", ["DMTPpriKey", "Signature"])


def test_unknown_fields_are_rejected(api, domain, wallet):
    response = post(api, {**registration_body(wallet, domain), "admin": True})
    assert response.status_code == 400
    answer = problem(response)
    assert (answer["code"], answer["fields"]) == ("malformed-request", ["admin"])


def test_address_with_bad_checksum_is_rejected(api, domain, wallet):
    body = registration_body(wallet, domain)
    letters = [i for i, c in enumerate(body["address"]) if c.isalpha() and i > 1]
    flipped = list(body["address"])
    flipped[letters[0]] = flipped[letters[0]].swapcase()
    body["address"] = "".join(flipped)
    response = post(api, body)
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid-address"


def test_oversized_body_is_rejected_with_413(api, domain, wallet):
    body = registration_body(wallet, domain)
    body["DMTPpriKey"]["ciphertext"] = "A" * 16400
    response = post(api, body)
    assert response.status_code == 413
    answer = problem(response)
    assert (answer["code"], answer["limit"]) == ("payload-too-large", 16384)


def test_non_json_content_type_is_rejected_with_415(api, domain, wallet):
    response = post(api, registration_body(wallet, domain), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported-media-type"


def test_lookup_of_unknown_wallet_is_404(api, wallet):
    response = api.http.get(f"/keys/{wallet.address}")
    assert response.status_code == 404
    assert problem(response)["code"] == "not-found"


def test_lookup_of_malformed_address_is_400(api):
    response = api.http.get("/keys/0x12345")
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid-address"


def test_resubmitting_the_same_bundle_answers_200_with_the_same_record(api, domain, wallet):
    body = registration_body(wallet, domain)
    first = json.loads(post(api, body).body)
    again = post(api, body)
    assert again.status_code == 200
    assert json.loads(again.body)["version"] == first["version"] == 1


def test_a_pinning_outage_does_not_touch_registration(api, domain, pinning, wallet):
    pinning.fault.status = 500
    response = post(api, registration_body(wallet, domain))
    assert response.status_code == 202  # pinning is the worker's, in batches: an outage delays the chain write only
    assert json.loads(api.http.get(f"/keys/{wallet.address}").body)["status"] == "queued"


def test_config_names_the_chain_and_registry_a_client_must_sign_for(api, stack):
    body = json.loads(api.http.get("/config").body)
    assert body == {"chainId": CHAIN_ID, "registry": stack.registry_address}
