// The /abi entry: the DMTPKeys ABI the dapp gets is the compiled contract's, and the event topics are their hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EVENT_TOPICS, dmtpKeysAbi, dmtpKeysEvents, keyRevokedEvent, keyUpdatedEvent, logAnchoredEvent } from '../src/abi.js';
import { to0x, utf8 } from '../src/bytes.js';
import { keccak256 } from '../src/ethsig.js';

const compiled = JSON.parse(readFileSync(new URL('../../../packages/dmtp-protocol/src/dmtp_protocol/contracts/DMTPKeys.json', import.meta.url), 'utf8'));
const signature = (event) => `${event.name}(${event.inputs.map((input) => input.type).join(',')})`;

test('the exported ABI is the compiled DMTPKeys contract’s, item for item', () => {
  assert.deepEqual(dmtpKeysAbi, compiled.abi);
});

test('the exported events are the ABI’s KeyUpdated, KeyRevoked and LogAnchored items', () => {
  assert.deepEqual(dmtpKeysEvents, [keyUpdatedEvent, keyRevokedEvent, logAnchoredEvent]);
  for (const event of dmtpKeysEvents) assert.equal(dmtpKeysAbi.find((item) => item.type === 'event' && item.name === event.name), event);
});

test('each event topic is keccak256 of the event’s signature', () => {
  assert.deepEqual(Object.keys(EVENT_TOPICS), ['KeyUpdated', 'KeyRevoked', 'LogAnchored']);
  for (const event of dmtpKeysEvents) assert.equal(EVENT_TOPICS[event.name], to0x(keccak256(utf8(signature(event)))));
});
