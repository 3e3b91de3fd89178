// The supervisor console: pinned trust, sign-in, searches answered by the
// provenance routes, and everything shown only after the browser itself
// verified it (verify.js).  No inline script or style: the daemon's CSP
// forbids both; SVG is drawn with DOM calls and presentation attributes.
import {
	VerifyError, parseVerifierKey, parsePolicy, verifyCheckpoint, verifyConsistency,
	verifyEvent, verifyInclusion, verifyOpened, leafHash, parseNote, parseCheckpoint, fingerprint,
	b64encode, b64decode, equalBytes, utf8, formatReason, fillText,
} from "./verify.js";
import { CSV_HEADER, csvRow, tlogProof, openedLine, bundleTar } from "./bundle.js";
import { TEXT } from "./i18n.js";

const LS_KEY = "ledgerd.console.vkey";
const LS_POLICY = "ledgerd.console.policy";
const LS_LAST = "ledgerd.console.last-checkpoint";
const LS_LANG = "ledgerd.console.lang";
const SS_TOKEN = "ledgerd.console.token";
const SS_CERT = "ledgerd.console.cert";
const PAGE_ROWS = 20;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

const state = {
	lang: localStorage.getItem(LS_LANG) || "nl",
	logKey: null,
	policy: null,
	rows: [],		// {seq, entry, ok, why, page}
	sortKey: "seq",
	sortDir: 1,
	page: 0,
	query: null,		// the search as asked, for more pages and export
	next: null,		// next_cursor of the last page
	edges: null,
	truncated: false,
};

function t(key, ...args) {
	const s = (TEXT[state.lang] && TEXT[state.lang][key]) ?? TEXT.en[key] ?? key;
	return fillText(s, args);
}

function el(tag, attrs = {}, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === null || v === undefined || v === false) continue;
		if (k === "class") e.className = v;
		else if (k === "text") e.textContent = v;
		else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v === true ? "" : v);
	}
	for (const c of children) if (c !== null && c !== undefined) e.append(c);
	return e;
}

function svg(tag, attrs = {}, text) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
	if (text !== undefined) e.textContent = text;
	return e;
}

function setMark(node, ok, text) {
	node.textContent = text;
	node.classList.remove("ok", "bad");
	if (ok !== null) node.classList.add(ok ? "ok" : "bad");
}

// A reason is {key, args}: kept as such, and said in the language of the
// moment, so that what is on screen follows the language toggle.
function R(key, ...args) {
	return { key, args };
}

function reason(e) {
	if (e instanceof VerifyError || e instanceof ApiError) return e.reason;
	return R("r_unexpected", `${e.name}: ${e.message}`);
}

function say(r) {
	return typeof r === "string" ? r : formatReason(state.lang, r.key, r.args);
}

// ---- interface text ----

function applyLanguage() {
	document.documentElement.lang = state.lang;
	for (const n of document.querySelectorAll("[data-i18n]")) n.textContent = t(n.dataset.i18n);
	$("lang").textContent = t("lang_other");
	document.title = `ledgerd — ${t("title")}`;
	showTrust();
	showSignin();
	if (state.banner) $("banner").textContent = say(state.banner);
	if (state.lastStatus) showStatus(state.lastStatus);
	if (state.query) renderResults();
}

// ---- the server ----

/* A failed request; its reason is said in the console's language. */
class ApiError extends Error {
	constructor(key, ...args) {
		super(formatReason("en", key, args));
		this.reason = R(key, ...args);
	}
}

function credentials() {
	const token = sessionStorage.getItem(SS_TOKEN);
	return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, { text = false, raw = false } = {}) {
	let res;
	try {
		res = await fetch(path, { headers: credentials(), cache: "no-store", credentials: "same-origin" });
	} catch (e) {
		throw new ApiError("r_unreachable", e.message);
	}
	if (!res.ok) {
		// The server's own words, quoted as it sent them (in English).
		let msg = res.statusText || "";
		try {
			const j = await res.json();
			msg = `${j.error.code}: ${j.error.message}`;
		} catch (e) { /* not JSON */ }
		throw new ApiError("r_http", res.status, msg);
	}
	if (raw) return res;
	return text ? res.text() : res.json();
}

// ---- pinned trust ----

async function loadTrust() {
	state.logKey = null;
	state.policy = null;
	const k = localStorage.getItem(LS_KEY);
	const p = localStorage.getItem(LS_POLICY);
	try {
		if (k) state.logKey = await parseVerifierKey(k);
		if (p) state.policy = await parsePolicy(p);
	} catch (e) {
		state.trustWhy = reason(e);
		setMark($("trust-error"), false, say(state.trustWhy));
	}
	state.keyFp = k ? await fingerprint(k) : null;
	state.policyFp = p ? await fingerprint(p) : null;
	showTrust();
}

function showTrust() {
	const k = state.logKey;
	$("fp-key").textContent = k ? `${k.name}+${k.id.toString(16).padStart(8, "0")} — ${t("fingerprint")} ${state.keyFp}` : t("none_pinned");
	const p = state.policy;
	$("fp-policy").textContent = p ? `${t("quorum")} ${p.quorum}, ${p.witnesses.size} ${t("witnesses")} — ${t("fingerprint")} ${state.policyFp}` : t("none_pinned");
	$("hdr-origin").textContent = k ? k.name : "";
	if (state.trustNote) $("trust-error").textContent = t(state.trustNote);
	else if (state.trustWhy) $("trust-error").textContent = say(state.trustWhy);
	if (!k || !p) $("trust-edit").open = true;
}

