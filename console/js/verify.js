// What the console checks before it shows anything as verified: RFC 9162
// Merkle proofs, C2SP signed notes and checkpoints, C2SP tlog-cosignature
// lines and a C2SP tlog-policy quorum, and sealed values against the
// commitments their entries hold (spec §2.10).  Plain WebCrypto (SHA-256, Ed25519),
// the same in the browser and in Node's test runner (console/test/).

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** A verification that did not hold; message says why, for people. */
export class VerifyError extends Error {}

function fail(msg) {
	throw new VerifyError(msg);
}

export function utf8(s) {
	return enc.encode(s);
}

export function concat(...parts) {
	let n = 0;
	for (const p of parts) n += p.length;
	const out = new Uint8Array(n);
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}

export function equalBytes(a, b) {
	if (a.length !== b.length) return false;
	let d = 0;
	for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
	return d === 0;
}

export function hex(bytes) {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(s) {
	if (!/^([0-9a-f]{2})*$/i.test(s)) fail("not hexadecimal");
	const out = new Uint8Array(s.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
	return out;
}

/** Standard base64 with padding (RFC 4648 §4), strictly: nothing else passes. */
export function b64decode(s) {
	if (typeof s !== "string" || s.length % 4 !== 0 ||
	    !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
		fail("malformed base64");
	const bin = atob(s);
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
	// Non-canonical trailing bits would let two texts mean one value.
	if (b64encode(out) !== s) fail("non-canonical base64");
	return out;
}

export function b64encode(bytes) {
	let bin = "";
	for (const b of bytes) bin += String.fromCharCode(b);
	return btoa(bin);
}

export async function sha256(bytes) {
	return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// RFC 9162 §2.1.1: leaf and interior node hashes.
export async function leafHash(bytes) {
	return sha256(concat(Uint8Array.of(0), bytes));
}

export async function nodeHash(left, right) {
	return sha256(concat(Uint8Array.of(1), left, right));
}

function big(n, what) {
	if (typeof n === "bigint") return n;
	if (!Number.isSafeInteger(n) || n < 0) fail(what + " is not a non-negative integer");
	return BigInt(n);
}

function hashList(proof) {
	if (!Array.isArray(proof)) fail("the proof is not a list");
	return proof.map((h) => {
		const b = typeof h === "string" ? b64decode(h) : h;
		if (b.length !== 32) fail("a proof hash is not 32 bytes");
		return b;
	});
}

/**
 * RFC 9162 §2.1.3.2: verifies that leaf (its leaf hash) is entry index of
 * the tree of treeSize leaves with the given root.  proof: hashes (base64
 * or bytes) from the leaf upward.  Throws VerifyError with the reason.
 */
export async function verifyInclusion(index, treeSize, leaf, proof, root) {
	let fn = big(index, "index");
	let sn = big(treeSize, "tree size");
	const path = hashList(proof);
	if (fn >= sn) fail(`index ${fn} is not below the tree size ${sn}`);
	sn -= 1n;
	let r = leaf;
	for (const p of path) {
		if (sn === 0n) fail("the inclusion proof is too long");
		if ((fn & 1n) === 1n || fn === sn) {
			r = await nodeHash(p, r);
			if ((fn & 1n) === 0n)
				while ((fn & 1n) === 0n && fn !== 0n) {
					fn >>= 1n;
					sn >>= 1n;
				}
		} else {
			r = await nodeHash(r, p);
		}
		fn >>= 1n;
		sn >>= 1n;
	}
	if (sn !== 0n) fail("the inclusion proof is too short");
	if (!equalBytes(r, root)) fail("the inclusion proof does not lead to the checkpoint's root");
	return true;
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree of size second with root
 * secondRoot extends the tree of size first with root firstRoot.
 * Throws VerifyError with the reason.
 */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
	const m = big(first, "old size");
	const n = big(second, "new size");
	let path = hashList(proof);
	if (m > n) fail(`the old size ${m} is beyond the new size ${n}`);
	if (m === n) {
		if (path.length !== 0) fail("a consistency proof between equal sizes must be empty");
		if (!equalBytes(firstRoot, secondRoot)) fail("the same tree size with two different roots");
		return true;
	}
	if (m === 0n) {
		// Every tree extends the empty one; RFC 9162 defines no proof for it.
		if (path.length !== 0) fail("a consistency proof from size 0 must be empty");
		return true;
	}
	if (path.length === 0) fail("the consistency proof is empty");
	if ((m & (m - 1n)) === 0n) path = [firstRoot, ...path];
	let fn = m - 1n;
	let sn = n - 1n;
	while ((fn & 1n) === 1n) {
		fn >>= 1n;
		sn >>= 1n;
	}
	let fr = path[0];
	let sr = path[0];
	for (const c of path.slice(1)) {
		if (sn === 0n) fail("the consistency proof is too long");
		if ((fn & 1n) === 1n || fn === sn) {
			fr = await nodeHash(c, fr);
			sr = await nodeHash(c, sr);
			if ((fn & 1n) === 0n)
				while ((fn & 1n) === 0n && fn !== 0n) {
					fn >>= 1n;
					sn >>= 1n;
				}
		} else {
			sr = await nodeHash(sr, c);
		}
		fn >>= 1n;
		sn >>= 1n;
	}
	if (sn !== 0n) fail("the consistency proof is too short");
	if (!equalBytes(fr, firstRoot)) fail("the consistency proof does not lead to the old root");
	if (!equalBytes(sr, secondRoot)) fail("the consistency proof does not lead to the new root");
	return true;
}

// C2SP signed-note key types.
export const KEY_ED25519 = 0x01;
export const KEY_COSIGNATURE_V1 = 0x04;

/** Key ID: SHA-256(name || 0x0A || type || public key)[:4], big-endian. */
export async function keyId(name, type, pub) {
	const h = await sha256(concat(utf8(name), Uint8Array.of(0x0a, type), pub));
	return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

function validKeyName(name) {
	return name.length > 0 && !/[\s+]/.test(name) && !/[\x00-\x1f\x7f]/.test(name);
}

/**
 * Parses a note verifier key `<name>+<8 hex key ID>+<base64(type || key)>`
 * of type 0x01 (log) or 0x04 (witness) and checks its key ID.
 * Returns {name, id, type, pub, text}.
 */
export async function parseVerifierKey(text) {
	if (typeof text !== "string") fail("the verifier key is not text");
	text = text.trim();
	// The base64 key may hold "+" itself; the name and key ID do not.
	const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
	if (!m) fail("a verifier key is name+keyid+key");
	const [, name, idHex, keyB64] = m;
	if (!validKeyName(name)) fail("the key name is empty or holds a space or control character");
	if (!/^[0-9a-f]{8}$/.test(idHex)) fail("the key ID is not 8 lowercase hex digits");
	const raw = b64decode(keyB64);
	if (raw.length !== 33) fail("the key is not a type byte and 32 bytes");
	const type = raw[0];
	if (type !== KEY_ED25519 && type !== KEY_COSIGNATURE_V1)
		fail(`key type 0x${type.toString(16).padStart(2, "0")} is not Ed25519 (0x01) or cosignature/v1 (0x04)`);
	const pub = raw.slice(1);
	const id = await keyId(name, type, pub);
	if (id !== parseInt(idHex, 16)) fail("the key ID does not match the name and key");
	return { name, id, type, pub, text };
}

/** A fingerprint people can compare aloud: SHA-256 of the key text, in groups. */
export async function fingerprint(text) {
	const h = hex(await sha256(utf8(text.trim())));
	return h.slice(0, 32).match(/.{4}/g).join(" ");
}

/**
 * Splits a signed note into its text (final newline included) and its
 * signature lines [{name, id, blob}].  Throws on a malformed note.
 */
export function parseNote(note) {
	if (typeof note !== "string") fail("the note is not text");
	const cut = note.lastIndexOf("\n\n");
	if (cut < 0) fail("the note has no blank line before its signatures");
	const text = note.slice(0, cut + 1);
	const sigText = note.slice(cut + 2);
	if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) fail("the note text holds a control character");
	if (!sigText.endsWith("\n")) fail("the signature block does not end in a newline");
	const lines = sigText.slice(0, -1).split("\n");
	if (lines.length > 100) fail("more than 100 signature lines");
	const sigs = lines.map((line) => {
		const m = /^\u2014 ([^ ]+) ([A-Za-z0-9+/=]+)$/.exec(line);
		if (!m) fail("a malformed signature line");
		const blob = b64decode(m[2]);
		if (blob.length < 5) fail("a signature shorter than its key ID");
		const id = ((blob[0] << 24) | (blob[1] << 16) | (blob[2] << 8) | blob[3]) >>> 0;
		return { name: m[1], id, blob };
	});
	return { text, sigs };
}

async function ed25519Verify(pub, sig, msg) {
	try {
		const key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
		return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
	} catch (e) {
		return false;
	}
}

/**
 * Verifies a note's signature by key (a parsed type 0x01 key).
 * Returns true when a line of that name and key ID holds a valid signature;
 * throws VerifyError naming what was found instead.
 */
export async function verifyNoteSignature(note, key) {
	const { text, sigs } = typeof note === "string" ? parseNote(note) : note;
	const mine = sigs.filter((s) => s.name === key.name && s.id === key.id);
	if (mine.length === 0) {
		const names = sigs.map((s) => `${s.name}+${s.id.toString(16).padStart(8, "0")}`);
		fail(`not signed by the pinned key ${key.name}+${key.id.toString(16).padStart(8, "0")}` +
		    ` (signed by ${names.join(", ") || "nobody"})`);
	}
	for (const s of mine) {
		if (s.blob.length !== 68) fail("the log's signature is not 68 bytes");
		if (!(await ed25519Verify(key.pub, s.blob.slice(4), utf8(text))))
			fail("the log's signature does not verify");
	}
	return true;
}

/** C2SP tlog-checkpoint body: origin, size, root, extension lines. */
export function parseCheckpoint(text) {
	const lines = text.split("\n");
	if (lines.length < 4 || lines[lines.length - 1] !== "") fail("a checkpoint has three lines at least");
	const [origin, sizeText, rootB64] = lines;
	if (origin === "") fail("the checkpoint's origin is empty");
	if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail("the checkpoint's tree size is not a decimal");
	const size = BigInt(sizeText);
	if (size > BigInt(Number.MAX_SAFE_INTEGER)) fail("the tree size is beyond what the console counts");
	const root = b64decode(rootB64);
	if (root.length !== 32) fail("the checkpoint's root hash is not 32 bytes");
	return { origin, size: Number(size), root, extensions: lines.slice(3, -1) };
}

/**
 * C2SP tlog-policy as spec §10.5 reads it (the daemon's ledger_policy_*):
 * log, witness, group and quorum lines; blank lines and lines starting
 * with # ignored; no key twice; witness and group names share one
 * namespace, with none reserved.
 * Returns {logs: [key], witnesses: Map(name → key), groups: Map(name →
 * {k, members}), quorum: name or "none"}.
 */
export async function parsePolicy(text) {
	const logs = [];
	const witnesses = new Map();
	const groups = new Map();
	const used = new Set();
	const keys = new Set();
	let quorum = null;
	const lines = text.split("\n");
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i].trim();
		if (line === "" || line.startsWith("#")) continue;
		const w = line.split(/\s+/);
		const where = `policy line ${i + 1}`;
		switch (w[0]) {
		case "log": {
			if (w.length < 2 || w.length > 3) fail(`${where}: log <vkey> [<url>]`);
			const k = await parseVerifierKey(w[1]);
			if (k.type !== KEY_ED25519) fail(`${where}: a log key has type 0x01`);
			if (keys.has(k.text)) fail(`${where}: the key is listed twice`);
			keys.add(k.text);
			logs.push(k);
			break;
		}
		case "witness": {
			if (w.length < 3 || w.length > 4) fail(`${where}: witness <name> <vkey> [<url>]`);
			if (w[1] === "none" || witnesses.has(w[1]) || groups.has(w[1])) fail(`${where}: ${w[1]} is named twice or reserved`);
			const k = await parseVerifierKey(w[2]);
			if (k.type !== KEY_COSIGNATURE_V1) fail(`${where}: a witness key has type 0x04 (cosignature/v1)`);
			if (keys.has(k.text)) fail(`${where}: the key is listed twice`);
			keys.add(k.text);
			witnesses.set(w[1], k);
			break;
		}
		case "group": {
			if (w.length < 4) fail(`${where}: group <name> all|any|<k> <member>...`);
			const name = w[1];
			if (name === "none" || witnesses.has(name) || groups.has(name)) fail(`${where}: ${name} is named twice`);
			const members = w.slice(3);
			for (const m of members) {
				if (!witnesses.has(m) && !groups.has(m)) fail(`${where}: ${m} is not a witness or an earlier group`);
				if (used.has(m)) fail(`${where}: ${m} is a member twice`);
				used.add(m);
			}
			let k;
			if (w[2] === "all") k = members.length;
			else if (w[2] === "any") k = 1;
			else if (/^[1-9][0-9]*$/.test(w[2]) && Number(w[2]) <= members.length) k = Number(w[2]);
			else fail(`${where}: the threshold is all, any or 1..${members.length}`);
			groups.set(name, { k, members });
			break;
		}
		case "quorum":
			if (w.length !== 2) fail(`${where}: quorum <name>|none`);
			if (quorum !== null) fail(`${where}: a second quorum`);
			if (w[1] !== "none" && !witnesses.has(w[1]) && !groups.has(w[1]))
				fail(`${where}: the quorum ${w[1]} is not a witness or group`);
			quorum = w[1];
			break;
		default:
			fail(`${where}: unknown statement ${w[0]}`);
		}
	}
	if (quorum === null) fail("the policy has no quorum line");
	return { logs, witnesses, groups, quorum };
}

/** Whether the quorum holds given the set of witness names whose cosignature verified. */
export function quorumSatisfied(policy, good) {
	const holds = (name) => {
		if (policy.witnesses.has(name)) return good.has(name);
		const g = policy.groups.get(name);
		return g.members.filter(holds).length >= g.k;
	};
	return policy.quorum === "none" ? true : holds(policy.quorum);
}

const MAX_TIMESTAMP = (1n << 63n) - 1n;

/**
 * Verifies a signed checkpoint against the pinned log key and witness
 * policy.  Never throws for a bad cosignature: every cosignature of a
 * known witness is reported with ok and why.  Throws VerifyError when the
 * log's own signature or the checkpoint's form fails.
 * Returns {checkpoint, text, cosignatures: [{witness, ok, time, why}],
 * quorum, quorumOk}.
 */
export async function verifyCheckpoint(note, logKey, policy, nowSeconds) {
	const parsed = parseNote(note);
	const checkpoint = parseCheckpoint(parsed.text);
	if (checkpoint.origin !== logKey.name)
		fail(`the checkpoint's origin ${checkpoint.origin} is not the pinned key's name ${logKey.name}`);
	await verifyNoteSignature(parsed, logKey);
	if (policy && policy.logs.length > 0 &&
	    !policy.logs.some((k) => k.name === logKey.name && k.id === logKey.id && equalBytes(k.pub, logKey.pub)))
		fail("the pinned log key is not the log the witness policy names");
	const cosignatures = [];
	const good = new Set();
	const now = BigInt(Math.floor(nowSeconds ?? Date.now() / 1000));
	for (const [wname, key] of policy ? policy.witnesses : []) {
		for (const s of parsed.sigs) {
			// Matched by name and key ID together (formats.md).
			if (s.name !== key.name || s.id !== key.id) continue;
			const c = { witness: wname, ok: false, time: null, why: "" };
			cosignatures.push(c);
			if (s.blob.length !== 76) {
				c.why = "a cosignature is 76 bytes";
				continue;
			}
			let t = 0n;
			for (let i = 4; i < 12; i++) t = (t << 8n) | BigInt(s.blob[i]);
			c.time = t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : null;
			if (t === 0n || t > MAX_TIMESTAMP) {
				c.why = "the cosignature's timestamp is 0 or beyond 2^63-1";
				continue;
			}
			if (t > now + 600n) {
				c.why = "the cosignature's timestamp is in the future";
				continue;
			}
			const msg = concat(utf8(`cosignature/v1\ntime ${t}\n`), utf8(parsed.text));
			if (!(await ed25519Verify(key.pub, s.blob.slice(12), msg))) {
				c.why = "the cosignature does not verify";
				continue;
			}
			c.ok = true;
			good.add(wname);
		}
	}
	return {
		checkpoint, text: parsed.text, cosignatures,
		quorum: policy ? policy.quorum : "none",
		quorumOk: policy ? quorumSatisfied(policy, good) : true,
	};
}

// Spec §2.4: strings as Jansson writes them with JSON_ENSURE_ASCII.
function quote(s) {
	let out = '"';
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c === 0x22) out += '\\"';
		else if (c === 0x5c) out += "\\\\";
		else if (c === 0x08) out += "\\b";
		else if (c === 0x0c) out += "\\f";
		else if (c === 0x0a) out += "\\n";
		else if (c === 0x0d) out += "\\r";
		else if (c === 0x09) out += "\\t";
		else if (c < 0x20 || c > 0x7f) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
		else out += s[i];
	}
	return out + '"';
}

