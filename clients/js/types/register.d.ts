// Types of @dmtp/key-registry-client/register (src/register.js): register and revoke through the wallet.
export { register, revoke, buildRegistration, buildRevocation } from './index.js';
export type { RegisterOptions, RevokeOptions, RegistrationBody, RevocationBody, DmtpKey, KeyAnswer, Signer, WalletOptions } from './index.js';