async function pinTrust(ev) {
	ev.preventDefault();
	const k = $("vkey").value.trim();
	const p = $("policy").value.replace(/\r\n/g, "\n");
	$("trust-error").textContent = "";
	try {
		await parseVerifierKey(k);
		await parsePolicy(p);
	} catch (e) {
		state.trustNote = null;
		state.trustWhy = reason(e);
		setMark($("trust-error"), false, say(state.trustWhy));
		return;
	}
	state.trustWhy = null;
	if (k !== localStorage.getItem(LS_KEY)) localStorage.removeItem(LS_LAST);
	localStorage.setItem(LS_KEY, k);
	localStorage.setItem(LS_POLICY, p);
	await loadTrust();
	state.trustNote = "pinned_ok";
	setMark($("trust-error"), true, t("pinned_ok"));
	$("trust-edit").open = false;
	refreshStatus();
}

function loadFile(input, target) {
	input.addEventListener("change", async () => {
		const f = input.files[0];
		if (f) target.value = await f.text();
	});
}

// ---- sign-in ----

function showSignin() {
	const token = sessionStorage.getItem(SS_TOKEN);
	const cert = sessionStorage.getItem(SS_CERT);
	$("signin-state").textContent = token ? t("signed_token") : cert ? t("signed_cert") : t("signed_out");
	$("signout").hidden = !(token || cert);
}

function signedIn() {
	return !!(sessionStorage.getItem(SS_TOKEN) || sessionStorage.getItem(SS_CERT));
}

// ---- checkpoints: signature, policy, consistency with what this browser saw ----

let monitorChain = Promise.resolve();

/*
 * Verifies a checkpoint note fully: the log's signature by the pinned key,
 * the cosignatures against the pinned policy, and consistency with the last
 * checkpoint this browser verified (kept in localStorage).  Serialised, so
 * that two answers never race on the stored checkpoint.
 */
function checkCheckpoint(note) {
	const run = monitorChain.then(() => checkCheckpointNow(note));
	monitorChain = run.catch(() => {});
	return run;
}

async function checkCheckpointNow(note) {
	// why: a reason (R), said when shown.
	const out = { ok: false, sigOk: false, why: null, cp: null, result: null, cons: null, consOk: false };
	if (!state.logKey || !state.policy) {
		out.why = R("need_trust");
		return out;
	}
	try {
		out.result = await verifyCheckpoint(note, state.logKey, state.policy);
		out.cp = out.result.checkpoint;
		out.sigOk = true;
	} catch (e) {
		out.why = reason(e);
		banner(R("banner_key", out.why));
		return out;
	}
	try {
		out.cons = await consistentWithLast(out.cp);
		out.consOk = true;
	} catch (e) {
		// Kept as key and arguments: the status is shown again in the other language.
		out.cons = R("cons_bad", lastSeen()?.size ?? "?", reason(e));
		out.why = out.cons;
		banner(R("banner_cons", reason(e)));
		return out;
	}
	if (!out.result.quorumOk) {
		out.why = R("cosig_unmet", out.result.quorum);
		return out;
	}
	out.ok = true;
	return out;
}

function lastSeen() {
	try {
		const l = JSON.parse(localStorage.getItem(LS_LAST));
		return l && l.key === localStorage.getItem(LS_KEY) ? l : null;
	} catch (e) {
		return null;
	}
}

async function consistentWithLast(cp) {
	const last = lastSeen();
	const keep = () => localStorage.setItem(LS_LAST, JSON.stringify({
		key: localStorage.getItem(LS_KEY), size: cp.size, root: b64encode(cp.root), seen: Date.now(),
	}));
	if (!last) {
		keep();
		return R("cons_first");
	}
	const lastRoot = b64decode(last.root);
	if (cp.size === last.size) {
		if (!equalBytes(cp.root, lastRoot)) throw new VerifyError("split_view");
		return R("cons_same", cp.size);
	}
	const [from, to, fromRoot, toRoot] = cp.size > last.size ?
		[last.size, cp.size, lastRoot, cp.root] : [cp.size, last.size, cp.root, lastRoot];
	const proof = await api(`/v1/proof/consistency?from=${from}&to=${to}`);
	if (proof.from !== from || proof.to !== to) throw new VerifyError("cons_sizes");
	await verifyConsistency(from, to, fromRoot, toRoot, proof.hashes);
	if (cp.size > last.size) keep();
	return R("cons_ok", from, to);
}

function banner(why) {
	state.banner = why;
	const b = $("banner");
	b.textContent = say(why);
	b.hidden = false;
}

function ago(ms) {
	const s = Math.max(0, Math.round(ms / 1000));
	if (s < 120) return `${s} s`;
	if (s < 7200) return `${Math.round(s / 60)} min`;
	if (s < 172800) return `${Math.round(s / 3600)} h`;
	return `${Math.round(s / 86400)} d`;
}

async function refreshStatus() {
	if (!state.logKey || !state.policy) {
		showStatus({ note: null, check: { ok: false, why: R("need_trust") } });
		return;
	}
	let note;
	try {
		note = await api("/checkpoint", { text: true });
	} catch (e) {
		showStatus({ note: null, check: { ok: false, why: reason(e) } });
		return;
	}
	showStatus({ note, check: await checkCheckpoint(note) });
}

