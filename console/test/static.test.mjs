// The console's own files hold to the daemon's Content-Security-Policy and
// to "no third-party anything": no inline script or style, no handler
// attributes, no address of another origin, every interface text in both
// languages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

import { TEXT } from "../js/i18n.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = ["index.html", "console.css", ...readdirSync(join(root, "js")).map((f) => `js/${f}`)];
const read = (f) => readFileSync(join(root, f), "utf8");

test("index.html: scripts and styles only from the daemon's own files", () => {
	const html = read("index.html");
	for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
		assert.match(m[1], /\bsrc="js\/[a-z0-9]+\.js"/, "a script without a src of its own");
		assert.equal(m[2].trim(), "", "an inline script");
	}
	assert.doesNotMatch(html, /<style\b/i, "an inline style element");
	assert.doesNotMatch(html, /\sstyle="/i, "a style attribute");
	assert.doesNotMatch(html, /\son[a-z]+="/i, "an inline event handler");
});

test("no file names another origin (no CDN, nothing fetched from outside)", () => {
	for (const f of files) {
		const text = read(f).replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "");
		assert.doesNotMatch(text, /\b(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, `${f} names another origin`);
		assert.doesNotMatch(text, /@import|url\(\s*["']?https?:/i, `${f} loads something`);
	}
});

test("the scripts never build code from text (CSP has no unsafe-eval) and never write HTML", () => {
	for (const f of files.filter((x) => x.endsWith(".js"))) {
		const js = read(f);
		assert.doesNotMatch(js, /\beval\(|new Function\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write/, f);
		assert.doesNotMatch(js, /setAttribute\(\s*["']style["']/, `${f} sets a style attribute (blocked by the CSP)`);
	}
});

test("every interface text exists in Dutch and in English, and every key used is defined", () => {
	assert.deepEqual(Object.keys(TEXT.nl).sort(), Object.keys(TEXT.en).sort());
	const html = read("index.html");
	for (const m of html.matchAll(/data-i18n="([a-z_]+)"/g)) assert.ok(m[1] in TEXT.nl, m[1]);
	const app = read("js/app.js");
	for (const m of app.matchAll(/\bt\("([a-z_]+)"/g)) assert.ok(m[1] in TEXT.nl, m[1]);
	for (const ty of ["share", "query", "advice", "audit", "export"]) assert.ok(`t_${ty}` in TEXT.nl);
});

test("every reason a check can give is said in Dutch and in English", () => {
	const codes = new Set();
	const verify = read("js/verify.js");
	for (const m of verify.matchAll(/\b(?:fail|bad|big\([a-zA-Z]+,)\s*\(?"([a-z0-9_]+)"/g)) codes.add(`r_${m[1]}`);
	const app = read("js/app.js");
	for (const m of app.matchAll(/new VerifyError\("([a-z0-9_]+)"/g)) codes.add(`r_${m[1]}`);
	for (const m of app.matchAll(/(?:\bR|new ApiError)\("([a-z0-9_]+)"/g)) codes.add(m[1]);
	assert.ok(codes.size > 60, `only ${codes.size} reasons found`);
	for (const c of codes) {
		assert.ok(c in TEXT.nl && c in TEXT.en, `${c} is not in both languages`);
		if (c.startsWith("r_") && !/^r_(row_cp|bundle_proof)$/.test(c))
			assert.notEqual(TEXT.nl[c], TEXT.en[c], `${c} is not translated`);
	}
});

// WCAG 2.1 relative luminance and contrast ratio of two #rrggbb colours.
function contrast(a, b) {
	const lum = (h) => {
		const [r, g, bl] = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255)
			.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
		return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
	};
	const [x, y] = [lum(a), lum(b)].sort((p, q) => p - q);
	return (y + 0.05) / (x + 0.05);
}

test("colours: text holds 4.5:1 (WCAG 2.1 AA) on its background, the focus ring 3:1", () => {
	const css = read("console.css");
	const v = Object.fromEntries([...css.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})/g)].map((m) => [m[1], m[2]]));
	const white = "#ffffff";
	const text = [
		[v.ink, white], [v.muted, white], [v.ok, v["ok-bg"]], [v.bad, v["bad-bg"]], [v.ok, white],
		[v.bad, white], [v.accent, white], [white, v.accent], [white, v.bad], [white, "#6b6b6b"],
		[v.ink, "#eef1f5"], [v.ink, v["bad-bg"]], [v.muted, v["bad-bg"]],
	];
	// The type colours of the table (css) and the chart (app.js), on white and on a red row.
	for (const m of css.matchAll(/\.type-[a-z]+ \{ color: (#[0-9a-f]{6})/g)) text.push([m[1], white], [m[1], v["bad-bg"]]);
	const app = read("js/app.js");
	const types = /TYPE_COLOURS = \{([^}]*)\}/.exec(app)[1];
	for (const m of types.matchAll(/#[0-9a-f]{6}/g)) text.push([m[0], white]);
	for (const [fg, bg] of text) assert.ok(contrast(fg, bg) >= 4.5, `${fg} on ${bg}: ${contrast(fg, bg).toFixed(2)}`);
	// The focus ring: its dark ring on white, its yellow one on the blue header.
	assert.ok(contrast(v.ink, white) >= 3 && contrast(v.focus, v.accent) >= 3);
	assert.match(css, /:focus-visible \{ outline: 3px solid var\(--ink\)/);
});