function compareUtf8(a, b) {
	const x = enc.encode(a), y = enc.encode(b);
	for (let i = 0; i < x.length && i < y.length; i++)
		if (x[i] !== y[i]) return x[i] - y[i];
	return x.length - y.length;
}

// A real number as Jansson writes it: "%.17g", no "+" or leading zeros in
// the exponent, ".0" when it would read as an integer.
function realText(v) {
	const [mant, e] = v.toExponential(16).split("e");
	const exp = Number(e);
	let s;
	if (exp < -4 || exp >= 17) {
		s = mant.replace(/\.?0+$/, "") + "e" + (exp < 0 ? "-" : "") + Math.abs(exp);
	} else {
		s = v.toFixed(16 - exp);
		if (s.includes(".")) s = s.replace(/\.?0+$/, "");
	}
	return /[.e]/.test(s) ? s : s + ".0";
}

/**
 * The bytes a sealed value is committed as (spec §2.10): its JSON text
 * serialised like an entry: compact, keys in byte order, non-ASCII escaped.
 * A real number with an integral value (2.0) cannot be told from an
 * integer once parsed; such values are written as integers.
 */
export function canonicalJSON(v) {
	if (v === null) return "null";
	if (v === true) return "true";
	if (v === false) return "false";
	if (typeof v === "number") {
		if (!Number.isFinite(v)) fail("a sealed value holds a number JSON cannot");
		return Number.isInteger(v) ? String(v) : realText(v);
	}
	if (typeof v === "string") return quote(v);
	if (Array.isArray(v)) return "[" + v.map(canonicalJSON).join(",") + "]";
	if (typeof v === "object")
		return "{" + Object.keys(v).sort(compareUtf8).map((k) =>
			quote(k) + ":" + canonicalJSON(v[k])).join(",") + "}";
	fail("a sealed value is not JSON");
}