function showStatus(st) {
	state.lastStatus = st;
	const c = st.check;
	setMark($("st-verdict"), c.ok, c.ok ? t("st_ok") : `${t("st_bad")}: ${say(c.why)}`);
	$("st-size").textContent = c.cp ? `${c.cp.size} ${t("entries")}` : "—";
	if (c.sigOk) setMark($("st-sig"), true, t("sig_ok"));
	else setMark($("st-sig"), st.note ? false : null, st.note ? say(c.why) : "—");
	const cos = $("st-cosig");
	cos.textContent = "";
	cos.classList.remove("ok", "bad");
	if (c.result) {
		const r = c.result;
		const head = el("span", {
			class: r.quorumOk ? "ok" : "bad",
			text: r.quorum === "none" ? t("cosig_none_needed", r.cosignatures.length) :
				t(r.quorumOk ? "cosig_met" : "cosig_unmet", r.quorum),
		});
		const list = el("ul", { class: "cosigs" });
		for (const s of r.cosignatures) {
			const when = s.time ? new Date(s.time * 1000).toISOString() : "";
			list.append(el("li", { class: s.ok ? "ok" : "bad", text: t("cosig_from", s.witness, s.ok ? `✓ ${when}` : `✗ ${say(s.reason)}`) }));
		}
		cos.append(head, list);
		const times = r.cosignatures.filter((s) => s.ok && s.time).map((s) => s.time * 1000);
		const last = lastSeen();
		$("st-age").textContent = times.length ? t("age_cosig", ago(Date.now() - Math.max(...times))) :
			last && c.cp && last.size === c.cp.size ? t("age_seen", ago(Date.now() - last.seen)) : "—";
	} else {
		cos.textContent = "—";
		$("st-age").textContent = "—";
	}
	if (c.cons) setMark($("st-cons"), c.consOk, say(c.cons));
	else setMark($("st-cons"), null, "—");
}

// ---- searches ----

function kind() {
	return document.querySelector("input[name=kind]:checked").value;
}

function showKindFields() {
	const k = kind();
	for (const d of document.querySelectorAll("[data-kind]")) d.hidden = !d.dataset.kind.split(" ").includes(k);
}

function buildQuery() {
	const k = kind();
	const q = { kind: k, purpose: $("q-purpose").value.trim(), since: $("q-since").value.trim(), until: $("q-until").value.trim() };
	const need = (id, label) => {
		const v = $(id).value.trim();
		if (!v) {
			$(id).focus();
			throw new Error(t("err_field", t(label).toLowerCase()));
		}
		return v;
	};
	if (k === "subject") q.subject = need("q-subject", "f_subject");
	if (k === "actor") {
		q.org = need("q-org", "f_org");
		q.user = need("q-user", "f_user");
	}
	if (k === "object") q.ref = need("q-ref", "f_ref");
	if (!q.purpose) {
		$("q-purpose").focus();
		throw new Error(t("err_purpose"));
	}
	return q;
}

function queryPath(q, cursor) {
	const p = new URLSearchParams();
	p.set("purpose", q.purpose);
	const enc = encodeURIComponent;
	let path;
	if (q.kind === "object") {
		path = `/v1/provenance/objects/${enc(q.ref)}`;
	} else {
		if (q.since) p.set("since", q.since);
		if (q.until) p.set("until", q.until);
		if (cursor) p.set("cursor", cursor);
		path = q.kind === "subject" ? `/v1/provenance/subjects/${enc(q.subject)}` :
			`/v1/provenance/actors/${enc(q.org)}/${enc(q.user)}`;
	}
	return `${path}?${p}`;
}

async function search(ev) {
	ev.preventDefault();
	$("search-error").textContent = "";
	let q;
	try {
		if (!state.logKey || !state.policy) throw new Error(t("need_trust"));
		if (!signedIn()) throw new Error(t("need_signin"));
		q = buildQuery();
	} catch (e) {
		$("search-error").textContent = e.message;
		return;
	}
	state.query = q;
	state.rows = [];
	state.pages = [];
	state.page = 0;
	state.edges = null;
	state.sortKey = "seq";
	state.sortDir = 1;
	state.subjectToken = null;
	state.exportState = null;
	setMark($("export-state"), null, "");
	await fetchPage(null);
	if (state.pages.length === 0) {
		// Refused or failed: the reason stands in red above; no empty answer
		// (and no export of a search that was not answered).
		state.query = null;
		$("results").hidden = true;
		$("search-error").focus();
		return;
	}
	$("results").hidden = false;
	$("results").focus();
}

async function fetchPage(cursor) {
	const q = state.query;
	$("search-go").disabled = true;
	$("res-summary").textContent = t("searching");
	try {
		const answer = await api(queryPath(q, cursor));
		await takeAnswer(answer);
	} catch (e) {
		$("search-error").textContent = say(reason(e));
	} finally {
		$("search-go").disabled = false;
	}
	renderResults();
	refreshStatusFromAnswer();
}

/*
 * A page of an answer: its checkpoint is verified first; a row is verified
 * only when its proof holds against a checkpoint that holds, and its entry
 * is what was asked for.
 */
