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
