// What the console checks before it shows anything as verified: RFC 9162
// Merkle proofs, C2SP signed notes and checkpoints, C2SP tlog-cosignature
// lines and a C2SP tlog-policy quorum, and sealed values against the
// commitments their entries hold (spec §2.10).  Plain WebCrypto (SHA-256, Ed25519),
// the same in the browser and in Node's test runner (console/test/).
// Every failure is a reason code with its parameters (i18n.js holds the
// text of each, r_<code>, in Dutch and English), so that the console says
// it in the officer's language; the error's message is the English text.
import { TEXT } from "./i18n.js";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of a reason {key, args} in lang ("nl" or "en"): TEXT[lang][key]
 * with {0}, {1}... replaced by the arguments, each itself a reason or a
 * value.
 */
export function formatReason(lang, key, args = []) {
	const s = (TEXT[lang] && TEXT[lang][key]) ?? TEXT.en[key] ?? key;
	return fillText(s, args, (a) => a && typeof a === "object" && "key" in a ?
		formatReason(lang, a.key, a.args) : String(a));
}

/**
 * The text s with {i} replaced by show(args[i]), and {i|one|other} by
 * "one" when args[i] is 1, else by "other" (a noun after a count).
 */
export function fillText(s, args, show = String) {
	return s.replace(/\{(\d)(?:\|([^|}]*)\|([^}]*))?\}/g, (_, i, one, other) => {
		const a = args[Number(i)];
		if (one !== undefined) return a === 1 ? one : other;
		return show(a);
	});
}

/**
 * A verification that did not hold: reason is {key: "r_" + code, args}
 * for the console to say in either language; message is the English text.
 */
export class VerifyError extends Error {
	constructor(code, ...args) {
		const reason = { key: `r_${code}`, args };
		super(formatReason("en", reason.key, args));
		this.reason = reason;
	}
}