async function takeAnswer(answer) {
	const check = await checkCheckpoint(answer.checkpoint);
	const page = { check, audit_seq: answer.audit_seq, tree_size: answer.tree_size };
	state.pages.push(page);
	state.lastAnswerCheck = { note: answer.checkpoint, check };
	if (answer.subject_token) state.subjectToken = answer.subject_token;
	state.next = answer.next_cursor ?? null;
	if (answer.edges) {
		state.edges = answer.edges;
		state.truncated = !!answer.truncated;
	}
	const q = state.query;
	let prevSeq = -1;
	const lineage = new Set();
	for (const ev of answer.events) {
		const row = { seq: ev.seq, raw: ev.entry, entry: null, ok: false, why: null, page };
		try {
			row.entry = JSON.parse(ev.entry);
		} catch (e) { /* shown as unreadable */ }
		try {
			if (!check.cp) throw new VerifyError("row_cp", check.why);
			if (answer.tree_size !== check.cp.size) throw new VerifyError("row_size");
			const entry = await verifyEvent(ev, check.cp);
			row.entry = entry;
			if (!(ev.seq > prevSeq)) throw new VerifyError("row_seq_order");
			prevSeq = ev.seq;
			if (q.kind === "subject" && !(entry.subjects || []).includes(answer.subject_token))
				throw new VerifyError("row_not_subject");
			if (q.kind === "actor" && (entry.actor?.org !== q.org || entry.actor?.user !== q.user))
				throw new VerifyError("row_not_user");
			if (q.kind === "object") lineage.add(entry.seq);
			if (!check.ok) throw new VerifyError("row_cp_fails", check.why);
			row.ok = true;
		} catch (e) {
			row.why = reason(e);
		}
		state.rows.push(row);
	}
	if (q.kind === "object") {
		// Every entry is a root (its object.ref is the item) or rests, by an
		// edge the entry's own refs confirm, on an entry of the graph.
		const bySeq = new Map(state.rows.map((r) => [r.seq, r]));
		for (const r of state.rows) {
			if (!r.ok) continue;
			const isRoot = r.entry.object?.ref === q.ref;
			const parents = (state.edges || []).filter(([, to]) => to === r.seq);
			const confirmed = parents.every(([from]) => (r.entry.refs || []).includes(from) && bySeq.has(from));
			if (!confirmed || (!isRoot && parents.length === 0)) {
				r.ok = false;
				r.why = R("r_row_not_lineage");
			}
		}
	}
}

function refreshStatusFromAnswer() {
	if (state.lastAnswerCheck) showStatus(state.lastAnswerCheck);
}

// ---- the timeline table ----

const COLUMNS = [
	["ok", "c_ver"], ["seq", "c_seq"], ["time", "c_time"], ["type", "c_type"], ["org", "c_org"],
	["user", "c_user"], ["recipients", "c_recipients"], ["purpose", "c_purpose"],
	["basis", "c_basis"], ["item", "c_item"],
];

function cell(row, key) {
	const e = row.entry || {};
	switch (key) {
	case "ok": return row.ok ? 1 : 0;
	case "seq": return row.seq;
	case "time": return e.occurred_at || e.received_at || "";
	case "type": return e.type || "";
	case "org": return e.actor?.org || "";
	case "user": return e.actor?.user || "";
	case "recipients": return (e.recipients || []).join(", ");
	case "purpose": return e.purpose || "";
	case "basis": return e.legal_basis || "";
	case "item": return e.object?.ref || "";
	}
	return "";
}

function sortedRows() {
	const k = state.sortKey;
	const d = state.sortDir;
	return state.rows.slice().sort((a, b) => {
		const x = cell(a, k);
		const y = cell(b, k);
		const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
		return c !== 0 ? c * d : (a.seq - b.seq);
	});
}

function renderTable() {
	const head = document.querySelector("#timeline thead tr");
	head.textContent = "";
	for (const [key, label] of COLUMNS) {
		const sorted = state.sortKey === key;
		const th = el("th", { scope: "col", "aria-sort": sorted ? (state.sortDir > 0 ? "ascending" : "descending") : "none" });
		th.append(el("button", {
			type: "button", class: "sort", "aria-label": t("sort_by", t(label)),
			onclick: () => {
				state.sortDir = state.sortKey === key ? -state.sortDir : 1;
				state.sortKey = key;
				state.page = 0;
				renderTable();
				document.querySelector(`#timeline th button[data-key=${key}]`).focus();
			},
			"data-key": key,
		}, t(label), el("span", { class: "arrow", "aria-hidden": "true", text: sorted ? (state.sortDir > 0 ? " ▲" : " ▼") : "" })));
		head.append(th);
	}
	const body = document.querySelector("#timeline tbody");
	body.textContent = "";
	const rows = sortedRows();
	const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
	state.page = Math.min(state.page, pages - 1);
	// Every row is in the table; those off the page show in print only, so
	// that a printed answer for a case file is whole.
	const lo = state.page * PAGE_ROWS, hi = lo + PAGE_ROWS;
	if (rows.length === 0)
		body.append(el("tr", {}, el("td", { colspan: COLUMNS.length, text: t("empty") })));
	for (const [i, r] of rows.entries()) {
		const off = i < lo || i >= hi ? " off-page" : "";
		const tr = el("tr", { class: (r.ok ? "row-ok" : "row-bad") + off, "data-seq": r.seq });
		for (const [key] of COLUMNS) {
			let td;
			if (key === "ok") {
				td = el("td", { class: r.ok ? "mark ok" : "mark bad" },
					el("span", { "aria-hidden": "true", text: r.ok ? "✓ " : "✗ " }),
					r.ok ? t("verified") : `${t("not_verified")}: ${say(r.why)}`);
			} else if (key === "type") {
				const ty = cell(r, key);
				td = el("td", {}, el("span", { class: `type type-${ty}`, text: t(`t_${ty}`) }));
			} else if (key === "item" && cell(r, key)) {
				const ref = cell(r, key);
				td = el("td", {}, el("span", { class: "ref", text: ref }), " ",
					el("button", { type: "button", class: "small no-print", "aria-label": t("lineage_of", ref), onclick: () => showLineageOf(ref), text: "⤳" }));
			} else if (key === "time") {
				td = el("td", { class: "nowrap", title: `received_at ${r.entry?.received_at || ""}`, text: cell(r, key) });
			} else if (key === "seq") {
				td = el("td", { class: "nowrap", text: String(cell(r, key)) });
			} else {
				td = el("td", { text: String(cell(r, key)) });
			}
			tr.append(td);
		}
		body.append(tr);
	}
	$("pg-info").textContent = t("page", state.page + 1, pages);
	$("pg-prev").disabled = state.page === 0;
	$("pg-next").disabled = state.page >= pages - 1;
	$("pg-more").hidden = !state.next;
}

