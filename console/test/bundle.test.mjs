// The compliance bundle the console makes (console/js/bundle.js, tar.js):
// the README and CSV header are the C code's very bytes, the CSV rows
// follow lib/csv.c on the vectors of tests/test_bundle.c's test_csv_rule,
// the opened.jsonl lines and a sealed entry's row are the bytes ledgerctl
// writes for them, the tlog-proof text is spec §8.3's, and the tar archive
// is one that the system's tar unpacks to the same files.  The whole bundle is checked by
// the real ledgerctl verify-export in tests/console_browser.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, writeFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

import { README, CSV_HEADER, BUNDLE_FILES, csvRow, memberText, openedLine, tlogProof, manifest, bundleTar } from "../js/bundle.js";
import { tar } from "../js/tar.js";
import { utf8, verifyOpened } from "../js/verify.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// The concatenated string literals of a C definition `const char name[] = "..." "...";`.
function cString(file, name) {
	const src = readFileSync(join(repo, file), "utf8");
	const m = new RegExp(`const char ${name}\\[\\] =([\\s\\S]*?);\\n`).exec(src);
	assert.ok(m, `${name} in ${file}`);
	return [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => JSON.parse(`"${x[1]}"`)).join("");
}

test("README and the CSV header are the bytes of client/manifest.c and lib/csv.c", () => {
	assert.equal(README, cString("client/manifest.c", "bundle_readme"));
	assert.equal(CSV_HEADER, cString("lib/csv.c", "ledger_csv_header"));
	const files = readFileSync(join(repo, "client/manifest.c"), "utf8");
	const list = /bundle_files\[BUNDLE_NFILES\] = \{([^}]*)\}/.exec(files)[1];
	assert.deepEqual(BUNDLE_FILES, [...list.matchAll(/"([^"]+)"/g)].map((x) => x[1]));
});

// RFC 4180 cells of one CRLF-ended text.
function parseCsv(text) {
	const rows = [];
	let row = [], cell = "", i = 0, quoted = false;
	while (i < text.length) {
		const c = text[i];
		if (quoted) {
			if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
			if (c === '"') { quoted = false; i++; continue; }
			cell += c; i++; continue;
		}
		if (c === '"') { quoted = true; i++; continue; }
		if (c === ",") { row.push(cell); cell = ""; i++; continue; }
		if (c === "\r" && text[i + 1] === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; i += 2; continue; }
		cell += c; i++;
	}
	assert.equal(cell, "");
	return rows;
}

test("CSV rows: every text cell guarded against formulas, as tests/test_bundle.c test_csv_rule", () => {
	const leaf = new Uint8Array(32);
	leaf[0] = 0xf8;		// base64 starting with '+'
	for (const d of "=+-@\t\r'") {
		const v = (name) => `${d}${name}`;
		const e = {
			seq: 7, received_at: v("received_at"), type: v("type"),
			actor: { org: v("org"), user: v("user"), role: v("role") }, submitter: v("submitter"),
			subjects: [v("subjects"), "x"], recipients: [v("recipients")],
			object: { ref: v("ref"), digest: v("digest") }, purpose: v("purpose"),
			legal_basis: v("legal_basis"), occurred_at: v("occurred_at"), refs: [3],
			details: { k: "v" }, prev: v("prev"),
		};
		const text = JSON.stringify(e);
		const rows = parseCsv(csvRow(text, leaf));
		assert.equal(rows.length, 1);
		const row = rows[0];
		assert.equal(row.length, 18);
		const cols = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16];
		["received_at", "type", "org", "user", "role", "submitter", "ref", "digest", "purpose",
			"legal_basis", "occurred_at", "prev"].forEach((name, i) => assert.equal(row[cols[i]], `'${d}${name}`));
		assert.equal(row[7], `'${d}subjects;x`);
		assert.equal(row[8], `'${d}recipients`);
		assert.equal(row[0], "7");
		assert.equal(row[14], "3");
		assert.equal(row[15], '{"k":"v"}');
		assert.ok(row[17].startsWith("'+AAAA"));
	}
});

