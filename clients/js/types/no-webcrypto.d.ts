// @dmtp/key-registry-client/no-webcrypto: AES-256-GCM for runtimes without crypto.subtle (React Native, old runtimes).

/** Call once at startup: the envelopes then seal and open with @noble/ciphers' AES-256-GCM where crypto.subtle is missing. */
export function installNobleAesGcm(): void;