function renderResults() {
	const q = state.query;
	const ok = state.rows.filter((r) => r.ok).length;
	const last = state.pages[state.pages.length - 1];
	$("res-summary").textContent = last ? t("res_summary", state.rows.length, ok, state.rows.length - ok, state.pages.map((p) => p.audit_seq).join(", #")) : "";
	const cpLine = $("res-checkpoint");
	if (last) setMark(cpLine, last.check.ok, t("res_cp", last.tree_size, last.check.ok ? t("st_ok") : `${t("st_bad")}: ${say(last.check.why)}`));
	renderTable();
	renderChart();
	$("lineage-box").hidden = !(q && q.kind === "object" && state.edges);
	if (q && q.kind === "object" && state.edges) renderLineage();
	renderExport();
	$("print-foot").textContent = t("printed", new Date().toISOString());
}

// ---- the chart: one lane per organisation, one mark per event, by type ----

const TYPE_COLOURS = { share: "#1d5fa8", query: "#b35900", advice: "#6a3d9a", audit: "#555555", export: "#555555" };

function mark(type, x, y) {
	const c = TYPE_COLOURS[type] || "#333";
	if (type === "query") return svg("rect", { x: x - 5, y: y - 5, width: 10, height: 10, fill: c });
	if (type === "advice") return svg("path", { d: `M${x},${y - 7} L${x + 7},${y + 5} L${x - 7},${y + 5} Z`, fill: c });
	return svg("circle", { cx: x, cy: y, r: 6, fill: c });
}

