"""The one place a request's source address becomes the keys its per-source limits count (model.Source).

- IPv4: the address itself; its network is the /24 around it.
- IPv6: the /64 (a subscriber's prefix: one host can take any of its 2^64 addresses, so per-address limits would
  bound nothing); its network is the /48 around it (a site's usual allocation).
- IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer): the IPv4 address.
- Anything else (no identity, "unknown", a string that is no IP address): a source of its own, named by the text
  (hashed when long or unusual, so a key stays short and printable); its network is that same key.

Pure: no I/O, the same answer for the same text in every process.
"""

import functools
import hashlib
import ipaddress
import re

from chalicelib.model import Source

IPV4_NETWORK_BITS = 24
IPV6_SOURCE_BITS = 64
IPV6_NETWORK_BITS = 48
_PLAIN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@functools.lru_cache(maxsize=4096)  # pure: a warm container asks again for the same few addresses (~10 us each)
def source_of(raw: str) -> Source:
    """The limits' keys of the source address `raw` (API Gateway's requestContext.identity.sourceIp)."""
    text = raw.strip()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # a zone id (fe80::1%eth0) names no other host
    except ValueError:
        return _other(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        network = ipaddress.IPv4Network((address, IPV4_NETWORK_BITS), strict=False)
        return Source(f"ip4:{address}", f"ip4:{network}")
    own = ipaddress.IPv6Network((address, IPV6_SOURCE_BITS), strict=False)
    wider = ipaddress.IPv6Network((address, IPV6_NETWORK_BITS), strict=False)
    return Source(f"ip6:{own}", f"ip6:{wider}")


def _other(text: str) -> Source:
    name = (
        text if _PLAIN.fullmatch(text) else "sha256-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
    )
    key = f"other:{name}"
    return Source(key, key)
