// The compliance bundle of spec §8, made in the browser from what the
// console fetched and verified: the same files ledgerctl export writes
// (README, checkpoint, context.jsonl, context.proofs, entries.csv,
// entries.jsonl, opened.jsonl, proofs, MANIFEST), so that ledgerctl
// verify-export checks it.  Pure functions of bytes; app.js fetches,
// verifies and downloads.
import { sha256, hex, b64encode, utf8, canonicalJSON } from "./verify.js";
import { tar } from "./tar.js";

/** client/manifest.c's bundle_readme, byte for byte (verify-export compares it). */
export const README =
	"Compliance bundle of a ledgerd log, written by ledgerctl export.\n" +
	"\n" +
	"Check it offline with the log's verifier key:\n" +
	"    ledgerctl verify-export DIR --key VKEY\n" +
	"It prints what it proved: that every entry is in the signed log and\n" +
	"matches what the export entry records, and, for an export without org,\n" +
	"subject or object filter, that the entries are all of the log in the\n" +
	"range.\n" +
	"\n" +
	"entries.jsonl   the exported entries, one a line, as the log stores them\n" +
	"proofs          an inclusion proof (C2SP tlog-proof) per line of\n" +
	"                entries.jsonl\n" +
	"context.jsonl   the export's own entry (the last line), which records\n" +
	"                the filters; before it, for an export without org,\n" +
	"                subject or object filter, the entries just outside\n" +
	"                the range\n" +
	"context.proofs  an inclusion proof per line of context.jsonl\n" +
	"checkpoint      the signed checkpoint every proof refers to\n" +
	"entries.csv     entries.jsonl as a table (RFC 4180, CRLF)\n" +
	"opened.jsonl    the sealed values of the entries that seal fields, with\n" +
	"                their salts, or the destruction that ended them; each is\n" +
	"                checked against the commitment its entry holds\n" +
	"MANIFEST        the SHA-256 of each file (sha256sum -c MANIFEST)\n" +
	"\n" +
	"entries.csv is a view of entries.jsonl, which is the record.  Formula\n" +
	"guard: a cell whose first character is = + - @ TAB CR or ' is written\n" +
	"with a ' in front, so that a spreadsheet shows it as text instead of\n" +
	"taking it for a formula; the value is the cell without that first '.\n";

/** MANIFEST's files, in its order (client/manifest.c bundle_files). */
export const BUNDLE_FILES = ["README", "checkpoint", "context.jsonl", "context.proofs",
	"entries.csv", "entries.jsonl", "opened.jsonl", "proofs"];

/** Spec §8.6: lib/csv.c's ledger_csv_header. */
export const CSV_HEADER = "seq,received_at,type,actor_org,actor_user,actor_role,submitter," +
	"subjects,recipients,object_ref,object_digest,purpose,legal_basis,occurred_at,refs," +
	"details,prev,leaf_hash\r\n";

/*
 * The text of the top-level member name of a JSON object text, as it
 * stands there, or null.  An entry is canonical (spec §2.4), so the text
 * of its details is what Jansson writes for them with the flags of §8.6:
 * taken as it stands, it needs no second JSON writer that would have to
 * spell real numbers as Jansson does.
 */
export function memberText(json, name) {
	let depth = 0;
	let key = null;
	for (let i = 0; i < json.length; i++) {
		const c = json[i];
		if (c === '"') {
			let j = i + 1;
			while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
			if (depth === 1 && key === null) key = JSON.parse(json.slice(i, j + 1));
			i = j;
		} else if (c === ":" && depth === 1) {
			if (key === name) return json.slice(i + 1, valueEnd(json, i + 1));
		} else if (c === "," && depth === 1) {
			key = null;
		} else if (c === "{" || c === "[") {
			depth++;
		} else if (c === "}" || c === "]") {
			depth--;
		}
	}
	return null;
}

// Where the value starting at i ends (a canonical text: no white space).
function valueEnd(json, i) {
	let depth = 0;
	for (let j = i; j < json.length; j++) {
		const c = json[j];
		if (c === '"') {
			j++;
			while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
			if (depth === 0) return j + 1;
		} else if (c === "{" || c === "[") {
			depth++;
		} else if (c === "}" || c === "]") {
			if (depth === 0) return j;
			if (--depth === 0) return j + 1;
		} else if (c === "," && depth === 0) {
			return j;
		}
	}
	return json.length;
}

/* Spec §8.6: the formula guard, then RFC 4180 quoting; then "," or CRLF. */
function cell(value, last) {
	let v = value ?? "";
	const quoted = /[,"\r\n]/.test(v);
	if (/^[=+\-@\t\r']/.test(v)) v = `'${v}`;
	v = v.replace(/"/g, '""');
	return (quoted ? `"${v}"` : v) + (last ? "\r\n" : ",");
}

// Jansson's json_dumps writes only an object or an array (no JSON_ENCODE_ANY).
function details(text) {
	const d = memberText(text, "details");
	return d !== null && (d[0] === "{" || d[0] === "[") ? d : null;
}

const str = (v) => (typeof v === "string" ? v : null);
const list = (a) => (Array.isArray(a) ? a.filter((x) => typeof x === "string" || Number.isInteger(x)).join(";") : "");

/**
 * Spec §8.6: the CSV row of one entry (its text, as stored) with its leaf
 * hash (bytes), exactly as lib/csv.c's ledger_csv_row makes it.
 */
export function csvRow(text, leaf) {
	const e = JSON.parse(text);
	const actor = e.actor && typeof e.actor === "object" ? e.actor : {};
	const object = e.object && typeof e.object === "object" ? e.object : {};
	return [
		Number.isInteger(e.seq) ? String(e.seq) : null, str(e.received_at), str(e.type),
		str(actor.org), str(actor.user), str(actor.role), str(e.submitter), list(e.subjects),
		list(e.recipients), str(object.ref), str(object.digest), str(e.purpose),
		str(e.legal_basis), str(e.occurred_at), list(e.refs), details(text),
		str(e.prev),
	].map((v) => cell(v, false)).join("") + cell(b64encode(leaf), true);
}

/**
 * Spec §8.2a: the line of opened.jsonl for entry seq, its opened values
 * (checked against the entry's commitments by verifyOpened) as
 * client/cmd_export.c's write_opened writes them: {"opened", "seq"}
 * serialised like an entry.  A value that passed verifyOpened is written
 * as the very bytes it was committed as, so canonicalJSON is Jansson's
 * text for it.
 */
export function openedLine(seq, opened) {
	return `${canonicalJSON({ opened, seq })}\n`;
}

/** Spec §8.3: one C2SP tlog-proof, the checkpoint's text after it. */
export function tlogProof(seq, hashes, checkpoint) {
	return `c2sp.org/tlog-proof@v1\nindex ${seq}\n${hashes.map((h) => `${h}\n`).join("")}\n${checkpoint}`;
}

/** Spec §8.7: the SHA-256 of each file, in BUNDLE_FILES order. */
export async function manifest(files) {
	let out = "";
	for (const name of BUNDLE_FILES) out += `${hex(await sha256(files[name]))}  ${name}\n`;
	return out;
}

/**
 * The bundle as one ustar archive: the directory dir and in it every file
 * of files (name → Uint8Array) and MANIFEST.  Returns a Uint8Array.
 */
export async function bundleTar(dir, files, mtime) {
	const all = { ...files, README: utf8(README) };
	all.MANIFEST = utf8(await manifest(all));
	return tar([{ name: dir, dir: true },
		...[...BUNDLE_FILES, "MANIFEST"].map((f) => ({ name: `${dir}/${f}`, data: all[f] }))], mtime);
}