function fail(code, ...args) {
	throw new VerifyError(code, ...args);
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
	if (!/^([0-9a-f]{2})*$/i.test(s)) fail("not_hex");
	const out = new Uint8Array(s.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
	return out;
}

/** Standard base64 with padding (RFC 4648 §4), strictly: nothing else passes. */
export function b64decode(s) {
	if (typeof s !== "string" || s.length % 4 !== 0 ||
	    !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
		fail("b64_malformed");
	const bin = atob(s);
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
	// Non-canonical trailing bits would let two texts mean one value.
	if (b64encode(out) !== s) fail("b64_noncanonical");
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

function big(n, code) {
	if (typeof n === "bigint") return n;
	if (!Number.isSafeInteger(n) || n < 0) fail(code);
	return BigInt(n);
}

function hashList(proof) {
	if (!Array.isArray(proof)) fail("proof_not_list");
	return proof.map((h) => {
		const b = typeof h === "string" ? b64decode(h) : h;
		if (b.length !== 32) fail("proof_hash_len");
		return b;
	});
}

/**
 * RFC 9162 §2.1.3.2: verifies that leaf (its leaf hash) is entry index of
 * the tree of treeSize leaves with the given root.  proof: hashes (base64
 * or bytes) from the leaf upward.  Throws VerifyError with the reason.
 */
export async function verifyInclusion(index, treeSize, leaf, proof, root) {
	let fn = big(index, "index_not_int");
	let sn = big(treeSize, "size_not_int");
	const path = hashList(proof);
	if (fn >= sn) fail("index_beyond", fn, sn);
	sn -= 1n;
	let r = leaf;
	for (const p of path) {
		if (sn === 0n) fail("incl_too_long");
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
	if (sn !== 0n) fail("incl_too_short");
	if (!equalBytes(r, root)) fail("incl_root");
	return true;
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree of size second with root
 * secondRoot extends the tree of size first with root firstRoot.
 * Throws VerifyError with the reason.
 */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
	const m = big(first, "old_size_not_int");
	const n = big(second, "new_size_not_int");
	let path = hashList(proof);
	if (m > n) fail("cons_old_beyond", m, n);
	if (m === n) {
		if (path.length !== 0) fail("cons_equal_nonempty");
		if (!equalBytes(firstRoot, secondRoot)) fail("cons_equal_roots");
		return true;
	}
	if (m === 0n) {
		// Every tree extends the empty one; RFC 9162 defines no proof for it.
		if (path.length !== 0) fail("cons_zero_nonempty");
		return true;
	}
	if (path.length === 0) fail("cons_empty");
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
		if (sn === 0n) fail("cons_too_long");
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
	if (sn !== 0n) fail("cons_too_short");
	if (!equalBytes(fr, firstRoot)) fail("cons_old_root");
	if (!equalBytes(sr, secondRoot)) fail("cons_new_root");
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
	if (typeof text !== "string") fail("key_not_text");
	text = text.trim();
	// The base64 key may hold "+" itself; the name and key ID do not.
	const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
	if (!m) fail("key_form");
	const [, name, idHex, keyB64] = m;
	if (!validKeyName(name)) fail("key_name");
	if (!/^[0-9a-f]{8}$/.test(idHex)) fail("key_id_form");
	const raw = b64decode(keyB64);
	if (raw.length !== 33) fail("key_len");
	const type = raw[0];
	if (type !== KEY_ED25519 && type !== KEY_COSIGNATURE_V1)
		fail("key_type", `0x${type.toString(16).padStart(2, "0")}`);
	const pub = raw.slice(1);
	const id = await keyId(name, type, pub);
	if (id !== parseInt(idHex, 16)) fail("key_id_mismatch");
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
	if (typeof note !== "string") fail("note_not_text");
	const cut = note.lastIndexOf("\n\n");
	if (cut < 0) fail("note_no_blank");
	const text = note.slice(0, cut + 1);
	const sigText = note.slice(cut + 2);
	if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) fail("note_control");
	if (!sigText.endsWith("\n")) fail("note_sig_newline");
	const lines = sigText.slice(0, -1).split("\n");
	if (lines.length > 100) fail("note_too_many_sigs");
	const sigs = lines.map((line) => {
		const m = /^\u2014 ([^ ]+) ([A-Za-z0-9+/=]+)$/.exec(line);
		if (!m) fail("note_sig_line");
		const blob = b64decode(m[2]);
		if (blob.length < 5) fail("note_sig_short");
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
		const pinned = `${key.name}+${key.id.toString(16).padStart(8, "0")}`;
		if (names.length === 0) fail("not_signed_nobody", pinned);
		fail("not_signed_by", pinned, names.join(", "));
	}
	for (const s of mine) {
		if (s.blob.length !== 68) fail("log_sig_len");
		if (!(await ed25519Verify(key.pub, s.blob.slice(4), utf8(text))))
			fail("log_sig_bad");
	}
	return true;
}

/** C2SP tlog-checkpoint body: origin, size, root, extension lines. */
export function parseCheckpoint(text) {
	const lines = text.split("\n");
	if (lines.length < 4 || lines[lines.length - 1] !== "") fail("cp_lines");
	const [origin, sizeText, rootB64] = lines;
	if (origin === "") fail("cp_origin_empty");
	if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail("cp_size_form");
	const size = BigInt(sizeText);
	if (size > BigInt(Number.MAX_SAFE_INTEGER)) fail("cp_size_big");
	const root = b64decode(rootB64);
	if (root.length !== 32) fail("cp_root_len");
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
		const where = i + 1;
		switch (w[0]) {
		case "log": {
			if (w.length < 2 || w.length > 3) fail("pol_log_form", where);
			const k = await parseVerifierKey(w[1]);
			if (k.type !== KEY_ED25519) fail("pol_log_type", where);
			if (keys.has(k.text)) fail("pol_key_twice", where);
			keys.add(k.text);
			logs.push(k);
			break;
		}
		case "witness": {
			if (w.length < 3 || w.length > 4) fail("pol_witness_form", where);
			if (w[1] === "none" || witnesses.has(w[1]) || groups.has(w[1])) fail("pol_named_twice", where, w[1]);
			const k = await parseVerifierKey(w[2]);
			if (k.type !== KEY_COSIGNATURE_V1) fail("pol_witness_type", where);
			if (keys.has(k.text)) fail("pol_key_twice", where);
			keys.add(k.text);
			witnesses.set(w[1], k);
			break;
		}
		case "group": {
			if (w.length < 4) fail("pol_group_form", where);
			const name = w[1];
			if (name === "none" || witnesses.has(name) || groups.has(name)) fail("pol_named_twice", where, name);
			const members = w.slice(3);
			for (const m of members) {
				if (!witnesses.has(m) && !groups.has(m)) fail("pol_member_unknown", where, m);
				if (used.has(m)) fail("pol_member_twice", where, m);
				used.add(m);
			}
			let k;
			if (w[2] === "all") k = members.length;
			else if (w[2] === "any") k = 1;
			else if (/^[1-9][0-9]*$/.test(w[2]) && Number(w[2]) <= members.length) k = Number(w[2]);
			else fail("pol_threshold", where, members.length);
			groups.set(name, { k, members });
			break;
		}
		case "quorum":
			if (w.length !== 2) fail("pol_quorum_form", where);
			if (quorum !== null) fail("pol_quorum_second", where);
			if (w[1] !== "none" && !witnesses.has(w[1]) && !groups.has(w[1]))
				fail("pol_quorum_unknown", where, w[1]);
			quorum = w[1];
			break;
		default:
			fail("pol_unknown", where, w[0]);
		}
	}
	if (quorum === null) fail("pol_no_quorum");
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
		fail("cp_origin_mismatch", checkpoint.origin, logKey.name);
	await verifyNoteSignature(parsed, logKey);
	if (policy && policy.logs.length > 0 &&
	    !policy.logs.some((k) => k.name === logKey.name && k.id === logKey.id && equalBytes(k.pub, logKey.pub)))
		fail("policy_log_mismatch");
	const cosignatures = [];
	const good = new Set();
	const now = BigInt(Math.floor(nowSeconds ?? Date.now() / 1000));
	for (const [wname, key] of policy ? policy.witnesses : []) {
		for (const s of parsed.sigs) {
			// Matched by name and key ID together (formats.md).
			if (s.name !== key.name || s.id !== key.id) continue;
			// why: the English text; reason: for the console to translate.
			const c = { witness: wname, ok: false, time: null, why: "", reason: null };
			const bad = (code) => {
				c.reason = { key: `r_${code}`, args: [] };
				c.why = formatReason("en", c.reason.key);
			};
			cosignatures.push(c);
			if (s.blob.length !== 76) {
				bad("cosig_len");
				continue;
			}
			let t = 0n;
			for (let i = 4; i < 12; i++) t = (t << 8n) | BigInt(s.blob[i]);
			c.time = t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : null;
			if (t === 0n || t > MAX_TIMESTAMP) {
				bad("cosig_time_range");
				continue;
			}
			if (t > now + 600n) {
				bad("cosig_future");
				continue;
			}
			const msg = concat(utf8(`cosignature/v1\ntime ${t}\n`), utf8(parsed.text));
			if (!(await ed25519Verify(key.pub, s.blob.slice(12), msg))) {
				bad("cosig_bad");
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
		if (!Number.isFinite(v)) fail("sealed_number");
		return Number.isInteger(v) ? String(v) : realText(v);
	}
	if (typeof v === "string") return quote(v);
	if (Array.isArray(v)) return "[" + v.map(canonicalJSON).join(",") + "]";
	if (typeof v === "object")
		return "{" + Object.keys(v).sort(compareUtf8).map((k) =>
			quote(k) + ":" + canonicalJSON(v[k])).join(",") + "}";
	fail("sealed_not_json");
}

/**
 * Spec §2.10: SHA-256("ledgerd sealed v1" || 0x00 || field || 0x00 ||
 * salt || value bytes).
 */
export async function sealedCommitment(field, salt, valueBytes) {
	return sha256(concat(utf8("ledgerd sealed v1"), Uint8Array.of(0), utf8(field),
		Uint8Array.of(0), salt, valueBytes));
}

// Whether o is a destroyed or withheld marker; one that is malformed is
// refused here, as ledgerctl refuses it (lib/sealed.c), not shown.
function openedMarker(o, seq, field) {
	const alone = Object.keys(o).length === 1;
	if (Object.hasOwn(o, "destroyed")) {
		if (!alone || !Number.isSafeInteger(o.destroyed) || o.destroyed < 0) fail("opened_form", seq, field);
		return true;
	}
	if (Object.hasOwn(o, "withheld")) {
		if (!alone || o.withheld !== true) fail("opened_form", seq, field);
		return true;
	}
	return false;
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
			fail("opened_unsealed_entry", entry.seq);
		return entry;
	}
	if (typeof opened !== "object" || opened === null)
		fail("opened_none", entry.seq);
	for (const f of Object.keys(opened))
		if (!Object.hasOwn(sealed, f)) fail("opened_not_sealed", entry.seq, f);
	const shown = { ...entry, opened };
	for (const [f, c] of Object.entries(sealed)) {
		const o = opened[f];
		if (typeof o !== "object" || o === null)
			fail("opened_missing", entry.seq, f);
		if (openedMarker(o, entry.seq, f)) continue;
		if (typeof o.salt !== "string") fail("opened_no_salt", entry.seq, f);
		if (!Object.hasOwn(o, "value") || Object.keys(o).length !== 2) fail("opened_form", entry.seq, f);
		const salt = b64decode(o.salt);
		if (salt.length !== 32) fail("opened_salt_len", entry.seq, f);
		const got = await sealedCommitment(f, salt, utf8(canonicalJSON(o.value)));
		if (!equalBytes(got, b64decode(c)))
			fail("opened_mismatch", entry.seq, f);
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
	if (typeof ev.entry !== "string") fail("entry_not_string");
	const bytes = utf8(ev.entry);
	const leaf = await leafHash(bytes);
	if (!(ev.seq < checkpoint.size)) fail("seq_not_in_tree", ev.seq, checkpoint.size);
	await verifyInclusion(ev.seq, checkpoint.size, leaf, ev.proof, checkpoint.root);
	let entry;
	try {
		entry = JSON.parse(dec.decode(bytes));
	} catch (e) {
		fail("entry_not_json");
	}
	if (entry.seq !== ev.seq) fail("entry_seq_mismatch", entry.seq, ev.seq);
	return verifyOpened(entry, ev.opened);
}
