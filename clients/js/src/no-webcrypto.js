// @dmtp/key-registry-client/no-webcrypto: for runtimes without crypto.subtle (React Native, old runtimes). Call
// installNobleAesGcm() once at startup: the envelopes then seal and open with @noble/ciphers' AES-256-GCM (SHA-256
// and HKDF fall back to @noble by themselves). Browsers and Node have WebCrypto and need none of it.
import { gcm } from '@noble/ciphers/aes.js';
import { setAesGcmFallback } from './crypto.js';

/** Use @noble/ciphers' AES-256-GCM wherever crypto.subtle is missing. */
export function installNobleAesGcm() {
  setAesGcmFallback(gcm);
}