function renderChart() {
	const box = $("chart");
	box.textContent = "";
	const rows = state.rows.filter((r) => r.entry);
	if (rows.length === 0) return;
	const time = (r) => Date.parse(r.entry.occurred_at || r.entry.received_at);
	const orgs = [...new Set(rows.map((r) => r.entry.actor?.org || "?"))].sort();
	const t0 = Math.min(...rows.map(time));
	const t1 = Math.max(...rows.map(time));
	const span = Math.max(1, t1 - t0);
	const W = 900, left = 110, right = 30, top = 30, lane = 34;
	const H = top + lane * orgs.length + 50;
	const x = (ms) => left + (W - left - right) * (ms - t0) / span;
	const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", class: "chart",
		"aria-label": t("chart_label", rows.length, orgs.length, new Date(t0).toISOString(), new Date(t1).toISOString()) });
	s.append(svg("title", {}, t("chart_h")));
	orgs.forEach((o, i) => {
		const y = top + lane * i + lane / 2;
		s.append(svg("line", { x1: left, x2: W - right, y1: y, y2: y, stroke: "#c8c8c8", "stroke-width": 1 }));
		s.append(svg("text", { x: left - 10, y: y + 5, "text-anchor": "end", "font-size": 14, fill: "#1a1a1a" }, o));
	});
	const axisY = top + lane * orgs.length + 8;
	s.append(svg("line", { x1: left, x2: W - right, y1: axisY, y2: axisY, stroke: "#1a1a1a" }));
	for (let i = 0; i <= 4; i++) {
		const ms = t0 + span * i / 4;
		const tx = x(ms);
		s.append(svg("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + 5, stroke: "#1a1a1a" }));
		s.append(svg("text", { x: tx, y: axisY + 20, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", "font-size": 12, fill: "#1a1a1a" },
			new Date(ms).toISOString().slice(0, 16).replace("T", " ")));
	}
	for (const r of rows) {
		const y = top + lane * orgs.indexOf(r.entry.actor?.org || "?") + lane / 2;
		const m = mark(r.entry.type, x(time(r)), y);
		if (!r.ok) {
			m.setAttribute("stroke", "#c00000");
			m.setAttribute("stroke-width", "3");
		}
		m.append(svg("title", {}, `#${r.seq} ${t(`t_${r.entry.type}`)} ${r.entry.actor?.org}/${r.entry.actor?.user} ${r.entry.occurred_at}${r.ok ? "" : ` — ${t("not_verified")}`}`));
		s.append(m);
	}
	// Legend.
	let lx = left;
	for (const ty of ["share", "query", "advice"]) {
		s.append(mark(ty, lx + 6, 12));
		s.append(svg("text", { x: lx + 18, y: 17, "font-size": 13, fill: "#1a1a1a" }, t(`t_${ty}`)));
		lx += 110;
	}
	box.append(s);
}

// ---- the lineage graph: columns by depth, arrows from an entry to what rests on it ----

async function showLineageOf(ref) {
	const purpose = state.query?.purpose || $("q-purpose").value.trim();
	document.querySelector("input[name=kind][value=object]").checked = true;
	showKindFields();
	$("q-ref").value = ref;
	$("q-purpose").value = purpose;
	$("search-form").requestSubmit();
}

function renderLineage() {
	const box = $("lineage");
	box.textContent = "";
	const rows = state.rows.filter((r) => r.entry);
	const bySeq = new Map(rows.map((r) => [r.seq, r]));
	const edges = (state.edges || []).filter(([a, b]) => bySeq.has(a) && bySeq.has(b));
	const depth = new Map();
	for (const r of rows.slice().sort((a, b) => a.seq - b.seq)) {
		// Refs point backwards, so parents come first in seq order.
		const parents = edges.filter(([, to]) => to === r.seq).map(([from]) => depth.get(from) ?? 0);
		depth.set(r.seq, parents.length ? Math.max(...parents) + 1 : 0);
	}
	const cols = [];
	for (const r of rows) (cols[depth.get(r.seq)] ||= []).push(r);
	const nodeW = 190, nodeH = 54, gapX = 70, gapY = 18, pad = 16;
	const H = pad * 2 + 24 + Math.max(...cols.map((c) => c.length)) * (nodeH + gapY);
	const W = pad * 2 + cols.length * (nodeW + gapX) - gapX;
	const pos = new Map();
	cols.forEach((c, i) => c.sort((a, b) => a.seq - b.seq).forEach((r, j) => {
		pos.set(r.seq, { x: pad + i * (nodeW + gapX), y: pad + j * (nodeH + gapY) });
	}));
	const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: Math.min(W, 1100), role: "group", class: "lineage",
		"aria-label": t("lineage_of", state.query.ref) });
	const defs = svg("defs");
	const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" });
	marker.append(svg("path", { d: "M0,0 L10,5 L0,10 Z", fill: "#1a1a1a" }));
	defs.append(marker);
	s.append(defs);
	// The roots share the item: one dashed frame, labelled with its ref.
	const roots = rows.filter((r) => r.entry.object?.ref === state.query.ref);
	if (roots.length) {
		const ys = roots.map((r) => pos.get(r.seq).y);
		const x0 = Math.min(...roots.map((r) => pos.get(r.seq).x));
		s.append(svg("rect", { x: x0 - 8, y: Math.min(...ys) - 8, width: nodeW + 16,
			height: Math.max(...ys) - Math.min(...ys) + nodeH + 16, rx: 8, fill: "none",
			stroke: "#4a4a4a", "stroke-dasharray": "5 4" }));
		s.append(svg("text", { x: x0 - 6, y: H - 8, "font-size": 12, fill: "#4a4a4a" },
			`${t("item_frame")}: ${state.query.ref}`.slice(0, 40)));
	}
	for (const [a, b] of edges) {
		const p = pos.get(a), q = pos.get(b);
		s.append(svg("path", {
			d: `M${p.x + nodeW},${p.y + nodeH / 2} C${p.x + nodeW + gapX / 2},${p.y + nodeH / 2} ${q.x - gapX / 2},${q.y + nodeH / 2} ${q.x},${q.y + nodeH / 2}`,
			fill: "none", stroke: "#1a1a1a", "stroke-width": 1.5, "marker-end": "url(#arrow)",
		}));
	}
	for (const r of rows) {
		const p = pos.get(r.seq);
		const e = r.entry;
		const label = `#${r.seq} ${t(`t_${e.type}`)} ${e.actor?.org}/${e.actor?.user}, ${e.occurred_at}; ${r.ok ? t("verified") : `${t("not_verified")}: ${say(r.why)}`}`;
		const g = svg("g", { tabindex: 0, role: "img", "aria-label": label, class: `node ${r.ok ? "ok" : "bad"}` });
		g.append(svg("title", {}, label));
		g.append(svg("rect", { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 6, fill: "#ffffff",
			stroke: r.ok ? (TYPE_COLOURS[e.type] || "#333") : "#c00000", "stroke-width": r.ok ? 2 : 4 }));
		g.append(svg("text", { x: p.x + 10, y: p.y + 22, "font-size": 14, "font-weight": "bold", fill: TYPE_COLOURS[e.type] || "#333" },
			`${r.ok ? "✓" : "✗"} #${r.seq} ${t(`t_${e.type}`)}`));
		g.append(svg("text", { x: p.x + 10, y: p.y + 42, "font-size": 13, fill: "#1a1a1a" },
			`${e.actor?.org}/${e.actor?.user}`.slice(0, 26)));
		s.append(g);
	}
	box.append(s);
	$("lineage-summary").textContent = t("lineage_summary", rows.length, edges.length, state.truncated ? t("truncated") : "");
}

// ---- export: the compliance bundle of spec §8, made and verified here ----

const PUBLISH_WAIT_MS = 60000;	// as ledgerctl: the longest wait for a checkpoint
const PROOF_FETCHES = 6;	// inclusion proofs (or opened values) asked for at once

/* The export of the search: its filters, as the search asked (spec §7.9). */
function exportPath(q) {
	const p = new URLSearchParams();
	p.set("purpose", q.purpose);
	if (q.kind === "object") {
		// A lineage takes no time bounds; its depth is the server's default,
		// as in the lineage answer above.
		p.set("object", q.ref);
	} else {
		if (q.since) p.set("since", q.since);
		if (q.until) p.set("until", q.until);
	}
	if (q.kind === "subject") p.set("subject", q.subject);
	if (q.kind === "actor") {
		p.set("org", q.org);
		p.set("user", q.user);
	}
	p.set("format", "jsonl");
	return `/v1/export?${p}`;
}

