// Types of @dmtp/key-registry-client/log (src/log.js): the transparency log's leaves and RFC 9162 proofs.
export {
  LEAF_KIND_KEY, LEAF_KIND_REVOCATION, EMPTY_ROOT, leafBytes, parseLeaf, leafHash, nodeHash, merkleRoot, TreeBuilder,
  rootFromInclusion, verifyInclusion, verifyConsistency,
} from './index.js';
