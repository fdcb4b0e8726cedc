// The CID ipfs-unixfs-importer (the reference JavaScript UnixFS importer, Helia's) gives a folder of files, with
// Kubo's options for `ipfs add -r --cid-version=1` (CIDv1 implies raw leaves). Reads {"folder", "files":
// [{"name", "base64"}]} on stdin, prints {"folder": "<cid>", "files": {"<name>": "<cid>"}}.
import { importer } from 'ipfs-unixfs-importer';
import { MemoryBlockstore } from 'blockstore-core/memory';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const source = request.files.map((file) => ({
  path: `${request.folder}/${file.name}`,
  content: Buffer.from(file.base64, 'base64'),
}));
const out = { folder: null, files: {} };
for await (const entry of importer(source, new MemoryBlockstore(), { cidVersion: 1, rawLeaves: true })) {
  if (entry.path === request.folder) out.folder = entry.cid.toString();
  else out.files[entry.path.slice(request.folder.length + 1)] = entry.cid.toString();
}
process.stdout.write(JSON.stringify(out));