/*
 * Whether the export entry's recorded filters are the search's, and every
 * exported entry matches them (spec §8.7, as ledgerctl verify-export
 * checks); throws VerifyError.  An object export's entries are its
 * lineage: each is about the item, or its refs name an entry exported
 * before it, at most depth levels below one that is.
 */
function checkExportClaim(q, filters, entries) {
	const claim = (name, ok) => {
		if (!ok) throw new VerifyError("bundle_claim", name);
	};
	if (q.kind === "subject") claim("subject", filters.subject_token === state.subjectToken);
	if (q.kind === "actor") {
		claim("org", filters.org === q.org);
		claim("user", filters.user === q.user);
	}
	if (q.kind === "object") {
		claim("object", filters.object === q.ref);
		claim("depth", Number.isSafeInteger(filters.depth) && filters.depth >= 0);
	}
	const level = new Map();	// seq -> depth below a root, object exports
	entries.forEach((e, i) => {
		let ok;
		if (q.kind === "subject") ok = (e.subjects || []).includes(state.subjectToken);
		else if (q.kind === "actor") ok = e.actor?.org === q.org && e.actor?.user === q.user;
		else {
			let d = e.object?.ref === q.ref ? 0 : Infinity;
			for (const from of e.refs || [])
				if (level.has(from)) d = Math.min(d, level.get(from) + 1);
			ok = d <= filters.depth;
			if (ok) level.set(e.seq, d);
		}
		if (!ok) throw new VerifyError("bundle_not_matching", i + 1, e.seq);
	});
}

function renderExport() {
	const q = state.query;
	if (!q) return;
	$("export").disabled = false;
	// One line each: what you get, what it proves, what not, how to check it.
	const what = q.kind === "subject" ? t("export_subject") :
		q.kind === "actor" ? t("export_actor", q.org, q.user) : t("export_object", q.ref);
	const list = $("export-what");
	list.textContent = "";
	for (const line of what.split("\n")) {
		const cut = line.indexOf(": ");
		list.append(cut < 0 ? el("li", { text: line }) :
			el("li", {}, el("strong", { text: line.slice(0, cut + 1) }), line.slice(cut + 1)));
	}
	if (state.exportState) setMark($("export-state"), state.exportState.ok, say(state.exportState.why));
}

/* The published checkpoint once it covers size entries (or the last one seen). */
async function checkpointCovering(size) {
	const start = Date.now();
	for (;;) {
		const note = await api("/checkpoint", { text: true });
		if (parseCheckpoint(parseNote(note).text).size >= size || Date.now() - start > PUBLISH_WAIT_MS)
			return note;
		await new Promise((done) => setTimeout(done, 250));
	}
}

/* The lines of a JSON-lines text, each ended by a newline. */
function jsonLines(text, file) {
	if (text !== "" && !text.endsWith("\n")) throw new VerifyError("bundle_cut", file);
	return text === "" ? [] : text.slice(0, -1).split("\n");
}

/*
 * Proves every line of file (its entries' texts) against the verified
 * checkpoint cp: seqs increasing and below bound, each leaf hash led to
 * the root by the inclusion proof the server gives (verified here, as
 * ledgerctl export verifies each proof before it writes it).  Returns the
 * parsed entries, the proofs' text (spec §8.3) and the CSV rows.
 */
async function proveLines(file, lines, cp, note, bound) {
	const entries = lines.map((line, i) => {
		try {
			return JSON.parse(line);
		} catch (e) {
			throw new VerifyError("bundle_not_entry", file, i + 1);
		}
	});
	let prev = -1;
	entries.forEach((e, i) => {
		if (!Number.isSafeInteger(e.seq) || e.seq <= prev || e.seq >= bound)
			throw new VerifyError("bundle_seq", file, i + 1, e.seq, bound);
		prev = e.seq;
	});
	const proofs = new Array(lines.length);
	const rows = new Array(lines.length);
	await inParallel(lines.length, async (i) => {
		const seq = entries[i].seq;
		try {
			const leaf = await leafHash(utf8(lines[i]));
			const p = await api(`/v1/proof/inclusion?index=${seq}&tree_size=${cp.size}`);
			await verifyInclusion(seq, cp.size, leaf, p.hashes, cp.root);
			proofs[i] = tlogProof(seq, p.hashes, note);
			rows[i] = csvRow(lines[i], leaf);
		} catch (e) {
			throw new VerifyError("bundle_proof", file, i + 1, seq, reason(e));
		}
	});
	return { entries, proofs: proofs.join(""), rows: rows.join("") };
}

/* job(i) for every i below count, PROOF_FETCHES at a time; the first failure stops them all. */
async function inParallel(count, job) {
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			try {
				await job(i);
			} catch (e) {
				next = count;	// the other workers stop too
				throw e;
			}
		}
	};
	await Promise.all(Array.from({ length: PROOF_FETCHES }, worker));
}

/*
 * opened.jsonl (spec §8.2a): for each entry that seals fields, in order,
 * its opened values (GET /v1/events/{seq}/opened, as ledgerctl export
 * asks), checked against the entry's commitments before they are written.
 * Destroyed and withheld markers are written as the server gave them.
 */
async function openedLines(entries) {
	const sealed = entries.filter((e) => Object.hasOwn(e, "sealed"));
	const lines = new Array(sealed.length);
	await inParallel(sealed.length, async (i) => {
		const seq = sealed[i].seq;
		let answer;
		try {
			answer = await api(`/v1/events/${seq}/opened`);
		} catch (e) {
			throw new VerifyError("bundle_opened", seq, reason(e));
		}
		try {
			await verifyOpened(sealed[i], answer.opened);
		} catch (e) {
			throw new VerifyError("bundle_opened_bad", reason(e));
		}
		lines[i] = openedLine(seq, answer.opened);
	});
	return lines.join("");
}

