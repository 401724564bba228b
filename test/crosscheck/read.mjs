// Reads GGUF files with @huggingface/gguf and prints its view of each as
// one JSON document: {"files": [{path, little_endian, version,
// tensor_data_offset, metadata: [{key, type, sub_type, value}], tensors:
// [{name, n_dims, shape, dtype, offset}]}]}.
//
// JSON cannot hold bigints or non-finite numbers, so bigints (uint64,
// int64, shapes, offsets) are printed as decimal strings and NaN/±Infinity
// as the strings "NaN", "Infinity" and "-Infinity". Values are complete:
// arrays are printed whole, so the Go side compares every element.
//
// Usage: node read.mjs FILE...
import { readFileSync } from "node:fs";
import { gguf } from "@huggingface/gguf";

const libraryVersion = JSON.parse(
	readFileSync(new URL("./node_modules/@huggingface/gguf/package.json", import.meta.url), "utf8"),
).version;

// The keys the library adds in front of the file's own metadata.
const synthetic = new Set(["version", "tensor_count", "kv_count"]);

function plain(v) {
	if (typeof v === "bigint") return v.toString();
	if (typeof v === "number" && !Number.isFinite(v)) return String(v);
	if (Array.isArray(v)) return v.map(plain);
	return v;
}

async function read(path) {
	const out = await gguf(path, { allowLocalFile: true, typedMetadata: true });
	const metadata = [];
	for (const [key, entry] of Object.entries(out.typedMetadata)) {
		if (synthetic.has(key) && metadata.length === 0) continue;
		metadata.push({ key, type: entry.type, sub_type: entry.subType ?? null, value: plain(entry.value) });
	}
	return {
		path,
		little_endian: out.littleEndian,
		version: out.metadata.version,
		tensor_data_offset: out.tensorDataOffset.toString(),
		metadata,
		tensors: out.tensorInfos.map((t) => ({
			name: t.name,
			n_dims: t.n_dims,
			shape: t.shape.map((d) => d.toString()),
			dtype: t.dtype,
			offset: t.offset.toString(),
		})),
	};
}

const files = [];
for (const path of process.argv.slice(2)) {
	files.push(await read(path));
}
process.stdout.write(JSON.stringify({ library_version: libraryVersion, files }));