/**
 * Spec §2.10: SHA-256("ledgerd sealed v1" || 0x00 || field || 0x00 ||
 * salt || value bytes).
 */
export async function sealedCommitment(field, salt, valueBytes) {
	return sha256(concat(utf8("ledgerd sealed v1"), Uint8Array.of(0), utf8(field),
		Uint8Array.of(0), salt, valueBytes));
}

/**
 * Checks the opened values an answer carries for a parsed entry (spec
 * §2.10): every sealed field has a value whose salt and value give the
 * entry's commitment, or a destroyed or withheld marker; no other field is
 * opened.  Returns a copy of the entry with the opened values in their
 * fields and `opened` kept beside them.  Throws VerifyError.
 */
export async function verifyOpened(entry, opened) {
	const sealed = entry.sealed;
	if (sealed === undefined) {
		if (opened !== undefined && (typeof opened !== "object" || opened === null ||
			Object.keys(opened).length > 0))
			fail(`seq ${entry.seq}: opened values for an entry that seals nothing`);
		return entry;
	}
	if (typeof opened !== "object" || opened === null)
		fail(`seq ${entry.seq}: the entry seals fields and the answer opens none`);
	for (const f of Object.keys(opened))
		if (!Object.hasOwn(sealed, f)) fail(`seq ${entry.seq}: ${f} is opened but not sealed`);
	const shown = { ...entry, opened };
	for (const [f, c] of Object.entries(sealed)) {
		const o = opened[f];
		if (typeof o !== "object" || o === null)
			fail(`seq ${entry.seq}: no opened value or marker for ${f}`);
		if (Object.hasOwn(o, "destroyed") || Object.hasOwn(o, "withheld")) continue;
		if (typeof o.salt !== "string") fail(`seq ${entry.seq}: ${f} has no salt`);
		const salt = b64decode(o.salt);
		if (salt.length !== 32) fail(`seq ${entry.seq}: the salt of ${f} is not 32 bytes`);
		const got = await sealedCommitment(f, salt, utf8(canonicalJSON(o.value)));
		if (!equalBytes(got, b64decode(c)))
			fail(`seq ${entry.seq}: the opened ${f} is not the value the entry commits to`);
		shown[f] = o.value;
	}
	return shown;
}

/**
 * Verifies one event of a provenance answer: the leaf hash of the entry's
 * bytes and its proof against the checkpoint's root.  The entry travels as
 * a JSON string of ASCII text (spec §2.4), so its UTF-8 encoding is the
 * stored bytes.  Returns the parsed entry, after the proof held, with its
 * opened values (checked against its commitments, verifyOpened) in place.
 */
export async function verifyEvent(ev, checkpoint) {
	if (typeof ev.entry !== "string") fail("the entry is not a string");
	const bytes = utf8(ev.entry);
	const leaf = await leafHash(bytes);
	if (!(ev.seq < checkpoint.size)) fail(`seq ${ev.seq} is not in the tree of ${checkpoint.size}`);
	await verifyInclusion(ev.seq, checkpoint.size, leaf, ev.proof, checkpoint.root);
	let entry;
	try {
		entry = JSON.parse(dec.decode(bytes));
	} catch (e) {
		fail("the entry is not JSON");
	}
	if (entry.seq !== ev.seq) fail(`the entry says seq ${entry.seq}, the answer ${ev.seq}`);
	return verifyOpened(entry, ev.opened);
}
