// The console's verification code on the vectors the C tests use (RFC 9162
// trees of tests/test_merkle_vectors.c, the signed-note vector of
// tests/test_note.c), on cosignature vectors computed independently with
// Python's cryptography package, and on every proof of every small tree
// against a naive RFC 9162 reference.  Run: node --test console/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import {
	VerifyError, b64decode, b64encode, fromHex, hex, leafHash, verifyInclusion,
	verifyConsistency, parseVerifierKey, parseNote, verifyNoteSignature,
	parseCheckpoint, parsePolicy, quorumSatisfied, verifyCheckpoint, verifyEvent,
	utf8, fingerprint, formatReason, fillText, canonicalJSON, sealedCommitment, verifyOpened,
} from "../js/verify.js";

// tests/test_merkle_vectors.c
const leafInputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f"].map(fromHex);
const roots = [
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(fromHex);
const inclusionVectors = [
	[0, 1, []],
	[0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
	[5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
	[2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
	[1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
];
const consistencyVectors = [
	[1, 1, []],
	[1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
	[6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
	[2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
	[6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
];

async function rejects(p, pattern) {
	await assert.rejects(p, (e) => e instanceof VerifyError && (!pattern || pattern.test(e.message)));
}

function flip(bytes, i) {
	const b = Uint8Array.from(bytes);
	b[i % b.length] ^= 1;
	return b;
}

test("RFC 9162 vectors: inclusion proofs verify, and a flipped bit fails", async () => {
	for (const [index, size, proofHex] of inclusionVectors) {
		const proof = proofHex.map(fromHex);
		const leaf = await leafHash(leafInputs[index]);
		assert.equal(await verifyInclusion(index, size, leaf, proof, roots[size]), true);
		await rejects(verifyInclusion(index, size, flip(leaf, 3), proof, roots[size]), /root/);
		for (let i = 0; i < proof.length; i++) {
			const bad = proof.slice();
			bad[i] = flip(bad[i], 7);
			await rejects(verifyInclusion(index, size, leaf, bad, roots[size]), /root/);
		}
		await rejects(verifyInclusion(index, size, leaf, [...proof, roots[1]], roots[size]));
		if (proof.length > 0)
			await rejects(verifyInclusion(index, size, leaf, proof.slice(1), roots[size]));
	}
});

test("RFC 9162 vectors: consistency proofs verify, and a flipped bit fails", async () => {
	for (const [m, n, proofHex] of consistencyVectors) {
		const proof = proofHex.map(fromHex);
		assert.equal(await verifyConsistency(m, n, roots[m], roots[n], proof), true);
		await rejects(verifyConsistency(m, n, flip(roots[m], 1), roots[n], proof));
		await rejects(verifyConsistency(m, n, roots[m], flip(roots[n], 1), proof));
		for (let i = 0; i < proof.length; i++) {
			const bad = proof.slice();
			bad[i] = flip(bad[i], 9);
			await rejects(verifyConsistency(m, n, roots[m], roots[n], bad));
		}
	}
	await rejects(verifyConsistency(8, 6, roots[8], roots[6], []), /beyond/);
	await rejects(verifyConsistency(3, 8, roots[3], roots[8], []), /empty/);
});

// A naive RFC 9162 §2.1 reference, hashing with node's own SHA-256.
const H = (...parts) => {
	const h = createHash("sha256");
	for (const p of parts) h.update(p);
	return new Uint8Array(h.digest());
};
const naiveLeaf = (d) => H(Uint8Array.of(0), d);
function split(n) {
	let k = 1;
	while (k * 2 < n) k *= 2;
	return k;
}
function mth(d) {
	if (d.length === 0) return H(new Uint8Array(0));
	if (d.length === 1) return naiveLeaf(d[0]);
	const k = split(d.length);
	return H(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m, d) { // §2.1.3.1
	if (d.length === 1) return [];
	const k = split(d.length);
	return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))]
		: [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m, d, b) { // §2.1.4.1
	const n = d.length;
	if (m === n) return b ? [] : [mth(d)];
	const k = split(n);
	return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))]
		: [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

const N = 17;
const data = Array.from({ length: N + 1 }, (_, i) => utf8(`entry ${i}`));
const naiveRoots = Array.from({ length: N + 2 }, (_, n) => mth(data.slice(0, n)));

test(`every inclusion proof of every tree up to ${N} leaves, and each one-bit change refused`, async () => {
	for (let n = 1; n <= N; n++) {
		for (let m = 0; m < n; m++) {
			const p = path(m, data.slice(0, n));
			const leaf = await leafHash(data[m]);
			assert.equal(await verifyInclusion(m, n, leaf, p.map(b64encode), naiveRoots[n]), true);
			// Wrong index, wrong size, a changed hash, a missing or extra hash.
			if (n > 1) await rejects(verifyInclusion((m + 1) % n, n, leaf, p, naiveRoots[n]));
			await rejects(verifyInclusion(m, n + 1, leaf, p, naiveRoots[n + 1]));
			for (let i = 0; i < p.length; i++) {
				const bad = p.slice();
				bad[i] = flip(bad[i], m + i);
				await rejects(verifyInclusion(m, n, leaf, bad, naiveRoots[n]));
			}
			if (p.length) await rejects(verifyInclusion(m, n, leaf, p.slice(0, -1), naiveRoots[n]));
			await rejects(verifyInclusion(m, n, leaf, [...p, naiveRoots[1]], naiveRoots[n]));
		}
		await rejects(verifyInclusion(n, n, await leafHash(data[0]), [], naiveRoots[n]), /not below/);
	}
});

test(`every consistency proof between trees up to ${N} leaves, and each one-bit change refused`, async () => {
	for (let n = 1; n <= N; n++) {
		for (let m = 1; m <= n; m++) {
			const p = m === n ? [] : subproof(m, data.slice(0, n), true);
			assert.equal(await verifyConsistency(m, n, naiveRoots[m], naiveRoots[n], p), true);
			for (let i = 0; i < p.length; i++) {
				const bad = p.slice();
				bad[i] = flip(bad[i], m * 3 + i);
				await rejects(verifyConsistency(m, n, naiveRoots[m], naiveRoots[n], bad));
			}
			if (m < n) {
				await rejects(verifyConsistency(m, n, naiveRoots[m], naiveRoots[n], p.slice(0, -1)));
				await rejects(verifyConsistency(m, n, naiveRoots[m], naiveRoots[n], [...p, naiveRoots[1]]));
				// The proof of another old size never passes.
				if (m > 1) await rejects(verifyConsistency(m - 1, n, naiveRoots[m - 1], naiveRoots[n], p));
			}
		}
	}
});

// tests/test_note.c and formats.md: the Go note package's vector.
const PN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PN_TEXT = "If you think cryptography is the answer to your problem,\n" +
	"then you don't know what your problem is.\n";
const PN_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
const PN_NOTE = PN_TEXT + "\n\u2014 PeterNeumann " + PN_SIG + "\n";

test("signed-note vector: the verifier key parses and the note verifies", async () => {
	const k = await parseVerifierKey(PN_VKEY);
	assert.equal(k.name, "PeterNeumann");
	assert.equal(k.id, 0xc74f20a3);
	assert.equal(k.type, 1);
	assert.equal(await verifyNoteSignature(PN_NOTE, k), true);
	// One changed character of the text, or of the signature.
	await rejects(verifyNoteSignature(PN_NOTE.replace("answer", "Answer"), k), /does not verify/);
	await rejects(verifyNoteSignature(PN_TEXT + "\n\u2014 PeterNeumann " +
		b64encode(flip(b64decode(PN_SIG), 20)) + "\n", k), /does not verify/);
	// Another name or key ID is not the pinned key.
	await rejects(verifyNoteSignature(PN_NOTE.replace("\u2014 PeterNeumann", "\u2014 PeterNeuman"), k), /not signed by/);
	// Malformed notes.
	assert.throws(() => parseNote(PN_TEXT + "\u2014 PeterNeumann " + PN_SIG + "\n"), VerifyError);
	assert.throws(() => parseNote(PN_NOTE.slice(0, -1)), VerifyError);
	assert.throws(() => parseNote(PN_TEXT + "\n- PeterNeumann " + PN_SIG + "\n"), VerifyError);
});

test("verifier keys: every malformed form of test_note.c is refused", async () => {
	for (const bad of ["", "PeterNeumann", "PeterNeumann+c74f20a3",
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
		"PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"])
		await rejects(parseVerifierKey(bad));
	assert.match(await fingerprint(PN_VKEY), /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
});

// Computed with Python's cryptography package (Ed25519), independently of
// this code: the checkpoint of the 5-leaf RFC tree signed with the
// PeterNeumann key, cosigned by two witnesses with seeds 0x11.. and 0x22..
// at times 1700000000 and 1700000100.
const W1 = "witness.example/one+5c91df73+BNBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3";
const W2 = "witness.example/two+4b0b676a+BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw";
const W3 = "witness.example/three+2b7e8a6c+BAGBMjXOIiAFQHDC9gtwIwlcsmFAvcS0rOaZPmfVm4Nt";
const COSIGNED = "PeterNeumann\n5\nTju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=\n\n" +
	"\u2014 PeterNeumann x08go5eqgyrBG5uEITbimiQwcXb+PvLOq56W2yNluordWu7Tayx/FP7+EDmQhDQLmsVaSC7P0zxvTMzZgTBaVHA2lg4=\n" +
	"\u2014 witness.example/one XJHfcwAAAABlU/EAragWYCs8rUekY3S5mjKjTZ8qql1XEkbgjVyCHO6wpKdyEzW87C+b3CuI8ERiw6oS4mf/P/6Ry9mLhSiSPtATBg==\n" +
	"\u2014 witness.example/two SwtnagAAAABlU/FkSyJ4wJhrQBYtIHV76as8HtBXgqOc+kVHFDlEVej9peraEWtpZsaqa1tNwLpBnYN6RZ3ciorG09SyM1+7tMGbAw==\n";
const NOW = 1700001000;

async function policy(text) {
	return parsePolicy(text);
}

test("cosignatures: both verify, the checkpoint parses, quorums are evaluated", async () => {
	const log = await parseVerifierKey(PN_VKEY);
	const p = await policy(`# two of three\nlog ${PN_VKEY}\nwitness w1 ${W1}\nwitness w2 ${W2}\n` +
		`witness w3 ${W3.replace("2b7e8a6c", await w3id())}\ngroup two 2 w1 w2 w3\nquorum two\n`);
	const r = await verifyCheckpoint(COSIGNED, log, p, NOW);
	assert.equal(r.checkpoint.size, 5);
	assert.equal(hex(r.checkpoint.root), hex(roots[5]));
	assert.deepEqual(r.cosignatures.map((c) => [c.witness, c.ok, c.time]),
		[["w1", true, 1700000000], ["w2", true, 1700000100]]);
	assert.equal(r.quorumOk, true);
	// all three: w3 never signed
	const all = await policy(`witness w1 ${W1}\nwitness w2 ${W2}\nwitness w3 ${W3.replace("2b7e8a6c", await w3id())}\n` +
		"group g all w1 w2 w3\nquorum g\n");
	assert.equal((await verifyCheckpoint(COSIGNED, log, all, NOW)).quorumOk, false);
	// nested groups: any of (w3, all of (w1, w2))
	const nested = await policy(`witness w1 ${W1}\nwitness w2 ${W2}\nwitness w3 ${W3.replace("2b7e8a6c", await w3id())}\n` +
		"group both all w1 w2\ngroup either any w3 both\nquorum either\n");
	assert.equal((await verifyCheckpoint(COSIGNED, log, nested, NOW)).quorumOk, true);
});

let w3cache;
async function w3id() {
	// W3's key ID, from its name and key, so the constant above needs no
	// third Python run; the witness never signs, so any valid key will do.
	if (!w3cache) {
		const { keyId } = await import("../js/verify.js");
		const raw = b64decode(W3.split("+")[2]);
		w3cache = (await keyId("witness.example/three", 4, raw.slice(1))).toString(16).padStart(8, "0");
	}
	return w3cache;
}

test("cosignatures: a bad one from a known witness does not count; unknown ones are ignored", async () => {
	const log = await parseVerifierKey(PN_VKEY);
	const lines = COSIGNED.split("\n");
	// Change one byte of w1's signature.
	const [dash, name, sig] = lines[5].split(" ");
	lines[5] = [dash, name, b64encode(flip(b64decode(sig), 40))].join(" ");
	const tampered = lines.join("\n");
	const p = await policy(`witness w1 ${W1}\nwitness w2 ${W2}\ngroup g any w1 w2\nquorum w1\n`);
	const r = await verifyCheckpoint(tampered, log, p, NOW);
	assert.deepEqual(r.cosignatures.map((c) => [c.witness, c.ok]), [["w1", false], ["w2", true]]);
	assert.match(r.cosignatures[0].why, /does not verify/);
	assert.equal(r.quorumOk, false);
	// Nobody known: only w2's line is looked at; w1's is ignored.
	const onlyW2 = await policy(`witness w2 ${W2}\nquorum w2\n`);
	const r2 = await verifyCheckpoint(tampered, log, onlyW2, NOW);
	assert.deepEqual(r2.cosignatures.map((c) => c.witness), ["w2"]);
	assert.equal(r2.quorumOk, true);
	// A cosignature from the future is refused.
	const r3 = await verifyCheckpoint(COSIGNED, log, p, 1600000000);
	assert.equal(r3.quorumOk, false);
	assert.match(r3.cosignatures[0].why, /future/);
});

test("a log without cosignatures: quorum none holds, a quorum policy does not", async () => {
	const log = await parseVerifierKey(PN_VKEY);
	const plain = COSIGNED.split("\n").slice(0, 5).join("\n") + "\n";
	const none = await policy(`log ${PN_VKEY}\nquorum none\n`);
	const r = await verifyCheckpoint(plain, log, none, NOW);
	assert.equal(r.quorumOk, true);
	assert.equal(r.cosignatures.length, 0);
	const q = await policy(`witness w1 ${W1}\nquorum w1\n`);
	assert.equal((await verifyCheckpoint(plain, log, q, NOW)).quorumOk, false);
	// A wrong log key fails outright, and so does a policy naming another log.
	const other = await parseVerifierKey(W1.replace(/^witness.example\/one/, "PeterNeumann")
		.replace("5c91df73", "00000000")).catch((e) => e);
	assert.ok(other instanceof VerifyError);
	await rejects(verifyCheckpoint(plain, log, await policy(`log ${PN_VKEY.replace("PeterNeumann", "Other").replace("c74f20a3", await otherId())}\nquorum none\n`), NOW), /policy/);
	await rejects(verifyCheckpoint(plain.replace("\n5\n", "\n6\n"), log, none, NOW), /does not verify/);
});

async function otherId() {
	const { keyId } = await import("../js/verify.js");
	const raw = b64decode(PN_VKEY.split("+")[2]);
	return (await keyId("Other", 1, raw.slice(1))).toString(16).padStart(8, "0");
}

test("policies: malformed ones are refused", async () => {
	for (const bad of ["", "quorum none\nquorum none\n", `witness w1 ${PN_VKEY}\nquorum w1\n`,
		`witness w1 ${W1}\ngroup g 2 w1\nquorum g\n`, `witness w1 ${W1}\ngroup g any w1 w1\nquorum g\n`,
		"quorum nobody\n", `frobnicate\nquorum none\n`, `log ${W1}\nquorum none\n`])
		await rejects(parsePolicy(bad));
	const p = await parsePolicy("# nothing but\n\n  # indented comment\nquorum none\n");
	assert.equal(quorumSatisfied(p, new Set()), true);
	// As spec §10.5 reads a policy: # starts a comment line only; no key
	// twice; none is no witness's name.
	for (const bad of ["quorum none # trailing\n", `witness a ${W1}\nwitness b ${W1}\nquorum a\n`,
		`log ${PN_VKEY}\nlog ${PN_VKEY}\nquorum none\n`, `witness none ${W1}\nquorum none\n`])
		await rejects(parsePolicy(bad));
});

test("checkpoints: the body's form is checked", () => {
	const root = b64encode(roots[5]);
	assert.equal(parseCheckpoint(`o\n5\n${root}\n`).size, 5);
	assert.deepEqual(parseCheckpoint(`o\n5\n${root}\next\n`).extensions, ["ext"]);
	for (const bad of [`o\n05\n${root}\n`, `o\n5\n${root}`, `\n5\n${root}\n`, "o\n5\nAAAA\n", `o\n-1\n${root}\n`])
		assert.throws(() => parseCheckpoint(bad), VerifyError);
});

test("an event of an answer: its bytes' leaf hash and proof, and its own seq", async () => {
	// The 3-leaf tree whose leaves are entries' bytes.
	const entries = [0, 1, 2].map((i) => JSON.stringify({ seq: i, type: "share" }));
	const d = entries.map(utf8);
	const cp = { size: 3, root: mth(d) };
	const proof = path(1, d).map(b64encode);
	const e = await verifyEvent({ seq: 1, entry: entries[1], proof }, cp);
	assert.equal(e.type, "share");
	await rejects(verifyEvent({ seq: 1, entry: entries[1].replace("share", "shard"), proof }, cp), /root/);
	await rejects(verifyEvent({ seq: 2, entry: entries[1], proof }, cp));
	await rejects(verifyEvent({ seq: 3, entry: entries[1], proof }, cp), /not in the tree/);
});

test("a failure carries its reason as a code and parameters, said in Dutch or English", async () => {
	const leaf = await leafHash(utf8("x"));
	const e = await verifyInclusion(0, 2, leaf, [leaf], leaf).catch((x) => x);
	assert.ok(e instanceof VerifyError);
	assert.deepEqual(e.reason, { key: "r_incl_root", args: [] });
	assert.equal(e.message, "the inclusion proof does not lead to the checkpoint's root");
	assert.equal(formatReason("nl", e.reason.key, e.reason.args),
		"het inclusiebewijs leidt niet naar de wortel van het checkpoint");
	const b = await verifyInclusion(5, 3, leaf, [], leaf).catch((x) => x);
	assert.equal(formatReason("nl", b.reason.key, b.reason.args), "index 5 ligt niet onder de omvang van de boom 3");
	// A reason inside a reason is said in the same language.
	assert.equal(formatReason("nl", "r_row_cp_fails", [b.reason]),
		"het bewijs klopt, maar het checkpoint niet: index 5 ligt niet onder de omvang van de boom 3");
	const p = await parsePolicy("quorum nobody\n").catch((x) => x);
	assert.equal(formatReason("nl", p.reason.key, p.reason.args), "beleidsregel 1: het quorum nobody is geen getuige of groep");
	assert.equal(p.message, "policy line 1: the quorum nobody is not a witness or group");
});

// Spec §2.10: the vectors of tests/test_sealed.c, computed with Python's
// hashlib; then a sealed entry's opened values, honest and lying.
test("sealed values: commitment vectors and the opened-value check", async () => {
	const salt = Uint8Array.from({ length: 32 }, (_, i) => i);
	assert.equal(hex(await sealedCommitment("purpose", salt, utf8(canonicalJSON("investigation")))),
		"b2de6c67409eaf23809d6105d862ad2751e337f960aca191417faeba224fc352");
	assert.equal(canonicalJSON({ n: 1, case: "Z\u00fcrich" }), '{"case":"Z\\u00FCrich","n":1}');
	assert.equal(hex(await sealedCommitment("details", salt, utf8(canonicalJSON({ n: 1, case: "Z\u00fcrich" })))),
		"1add0368ea33a04fc2398c0b71af2c9c9e53572a5534b9ec46ffc2449b6741a4");
	assert.equal(canonicalJSON("a\"b\\c\n\u0001/\u007f"), '"a\\"b\\\\c\\n\\u0001/\u007f"');
	assert.equal(canonicalJSON(0.1), "0.10000000000000001");
	assert.equal(canonicalJSON(1.5e-7), "1.4999999999999999e-7");

	const commitment = b64encode(await sealedCommitment("purpose", salt, utf8('"investigation"')));
	const entry = { seq: 7, v: 3, sealed: { purpose: commitment } };
	const honest = { purpose: { value: "investigation", salt: b64encode(salt) } };
	const shown = await verifyOpened(entry, honest);
	assert.equal(shown.purpose, "investigation");
	assert.equal((await verifyOpened(entry, { purpose: { destroyed: 9 } })).purpose, undefined);
	await rejects(verifyOpened(entry, { purpose: { value: "routine check", salt: b64encode(salt) } }),
		/not the value the entry commits to/);
	await rejects(verifyOpened(entry, { purpose: { value: "investigation", salt: b64encode(new Uint8Array(32)) } }),
		/not the value the entry commits to/);
	await rejects(verifyOpened(entry, undefined), /opens none/);
	await rejects(verifyOpened(entry, {}), /no opened value/);
	await rejects(verifyOpened(entry, { ...honest, details: { destroyed: 9 } }), /opened but not sealed/);
	await rejects(verifyOpened({ seq: 1 }, honest), /seals nothing/);
	assert.deepEqual(await verifyOpened({ seq: 1 }, undefined), { seq: 1 });
});

test("a count chooses its noun: one or other", () => {
	assert.equal(fillText("{0} {0|vermelding|vermeldingen}, {1} {1|link|links}", [1, 2]), "1 vermelding, 2 links");
	assert.equal(fillText("{0} {0|entry|entries}", [0]), "0 entries");
	assert.equal(fillText("seq {0} of {1}", [7, "x"]), "seq 7 of x");
});