test("CSV rows: RFC 4180 quoting, missing fields empty, details as they stand in the entry", () => {
	const leaf = new Uint8Array(32);
	const text = '{"actor":{"org":"om","user":"a,b"},"details":{"n":1.5e-07,"s":"x\\"y"},"purpose":"say \\"hi\\"\\nnow","seq":12,"type":"query"}';
	const row = csvRow(text, leaf);
	assert.equal(row, '12,,query,om,"a,b",,,,,,,"say ""hi""\nnow",,,,"{""n"":1.5e-07,""s"":""x\\""y""}",,' +
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n");
	assert.equal(memberText('{"a":"details","details":[1,{"details":2}],"z":0}', "details"), '[1,{"details":2}]');
	assert.equal(memberText('{"a":{"details":1}}', "details"), null);
	// A details that is not an object or array is an empty cell (json_dumps writes none).
	assert.ok(csvRow('{"details":"x","seq":1}', leaf).startsWith("1,,,,,,,,,,,,,,,,,"));
});

// A sealed entry (spec §2.10) that ledger_entry_parse takes, its salts the
// bytes 00 01 .. 1f: purpose and details opened, legal_basis destroyed by
// entry 4.  The answer of GET /v1/events/9/opened as the server may write
// it: members unsorted, non-ASCII unescaped.
const SEALED_ENTRY = '{"actor":{"org":"police","user":"r.devries"},"object":{"ref":"case/1"},' +
	'"occurred_at":"2026-03-02T09:00:00Z","prev":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",' +
	'"received_at":"2026-03-02T09:15:00.000000Z","recipients":["om"],"salt":"AAECAwQFBgcICQoLDA0ODw==",' +
	'"sealed":{"details":"7kKuCtW0pjJzvPhB1Y5oAtuZuQ2iLAxm1AIp1ok72vk=",' +
	'"legal_basis":"L41mbC+zXUuSJUvAL2RLAl2XmcwT3oY27eF9rDqNFR4=",' +
	'"purpose":"PMnHGLVYobT/T8kMnjM3b9qTEl08NLR2ZFabL48uZIk="},"seq":9,"submitter":"police-app",' +
	'"type":"share","v":3}';
const SALT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OPENED_ANSWER = `{"seq":9,"opened":{"purpose":{"salt":"${SALT}","value":"onderzoek \u2014 Z\u00fcrich, \\"fase 2\\""},` +
	`"legal_basis":{"destroyed":4},"details":{"salt":"${SALT}","value":{"zaak":"4711","n":1.5e-7,"lijst":[1,"=x"]}}}}`;

test("opened.jsonl: a line is the bytes client/cmd_export.c's write_opened makes of the answer", async () => {
	const entry = JSON.parse(SEALED_ENTRY);
	const { opened } = JSON.parse(OPENED_ANSWER);
	await verifyOpened(entry, opened);
	// What ledgerctl export writes for this answer (Jansson 2.14, JSON_COMPACT |
	// JSON_SORT_KEYS | JSON_ENSURE_ASCII): reals as %.17g, \u with uppercase hex.
	assert.equal(openedLine(9, opened),
		`{"opened":{"details":{"salt":"${SALT}","value":{"lijst":[1,"=x"],"n":1.4999999999999999e-7,"zaak":"4711"}},` +
		`"legal_basis":{"destroyed":4},"purpose":{"salt":"${SALT}","value":"onderzoek \\u2014 Z\\u00FCrich, \\"fase 2\\""}},"seq":9}\n`);
	assert.equal(openedLine(12, { purpose: { withheld: true } }), '{"opened":{"purpose":{"withheld":true}},"seq":12}\n');
	// A tampered value or a malformed marker does not pass, so it is never written.
	await assert.rejects(verifyOpened(entry, { ...opened, purpose: { salt: SALT, value: "onderzoek" } }),
		/not the value the entry commits to/);
	await assert.rejects(verifyOpened(entry, { ...opened, legal_basis: { destroyed: 4, value: "x" } }),
		/is not \{value, salt\}/);
	await assert.rejects(verifyOpened(entry, { ...opened, legal_basis: { withheld: 1 } }), /is not \{value, salt\}/);
	await assert.rejects(verifyOpened(entry, { ...opened, details: { ...opened.details, extra: 1 } }),
		/is not \{value, salt\}/);
});

test("CSV rows: a sealed entry's row shows it as stored, its sealed columns empty, as lib/csv.c", () => {
	const leaf = Uint8Array.from(atob("uD362haIleh6Tdi5E/lWEZd7Qqb3LMtMfYHtuFbqQkA="), (c) => c.charCodeAt(0));
	assert.equal(csvRow(SEALED_ENTRY, leaf), "9,2026-03-02T09:15:00.000000Z,share,police,r.devries,,police-app,,om," +
		"case/1,,,,2026-03-02T09:00:00Z,,,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=," +
		"uD362haIleh6Tdi5E/lWEZd7Qqb3LMtMfYHtuFbqQkA=\r\n");
});

test("tlog-proof text: the header, the index, one hash a line, a blank line, the checkpoint", () => {
	const cp = "o\n3\nAAAA\n\n\u2014 o abc=\n";
	assert.equal(tlogProof(2, ["aGFzaDE=", "aGFzaDI="], cp),
		`c2sp.org/tlog-proof@v1\nindex 2\naGFzaDE=\naGFzaDI=\n\n${cp}`);
	assert.equal(tlogProof(0, [], cp), `c2sp.org/tlog-proof@v1\nindex 0\n\n${cp}`);
});

// The headers of a ustar archive: name, size, type, checksum.
function members(bytes) {
	const out = [];
	for (let off = 0; off + 512 <= bytes.length; ) {
		const h = bytes.subarray(off, off + 512);
		if (h.every((b) => b === 0)) break;
		const str = (a, n) => new TextDecoder().decode(h.subarray(a, a + n)).replace(/\0.*$/s, "");
		let sum = 0;
		h.forEach((b, i) => { sum += i >= 148 && i < 156 ? 0x20 : b; });
		assert.equal(parseInt(str(148, 8), 8), sum, "checksum");
		assert.equal(str(257, 6), "ustar");
		assert.equal(str(263, 2), "00");
		const size = parseInt(str(124, 12), 8);
		out.push({ name: str(0, 100), size, type: str(156, 1), mode: parseInt(str(100, 8), 8),
			data: bytes.subarray(off + 512, off + 512 + size) });
		off += 512 + Math.ceil(size / 512) * 512;
	}
	return out;
}

test("tar: ustar headers with valid checksums, data padded to blocks, two zero blocks at the end", () => {
	const big = new Uint8Array(1300).map((_, i) => i % 251);
	const t = tar([{ name: "d", dir: true }, { name: "d/empty", data: new Uint8Array(0) },
		{ name: "d/big", data: big }, { name: "d/x", data: utf8("x\n") }], 1700000000);
	assert.equal(t.length % 512, 0);
	assert.ok(t.subarray(t.length - 1024).every((b) => b === 0));
	const m = members(t);
	assert.deepEqual(m.map((x) => [x.name, x.size, x.type, x.mode]),
		[["d/", 0, "5", 0o755], ["d/empty", 0, "0", 0o644], ["d/big", 1300, "0", 0o644], ["d/x", 2, "0", 0o644]]);
	assert.deepEqual([...m[2].data], [...big]);
	assert.throws(() => tar([{ name: "x".repeat(101), data: new Uint8Array(0) }], 0));
	assert.throws(() => tar([{ name: "a\nb", data: new Uint8Array(0) }], 0));
});

test("a bundle archive: the system's tar unpacks the same files, and MANIFEST holds their SHA-256", async (t) => {
	const files = {
		checkpoint: utf8("o\n1\nAAAA\n\n\u2014 o abc=\n"), "context.jsonl": utf8('{"seq":5}\n'),
		"context.proofs": utf8("p\n"), "entries.csv": utf8(CSV_HEADER), "entries.jsonl": utf8(""),
		"opened.jsonl": utf8(""), proofs: utf8(""),
	};
	const bytes = await bundleTar("ledgerd-export-5", files, 1700000000);
	const m = members(bytes);
	assert.deepEqual(m.map((x) => x.name), ["ledgerd-export-5/", ...[...BUNDLE_FILES, "MANIFEST"].map((f) => `ledgerd-export-5/${f}`)]);
	const man = new TextDecoder().decode(m[m.length - 1].data);
	assert.equal(man, await manifest({ ...files, README: utf8(README) }));
	assert.equal(man.split("\n").length, BUNDLE_FILES.length + 1);
	let tarOk = true;
	try {
		execFileSync("tar", ["--version"], { stdio: "ignore" });
	} catch (e) {
		tarOk = false;
	}
	if (!tarOk) return t.skip("no tar on this machine");
	const dir = mkdtempSync(join(tmpdir(), "console-tar."));
	try {
		writeFileSync(join(dir, "b.tar"), bytes);
		execFileSync("tar", ["-xf", "b.tar"], { cwd: dir });
		const out = join(dir, "ledgerd-export-5");
		assert.deepEqual(readdirSync(out).sort(), [...BUNDLE_FILES, "MANIFEST"].sort());
		for (const line of man.trim().split("\n")) {
			const [hash, name] = line.split("  ");
			assert.equal(createHash("sha256").update(readFileSync(join(out, name))).digest("hex"), hash, name);
		}
		assert.equal(readFileSync(join(out, "README"), "utf8"), README);
		assert.equal(statSync(join(out, "README")).mode & 0o777, 0o644);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