function download(bytes, name, type) {
	const url = URL.createObjectURL(new Blob([bytes], { type }));
	const a = el("a", { href: url, download: name });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/*
 * The export of the current search as the compliance bundle: the export
 * stream, the export entry, a checkpoint covering it that holds here
 * (pinned key, witness policy, consistency with what this browser saw),
 * every entry's inclusion proof verified, the claim of the export entry
 * checked against the search, then one tar file.  Nothing that did not
 * verify is offered: the reason is shown in red instead.
 */
async function doExport() {
	const q = state.query;
	state.exportState = null;
	setMark($("export-state"), null, t("exporting"));
	$("export").disabled = true;
	try {
		const res = await api(exportPath(q), { raw: true });
		const text = await res.text();
		const seq = Number(res.headers.get("X-Ledger-Export-Seq"));
		const range = /^(\d+)-(\d+)$/.exec(res.headers.get("X-Ledger-Export-Range") || "");
		if (!Number.isSafeInteger(seq) || !range) throw new VerifyError("bundle_headers");
		const lines = jsonLines(text, "entries.jsonl");
		const note = await checkpointCovering(seq + 1);
		const check = await checkCheckpoint(note);
		if (!check.ok) throw new VerifyError("row_cp", check.why);
		if (check.cp.size <= seq) throw new VerifyError("bundle_cp_small", check.cp.size, seq);
		// Every search the console exports has a filter (subject, user or
		// object): the context is the export entry alone (spec §8.4).
		const context = [await api(`/v1/events/${seq}`, { text: true })];
		const ent = await proveLines("entries.jsonl", lines, check.cp, note, seq);
		const ctx = await proveLines("context.jsonl", context, check.cp, note, check.cp.size);
		const opened = await openedLines(ent.entries);
		const exp = ctx.entries[0];
		if (exp.seq !== seq || exp.type !== "export") throw new VerifyError("bundle_not_export", seq);
		checkExportClaim(q, exp.details?.filters || {}, ent.entries);
		// The rows the answer above verified must be the very same bytes.
		const verified = new Map(state.rows.filter((r) => r.ok).map((r) => [r.seq, r.raw]));
		let same = 0;
		ent.entries.forEach((e, i) => {
			if (!verified.has(e.seq)) return;
			if (verified.get(e.seq) !== lines[i]) throw new VerifyError("bundle_differs", e.seq);
			same++;
		});
		const dir = `ledgerd-export-${seq}`;
		const files = {
			checkpoint: utf8(note),
			"context.jsonl": utf8(context.map((l) => `${l}\n`).join("")),
			"context.proofs": utf8(ctx.proofs),
			"entries.csv": utf8(CSV_HEADER + ent.rows),
			"entries.jsonl": utf8(text),
			"opened.jsonl": utf8(opened),
			proofs: utf8(ent.proofs),
		};
		download(await bundleTar(dir, files, Date.now() / 1000), `${dir}.tar`, "application/x-tar");
		const first = ent.entries[0]?.seq ?? "—", last = ent.entries[ent.entries.length - 1]?.seq ?? "—";
		state.exportState = { ok: true, why: R("export_done", `${dir}.tar`, lines.length, first, last, seq, check.cp.size, same, dir) };
	} catch (e) {
		state.exportState = { ok: false, why: R("export_failed", reason(e)) };
	} finally {
		$("export").disabled = false;
	}
	setMark($("export-state"), state.exportState.ok, say(state.exportState.why));
}

// ---- wiring ----

function init() {
	$("lang").addEventListener("click", () => {
		state.lang = state.lang === "nl" ? "en" : "nl";
		localStorage.setItem(LS_LANG, state.lang);
		applyLanguage();
	});
	$("print").addEventListener("click", () => window.print());
	$("signout").addEventListener("click", () => {
		sessionStorage.removeItem(SS_TOKEN);
		sessionStorage.removeItem(SS_CERT);
		showSignin();
	});
	$("trust-form").addEventListener("submit", pinTrust);
	loadFile($("vkey-file"), $("vkey"));
	loadFile($("policy-file"), $("policy"));
	$("vkey").value = localStorage.getItem(LS_KEY) || "";
	$("policy").value = localStorage.getItem(LS_POLICY) || "";
	$("signin-form").addEventListener("submit", (ev) => {
		ev.preventDefault();
		const tok = $("token").value.trim();
		if (!tok) return;
		sessionStorage.setItem(SS_TOKEN, tok);
		sessionStorage.removeItem(SS_CERT);
		$("token").value = "";
		showSignin();
	});
	$("use-cert").addEventListener("click", () => {
		sessionStorage.removeItem(SS_TOKEN);
		sessionStorage.setItem(SS_CERT, "1");
		showSignin();
	});
	$("refresh").addEventListener("click", refreshStatus);
	for (const r of document.querySelectorAll("input[name=kind]")) r.addEventListener("change", showKindFields);
	$("search-form").addEventListener("submit", search);
	$("pg-prev").addEventListener("click", () => { state.page--; renderTable(); });
	$("pg-next").addEventListener("click", () => { state.page++; renderTable(); });
	$("pg-more").addEventListener("click", () => fetchPage(state.next));
	$("export").addEventListener("click", doExport);
	showKindFields();
	loadTrust().then(() => {
		applyLanguage();
		refreshStatus();
	});
}

init();
